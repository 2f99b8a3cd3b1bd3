"""The TiDB Cloud emulator's data: an organization computed record by record from a seed.

Nothing is stored: every record is a pure function of (seed, kind, index) and of two clocks, the
initial data time `t0` (creation times are anchored to it, so counts at construction depend only on
seed and scale) and the current data time (records appear up to it, states change with the day).
The few small indexes kept in memory (cluster kinds, project offsets) are proportional to the number
of clusters; audit logs, backups and bills are never materialised as a whole.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from fleetlake.emulators.seeded import mix, rng, weighted
from fleetlake.emulators.tidb_cloud import catalog
from fleetlake.emulators.tidb_cloud.catalog import Region, ServicePath

DAY = 86_400
HOUR = 3_600


class IdSpace:
    """Maps record indexes to uint64-looking ids and back, by an invertible scrambling permutation."""

    BASE = 1_300_000_000_000_000_000
    BITS = 56
    MOD = 1 << BITS
    HALF = BITS // 2

    def __init__(self, seed: int, kind: str) -> None:
        self._mult = mix(seed, "id-mult", kind) % self.MOD | 1
        self._mult2 = mix(seed, "id-mult2", kind) % self.MOD | 1
        self._offset = mix(seed, "id-offset", kind) % self.MOD
        self._inverse = pow(self._mult, -1, self.MOD)
        self._inverse2 = pow(self._mult2, -1, self.MOD)

    def encode(self, index: int) -> str:
        """The id of record `index`."""
        # affine map, xor-shift, multiply, xor-shift: each step is invertible modulo 2**56
        x = (index * self._mult + self._offset) % self.MOD
        x ^= x >> self.HALF
        x = x * self._mult2 % self.MOD
        x ^= x >> self.HALF
        return str(self.BASE + x)

    def decode(self, text: str) -> int | None:
        """The index an id encodes, or None when it is not an id of this space."""
        if not (text.isascii() and text.isdigit()) or len(text) > 20:
            return None
        x = int(text) - self.BASE
        if not 0 <= x < self.MOD:
            return None
        x ^= x >> self.HALF
        x = x * self._inverse2 % self.MOD
        x ^= x >> self.HALF
        return (x - self._offset) * self._inverse % self.MOD


LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class TiDBScale:
    """How big the emulated organization is."""

    projects: int = 3
    clusters_per_project: tuple[int, int] = (3, 5)
    """Inclusive range; the first cluster of a project is Dedicated, the second Starter/Essential."""
    audit_logs: int = 400
    """Audit log entries at construction, spread evenly over `audit_log_days` up to the initial time."""
    audit_log_days: int = 30
    members: int = 8
    extra_api_keys: int = 2
    """API keys listed besides the ones the emulator accepts."""
    cluster_age_days: tuple[int, int] = (40, 420)
    billed_clusters: int | None = None
    """Only the first N clusters appear in billing (None: all), keeping large bills a sane size."""

    def __post_init__(self) -> None:
        low, high = self.clusters_per_project
        if self.projects < 1 or not 2 <= low <= high:
            raise ValueError("a scale needs at least one project and at least 2 clusters per project")
        if self.cluster_age_days[0] < 22 or self.cluster_age_days[0] > self.cluster_age_days[1]:
            raise ValueError("cluster ages must be at least 22 days (backup history needs them)")
        if self.audit_logs < 1 or self.audit_log_days < 1 or self.members < 1:
            raise ValueError("a scale needs audit logs, an audit period and members")


SCALES: Mapping[str, TiDBScale] = {
    "demo": TiDBScale(),
    # a fleet of some 250 clusters: enough children that latency, not fixed costs, sets a sync's time
    "medium": TiDBScale(projects=25, clusters_per_project=(8, 12)),
    "large": TiDBScale(
        projects=40,
        clusters_per_project=(60, 140),
        audit_logs=1_000_000,
        audit_log_days=180,
        members=250,
        extra_api_keys=10,
        billed_clusters=250,
    ),
}


@dataclass(frozen=True)
class Project:
    """A project: its clusters are the global indexes [first_cluster, first_cluster + cluster_count)."""

    index: int
    id: str
    name: str
    created: int
    first_cluster: int
    cluster_count: int


@dataclass(frozen=True)
class Cluster:
    """The clock-independent facts of one cluster (Dedicated, or Starter/Essential)."""

    index: int
    id: str
    project: int
    dedicated: bool
    name: str
    region: Region
    created: int
    creator: str
    version: str
    """Without the leading v: `8.1.2`."""
    host_tag: str
    tidb_spec: str
    tidb_nodes: int
    tikv_spec: str
    tikv_nodes: int
    tikv_storage: int
    tiflash_spec: str | None
    tiflash_nodes: int
    tiflash_storage: int
    plan: str
    """Starter or Essential for serverless clusters, "" for Dedicated."""
    spending_limit_cents: int
    min_rcu: int
    max_rcu: int
    regional_ha: bool
    user_prefix: str
    backup_start: int
    """Time of the first daily automatic backup (Dedicated), anchored to t0."""
    manual_backups: tuple[int, ...]
    imports: int
    integrations: tuple[str, ...]
    branches: int
    exports: int
    paths: tuple[ServicePath, ...]
    """The billing lines this cluster is charged on."""


@dataclass(frozen=True)
class Backup:
    """One backup of a Dedicated cluster."""

    id: str
    auto: bool
    number: int
    """The n-th automatic backup, or the n-th manual one."""
    time: int
    size: int


@dataclass(frozen=True)
class Restore:
    """One restore task of a project: a backup of one of its Dedicated clusters, restored to a new one."""

    number: int
    id: str
    created: int
    backup_id: str
    source: Cluster
    restored_id: str
    failed: bool


@dataclass(frozen=True)
class ImportTask:
    """One data import into a cluster, shown by v1beta and by the Dedicated or Starter v1beta1 API."""

    number: int
    id: str
    cluster: int
    name: str
    created: int
    completed: int
    state: str
    """COMPLETED, FAILED or CANCELED."""
    file_type: str
    source_type: str
    """S3 or GCS."""
    uri: str
    role_arn: str
    """Empty when the task reads S3 with an access key instead of a role."""
    access_key_id: str
    size: int
    tables: tuple[tuple[str, str], ...]
    error: str
    creator: str


@dataclass(frozen=True)
class Member:
    """A member of the organization."""

    index: int
    user_id: str
    first_name: str
    last_name: str
    email: str
    org_role: str
    project_roles: tuple[tuple[str, int], ...]
    """(role, project index) pairs."""
    instance_roles: tuple[tuple[str, int], ...]
    """(role, cluster index) pairs."""
    active: bool
    invited: int
    last_login: int | None


DEDICATED_STATES = (
    ("ACTIVE", 84),
    ("PAUSED", 8),
    ("MODIFYING", 4),
    ("UPGRADING", 2),
    ("IMPORTING", 2),
)
SERVERLESS_STATES = (("ACTIVE", 97), ("RESTORING", 3))
AUDIT_WEIGHTS = (
    ("Login", 30),
    ("Logout", 8),
    ("UpdateCluster", 10),
    ("CreateBackup", 8),
    ("UpdateIPAccessList", 6),
    ("PauseCluster", 5),
    ("ResumeCluster", 5),
    ("CreateCluster", 4),
    ("DownloadBill", 4),
    ("InviteUser", 4),
    ("UpdateUserRole", 4),
    ("RestoreBackup", 3),
    ("CreateApiKey", 3),
    ("DeleteApiKey", 2),
    ("DeleteCluster", 2),
    ("CreateProject", 2),
)


class TiDBData:
    """The emulated organization for one seed, scale and initial time."""

    def __init__(self, seed: int, scale: TiDBScale, t0: int) -> None:
        self.seed = seed
        self.scale = scale
        self.t0 = t0
        self.org_id = IdSpace(seed, "org").encode(0)
        self.org_name = catalog.ORG_NAMES[mix(seed, "org-name") % len(catalog.ORG_NAMES)]
        self.org_domain = catalog.ORG_DOMAINS[mix(seed, "org-name") % len(catalog.ORG_DOMAINS)]
        self.project_ids = IdSpace(seed, "project")
        self.cluster_ids = IdSpace(seed, "cluster")
        self.backup_ids = IdSpace(seed, "backup")
        self.restore_ids = IdSpace(seed, "restore")
        self.import_ids = IdSpace(seed, "import")
        self.integration_ids = IdSpace(seed, "integration")
        self.audit_ids = IdSpace(seed, "audit")
        self.user_ids = IdSpace(seed, "user")
        self.token_secret = hashlib.sha256(f"fleetlake-tidb-emulator|{seed}".encode()).digest()

        low, high = scale.clusters_per_project
        self._sizes = [rng(seed, "project-size", p).randint(low, high) for p in range(scale.projects)]
        self._first_cluster = [0, *itertools.accumulate(self._sizes)][:-1]
        total = sum(self._sizes)
        self.cluster_count = total
        # the only per-cluster index kept in memory: which clusters are Dedicated
        kinds = bytearray(total)
        for first, size in zip(self._first_cluster, self._sizes, strict=True):
            for j in range(size):
                g = first + j
                kinds[g] = 1 if j == 0 or (j > 1 and mix(seed, "cluster-kind", g) % 10 < 6) else 0
        self.dedicated_clusters: list[int] = [g for g in range(total) if kinds[g]]
        self.serverless_clusters: list[int] = [g for g in range(total) if not kinds[g]]
        self._kinds = bytes(kinds)

        step = scale.audit_log_days * DAY * 1000 // scale.audit_logs
        self.audit_step_ms = max(step, 1)
        self.audit_first_ms = t0 * 1000 - (scale.audit_logs - 1) * self.audit_step_ms

        self._changes: dict[int, tuple[int, int | None]] = {}
        self._changes_lock = threading.Lock()
        self.project = lru_cache(maxsize=1024)(self._project)
        self.cluster = lru_cache(maxsize=16_384)(self._changed_cluster)
        self._owner_changes: dict[int, dict[str, object]] = {}
        """What an owner changed per cluster (`change`): facts of `Cluster`, and `state`."""
        self.member = lru_cache(maxsize=4096)(self._member)

    # projects and clusters

    def _project(self, p: int) -> Project:
        r = rng(self.seed, "project", p)
        names = catalog.PROJECT_NAMES
        name = names[p] if p < len(names) else f"{names[p % len(names)]} {p // len(names) + 1}"
        created = self.t0 - (self.scale.cluster_age_days[1] + r.randint(5, 90)) * DAY - r.randint(0, DAY)
        return Project(p, self.project_ids.encode(p), name, created, self._first_cluster[p], self._sizes[p])

    def project_index(self, project_id: str) -> int | None:
        """The index of a project id, or None when there is no such project."""
        p = self.project_ids.decode(project_id)
        return p if p is not None and p < self.scale.projects else None

    def cluster_index(self, cluster_id: str) -> int | None:
        """The global index of a cluster id, or None when there is no such cluster."""
        g = self.cluster_ids.decode(cluster_id)
        return g if g is not None and g < self.cluster_count else None

    def is_dedicated(self, g: int) -> bool:
        """Whether cluster `g` is a Dedicated cluster (else Starter/Essential)."""
        return bool(self._kinds[g])

    def project_of(self, g: int) -> int:
        """The project index of cluster `g`."""
        return bisect.bisect_right(self._first_cluster, g) - 1

    def _cluster(self, g: int) -> Cluster:
        seed = self.seed
        r = rng(seed, "cluster", g)
        p = self.project_of(g)
        j = g - self._first_cluster[p]
        dedicated = self.is_dedicated(g)
        age = r.randint(*self.scale.cluster_age_days)
        created = self.t0 - age * DAY - r.randint(0, DAY - 1)
        name = f"{r.choice(catalog.ENVIRONMENTS)}-{r.choice(catalog.DOMAINS)}-{j + 1}"
        creator = self.member(r.randrange(min(self.scale.members, 6))).email
        regions = catalog.DEDICATED_REGIONS if dedicated else catalog.SERVERLESS_REGIONS
        region = regions[r.randrange(len(regions))]
        tidb = r.choice(("8C16G", "8C16G", "16C32G", "4C16G", "8C32G"))
        tikv = r.choice(("8C32G", "8C32G", "8C64G", "16C64G", "4C16G"))
        has_tiflash = dedicated and r.random() < 0.3
        tiflash = r.choice(("8C64G", "16C128G")) if has_tiflash else None
        plan = "" if dedicated else ("Essential" if r.random() < 0.25 else "Starter")
        window = r.randint(3, 20)
        backup_start = self.t0 - window * DAY - r.randint(0, 20 * HOUR)
        manual = sorted(r.randint(backup_start, self.t0 - HOUR) for _ in range(r.choice((0, 0, 1, 2))))
        imports = r.choice((0, 0, 0, 1, 1, 1, 2, 2, 3))
        if dedicated:
            kinds = ("DATADOG", "NEWRELIC", "PROMETHEUS")
            integrations = tuple(sorted(r.sample(kinds, r.choice((0, 1, 1, 2)))))
            paths = catalog.DEDICATED_PATHS + (catalog.TIFLASH_PATHS if has_tiflash else ())
        else:
            integrations = ()
            paths = catalog.ESSENTIAL_PATHS if plan == "Essential" else catalog.STARTER_PATHS
        return Cluster(
            index=g,
            id=self.cluster_ids.encode(g),
            project=p,
            dedicated=dedicated,
            name=name,
            region=region,
            created=created,
            creator=creator,
            version=r.choice(("8.1.2", "8.5.1", "7.5.6")) if dedicated else "7.5.2",
            host_tag=f"{r.getrandbits(32):08x}.{r.getrandbits(32):08x}",
            tidb_spec=tidb,
            tidb_nodes=r.choice((2, 2, 3, 4)),
            tikv_spec=tikv,
            tikv_nodes=r.choice((3, 3, 6)),
            tikv_storage=r.choice((500, 500, 1024, 2048)),
            tiflash_spec=tiflash,
            tiflash_nodes=r.choice((1, 2)) if has_tiflash else 0,
            tiflash_storage=500 if has_tiflash else 0,
            plan=plan,
            spending_limit_cents=r.choice((0, 0, 1000, 5000)) if plan == "Starter" else 0,
            min_rcu=2000 if plan == "Essential" else 0,
            max_rcu=r.choice((4000, 8000)) if plan == "Essential" else 0,
            regional_ha=plan == "Essential" and r.random() < 0.5,
            user_prefix="".join(r.choice(LOWER_ALNUM + UPPER_ALNUM) for _ in range(15)),
            backup_start=backup_start if dedicated else 0,
            manual_backups=tuple(manual) if dedicated else (),
            imports=imports,
            integrations=integrations,
            branches=0 if dedicated else r.choice((0, 1, 1, 2, 3)),
            exports=0 if dedicated else r.choice((0, 1, 2, 2, 3)),
            paths=paths,
        )

    def _changed_cluster(self, g: int) -> Cluster:
        cluster = self._cluster(g)
        changed = {k: v for k, v in self._owner_changes.get(g, {}).items() if k != "state"}
        return replace(cluster, **changed) if changed else cluster  # type: ignore[arg-type]

    def change(self, g: int, **facts: object) -> None:
        """Change cluster `g` as its owner would: pause it (`state="PAUSED"`), resize it (`tikv_nodes=6`),
        upgrade it (`version="8.5.1"`). Every API answers the change from then on."""
        unknown = set(facts) - {f.name for f in fields(Cluster)} - {"state"}
        if unknown:
            raise ValueError(f"a cluster has no {sorted(unknown)}")
        with self._changes_lock:
            self._owner_changes.setdefault(g, {}).update(facts)
        self.cluster.cache_clear()

    def clusters_of(self, p: int) -> range:
        """The global indexes of project `p`'s clusters."""
        project = self.project(p)
        return range(project.first_cluster, project.first_cluster + project.cluster_count)

    def state(self, g: int, now: int) -> str:
        """A cluster's state today: a function of the cluster and the day, so it changes with the clock."""
        owner = self._owner_changes.get(g, {}).get("state")
        if owner is not None:
            return str(owner)
        table = DEDICATED_STATES if self.is_dedicated(g) else SERVERLESS_STATES
        return weighted(mix(self.seed, "state", g, now // DAY), table)

    def _last_change_day(self, g: int, day: int) -> int | None:
        """The last day up to `day` on which cluster `g` changed state (None: never since creation).

        Scanning forward from the last answer keeps this incremental as the clock moves on.
        """
        table = DEDICATED_STATES if self.is_dedicated(g) else SERVERLESS_STATES
        with self._changes_lock:
            cached = self._changes.get(g)
        if cached is not None and cached[0] <= day:
            start, last = cached
        else:
            start, last = self.cluster(g).created // DAY, None
        previous = weighted(mix(self.seed, "state", g, start), table)
        for d in range(start + 1, day + 1):
            current = weighted(mix(self.seed, "state", g, d), table)
            if current != previous:
                last = d
            previous = current
        with self._changes_lock:
            self._changes[g] = (day, last)
        return last

    def updated(self, g: int, now: int) -> int:
        """When the cluster was last modified: its last state change, else shortly after creation."""
        cluster = self.cluster(g)
        changed = self._last_change_day(g, now // DAY)
        if changed is None:
            return min(cluster.created + mix(self.seed, "settled", g) % DAY, now)
        at = changed * DAY + mix(self.seed, "updated", g, changed) % (6 * HOUR)
        return min(max(cluster.created, at), now)

    # backups and restores

    def auto_backups(self, g: int, now: int) -> int:
        """How many daily automatic backups cluster `g` has by `now`."""
        start = self.cluster(g).backup_start
        return 0 if not self.is_dedicated(g) or now < start else (now - start) // DAY + 1

    def backups(self, g: int, now: int) -> list[Backup]:
        """Every backup of a Dedicated cluster up to `now`, oldest first."""
        cluster = self.cluster(g)
        base = mix(self.seed, "backup-size", g) % (40 << 30) + (2 << 30)
        out = [
            Backup(
                self.backup_ids.encode(g << 24 | n),
                True,
                n,
                cluster.backup_start + n * DAY,
                base + n * (base >> 7),
            )
            for n in range(self.auto_backups(g, now))
        ]
        for m, at in enumerate(cluster.manual_backups):
            out.append(Backup(self.backup_ids.encode(g << 24 | (1 << 24) - 1 - m), False, m, at, base))
        out.sort(key=lambda b: (b.time, b.id))
        return out

    def backup_count(self, g: int, now: int) -> int:
        """The number of backups `backups` would list."""
        return self.auto_backups(g, now) + len(self.cluster(g).manual_backups)

    def restores(self, p: int) -> list[Restore]:
        """The restore tasks of project `p`, oldest first."""
        dedicated = [g for g in self.clusters_of(p) if self.is_dedicated(g)]
        r = rng(self.seed, "restores", p)
        count = r.choice((0, 1, 2, 3)) if dedicated else 0
        out: list[Restore] = []
        for k in range(count):
            source = self.cluster(r.choice(dedicated))
            n = r.randrange(self.auto_backups(source.index, self.t0))
            backup_time = source.backup_start + n * DAY
            out.append(
                Restore(
                    number=k,
                    id=self.restore_ids.encode(p << 10 | k),
                    created=min(backup_time + r.randint(10 * 60, 6 * HOUR), self.t0 - 60),
                    backup_id=self.backup_ids.encode(source.index << 24 | n),
                    source=source,
                    restored_id=self.cluster_ids.encode(self.cluster_count + (p << 10 | k)),
                    failed=r.random() < 0.15,
                )
            )
        out.sort(key=lambda item: (item.created, item.number))
        return out

    # imports

    def imports(self, g: int) -> list[ImportTask]:
        """The import tasks of cluster `g`, oldest first."""
        cluster = self.cluster(g)
        out: list[ImportTask] = []
        for k in range(cluster.imports):
            r = rng(self.seed, "import", g, k)
            created = r.randint(cluster.created + DAY, self.t0 - 2 * HOUR)
            state = weighted(r.getrandbits(16), (("COMPLETED", 80), ("FAILED", 15), ("CANCELED", 5)))
            file_type = r.choice(("CSV", "CSV", "PARQUET", "SQL"))
            gcs = cluster.region.provider == "gcp"
            bucket = f"{cluster.name.split('-')[1]}-exports-{r.randint(100, 999)}"
            prefix = "gs" if gcs else "s3"
            database = r.choice(("app", "shop", "analytics", "core"))
            tables = tuple((database, t) for t in r.sample(catalog.DOMAINS, r.randint(1, 2)))
            by_key = not gcs and r.random() < 0.3
            account = r.randint(10**11, 10**12 - 1)
            out.append(
                ImportTask(
                    number=k,
                    id=self.import_ids.encode(g << 8 | k),
                    cluster=g,
                    name=f"import-{tables[0][1]}-{k + 1}",
                    created=created,
                    completed=created + r.randint(60, 2 * HOUR),
                    state=state,
                    file_type=file_type,
                    source_type="GCS" if gcs else "S3",
                    uri=f"{prefix}://{bucket}/{database}/{file_type.lower()}/",
                    role_arn="" if gcs or by_key else f"arn:aws:iam::{account}:role/tidb-cloud-import",
                    access_key_id="AKIA" + "".join(r.choice(UPPER_ALNUM) for _ in range(16)) if by_key else "",
                    size=r.randint(1 << 20, 200 << 30),
                    tables=tables,
                    error=(
                        "[Lightning:Restore:ErrChecksumMismatch]checksum mismatched remote vs local"
                        if state == "FAILED"
                        else ""
                    ),
                    creator=self.member(r.randrange(min(self.scale.members, 6))).email,
                )
            )
        out.sort(key=lambda task: (task.created, task.number))
        return out

    # audit logs

    def audit_count(self, now: int) -> int:
        """How many audit log entries exist by `now`."""
        return max(0, (now * 1000 - self.audit_first_ms) // self.audit_step_ms + 1)

    def audit_time(self, i: int) -> int:
        """The time (unix seconds) of audit entry `i`: arithmetic, so time filters map to index ranges."""
        return (self.audit_first_ms + i * self.audit_step_ms) // 1000

    def audit_range(self, start: int | None, end: int | None, now: int) -> range:
        """The indexes of entries with start <= time <= end (whole seconds, inclusive)."""
        count = self.audit_count(now)
        low, high = 0, count
        if start is not None:
            low = max(0, -(-(start * 1000 - self.audit_first_ms) // self.audit_step_ms))
        if end is not None:
            high = min(count, -(-((end + 1) * 1000 - self.audit_first_ms) // self.audit_step_ms))
        return range(min(low, high), max(high, 0))

    def audit_type(self, i: int) -> str:
        """The event type of audit entry `i` (one hash, so type filters scan cheaply)."""
        return weighted(mix(self.seed, "audit-type", i), AUDIT_WEIGHTS)

    # members and keys

    def _member(self, i: int) -> Member:
        r = rng(self.seed, "member", i)
        first_count, last_count = len(catalog.FIRST_NAMES), len(catalog.LAST_NAMES)
        # an affine walk over all (first, last) pairs keeps emails unique
        pair = (i * 389 + self.seed * 17 + 5) % (first_count * last_count)
        first, last = catalog.FIRST_NAMES[pair % first_count], catalog.LAST_NAMES[pair // first_count]
        suffix = "" if i < first_count * last_count else str(i // (first_count * last_count))
        email = f"{first.lower()}.{last.lower()}{suffix}@{self.org_domain}"
        if i == 0:
            org_role = "org:owner"
        else:
            roles = ("org:member",) * 6 + (
                "org:billing_admin",
                "org:billing_viewer",
                "org:audit_admin",
                "org:owner",
            )
            org_role = r.choice(roles)
        project_roles: tuple[tuple[str, int], ...] = ()
        if org_role == "org:member":
            kinds = ("project:owner", "project:dev", "project:dev", "project:readonly")
            chosen = sorted(r.sample(range(self.scale.projects), min(self.scale.projects, r.choice((1, 1, 2)))))
            project_roles = tuple((r.choice(kinds), p) for p in chosen)
        instance_roles: tuple[tuple[str, int], ...] = ()
        if self.serverless_clusters and r.random() < 0.25:
            g = self.serverless_clusters[r.randrange(len(self.serverless_clusters))]
            instance_roles = ((r.choice(("cluster:admin", "cluster:viewer")), g),)
        active = i == 0 or r.random() < 0.85
        invited = self.t0 - r.randint(10, 700) * DAY - r.randint(0, DAY)
        last_login = max(invited + HOUR, self.t0 - r.randint(0, 30 * DAY)) if active else None
        return Member(
            index=i,
            user_id=self.user_ids.encode(i),
            first_name=first,
            last_name=last,
            email=email,
            org_role=org_role,
            project_roles=project_roles,
            instance_roles=instance_roles,
            active=active,
            invited=invited,
            last_login=last_login,
        )

    def user_count(self, p: int) -> int:
        """Members who can see project `p`: owners and members with a role in it."""
        count = 0
        for i in range(self.scale.members):
            m = self.member(i)
            if m.org_role == "org:owner" or any(q == p for _, q in m.project_roles):
                count += 1
        return count

    # billing

    def billed(self, g: int) -> bool:
        """Whether cluster `g` appears in billing."""
        cap = self.scale.billed_clusters
        return cap is None or g < cap

    def daily_cents(self, g: int, path: int, day: int) -> int:
        """What cluster `g` was charged on its `path`-th billing line on unix day `day`, in cents."""
        cluster = self.cluster(g)
        line = cluster.paths[path]
        tidb = next(s for s in catalog.specs_of("TIDB") if s.key == cluster.tidb_spec)
        tikv = next(s for s in catalog.specs_of("TIKV") if s.key == cluster.tikv_spec)
        if line.category == "Node Compute" and line.component == "TiDB":
            base = cluster.tidb_nodes * tidb.vcpu * 120
        elif line.category == "Node Compute" and line.component == "TiKV":
            base = cluster.tikv_nodes * tikv.vcpu * 144
        elif line.category == "Node Compute":
            base = cluster.tiflash_nodes * 16 * 150
        elif line.category == "Node Storage":
            nodes, size = (
                (cluster.tikv_nodes, cluster.tikv_storage)
                if line.component == "TiKV"
                else (cluster.tiflash_nodes, cluster.tiflash_storage)
            )
            base = nodes * size * 1
        elif line.category == "Backup Storage":
            base = 90
        elif line.category == "Data Transfer":
            base = 40 + mix(self.seed, "egress", g) % 300
        elif line.category == "Request Capacity Units":
            base = cluster.min_rcu // 2
        elif line.category == "Request Units":
            base = mix(self.seed, "ru", g) % 250
        else:
            base = 5 + mix(self.seed, "storage", g) % 40
        noise = mix(self.seed, "cost", g, path, day) % 25
        return base * (88 + noise) // 100
