"""The SkySQL emulator's data: an organization computed record by record from a seed.

Nothing large is stored: every record is a pure function of (seed, kind, index) and of two clocks,
the initial data time `t0` (creation times are anchored to it, so counts at construction depend only
on seed and scale) and the current data time (nightly backups appear up to it, statuses change with
the day). The small indexes kept in memory (per-service counts, backup times) are proportional to
the number of services; backups are never materialised as a whole, so a deep page costs one page.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from fleetlake.emulators.seeded import mix, rng, weighted
from fleetlake.emulators.skysql import catalog
from fleetlake.emulators.skysql.catalog import Region, uid

DAY = 86_400
HOUR = 3_600
BACKUP_LAG = 2 * HOUR
"""A nightly backup is listed once it started this long ago; every one takes less."""
STATE_HISTORY_DAYS = 30
"""Statuses vary day by day from this many days before t0 on; before that every service was ready."""
STATES = (
    ("ready", 84),
    ("stopped", 6),
    ("pending_modifying", 4),
    ("pending_upgrade", 2),
    ("pending_start", 2),
    ("pending_stop", 1),
    ("failed", 1),
)
TOPOLOGY_WEIGHTS = (("es-replica", 40), ("es-single", 25), ("xpand", 15), ("sa", 10), ("csdw", 10))
PROVIDER_WEIGHTS = (("aws", 50), ("gcp", 35), ("azure", 15))
SCHEDULE_KINDS = (
    ("incremental", "0 */6 * * *"),
    ("binarylog", "*/30 * * * *"),
    ("dump", "once"),
    ("full", "0 12 * * 0"),
)


class ServiceIds:
    """Maps service indexes to ids like `dbtgf28044362` and back, by an invertible affine map."""

    MOD = 10**8

    def __init__(self, seed: int) -> None:
        mult = mix(seed, "service-id-mult") % self.MOD | 1
        # coprime with 10**8: odd and not a multiple of 5
        self._mult = mult + 2 if mult % 5 == 0 else mult
        self._offset = mix(seed, "service-id-offset") % self.MOD
        self._inverse = pow(self._mult, -1, self.MOD)

    def encode(self, index: int, prefix: str) -> str:
        """The id of service `index`, after its type prefix (`dbtgf`, `dbagf`)."""
        return f"{prefix}{(index * self._mult + self._offset) % self.MOD:08d}"

    def decode(self, text: str) -> int | None:
        """The index an id's digits encode, or None when they are not digits."""
        digits = text[5:]
        if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
            return None
        return (int(digits) - self._offset) * self._inverse % self.MOD


@dataclass(frozen=True)
class SkySQLScale:
    """How big the emulated organization is."""

    projects: int = 2
    services: int = 8
    service_age_days: tuple[int, int] = (20, 400)
    """(newest, oldest) service age at t0 in days; services are created evenly in between."""
    backup_days: tuple[int, int] = (3, 7)
    """Inclusive range of nightly backup history per service at t0, in days."""
    schedules_per_service: tuple[int, int] = (1, 3)
    restores: int = 3
    users: int = 6
    custom_configs: int = 3
    databases_per_service: tuple[int, int] = (1, 3)
    db_users_per_service: tuple[int, int] = (1, 3)
    prepaid_credits: int = 3

    def __post_init__(self) -> None:
        newest, oldest = self.service_age_days
        if self.projects < 1 or self.services < 1 or self.users < 0:
            raise ValueError("a scale needs at least one project and one service")
        if not 2 <= self.backup_days[0] <= self.backup_days[1] <= newest - 3 and newest <= oldest:
            raise ValueError("backup history needs 2 days or more, and 3 days less than the newest service's age")
        if self.schedules_per_service[0] < 1 or self.schedules_per_service[0] > self.schedules_per_service[1]:
            raise ValueError("every backed-up service has at least its nightly schedule")


SCALES: Mapping[str, SkySQLScale] = {
    "demo": SkySQLScale(),
    "large": SkySQLScale(
        projects=10,
        services=400,
        service_age_days=(70, 900),
        backup_days=(45, 65),
        restores=150,
        users=60,
        custom_configs=20,
        databases_per_service=(1, 6),
        db_users_per_service=(1, 4),
        prepaid_credits=12,
    ),
}


@dataclass(frozen=True)
class User:
    """A member of the organization."""

    index: int
    id: str
    first_name: str
    last_name: str
    email: str
    roles: tuple[str, ...]
    created: int
    invited: bool
    active: bool
    mfa: bool


@dataclass(frozen=True)
class Service:
    """The clock-independent facts of one service."""

    index: int
    id: str
    name: str
    project: int
    topology: str
    service_type: str
    provider: str
    region: Region
    zone: str
    architecture: str
    version: str
    size: str
    tier: str
    nodes: int
    maxscale_nodes: int
    storage_gb: int
    volume_type: str
    iops: int
    throughput: int
    created: int
    assigned: int
    volume_modified: int
    creator: int
    """Index of the user who created the service."""
    private: bool
    nosql: bool
    ssl: bool
    tags: tuple[tuple[str, str], ...]
    config: int
    """Index of the custom config the service uses, or -1 for its topology's default config."""
    outbound_ips: tuple[str, ...]
    backup_first_day: int
    """Unix day of the first nightly backup, or a day far in the future when there are none."""
    backup_tod: int
    """Seconds after midnight UTC at which the nightly backup starts."""
    schedules: int


@dataclass(frozen=True)
class Backup:
    """One nightly backup: service `service`'s backup of unix day `day`."""

    service: int
    day: int
    start: int
    end: int
    status: str
    size: int


NO_BACKUPS = 1 << 40


def organization_id(seed: int) -> str:
    """The emulated organization's id for a seed."""
    return "org-" + hashlib.blake2b(f"{seed}|org".encode(), digest_size=6).hexdigest()


class SkySQLData:
    """The emulated organization for one seed, scale and initial time."""

    def __init__(self, seed: int, scale: SkySQLScale, t0: int) -> None:
        self.seed = seed
        self.scale = scale
        self.t0 = t0
        self.t0_day = t0 // DAY
        self.org_id = organization_id(seed)
        self.org_name = catalog.ORG_NAMES[mix(seed, "org-name") % len(catalog.ORG_NAMES)]
        self.org_domain = catalog.ORG_DOMAINS[mix(seed, "org-name") % len(catalog.ORG_DOMAINS)]
        self.service_ids = ServiceIds(seed)
        self.token_secret = hashlib.sha256(f"fleetlake-skysql-emulator|{seed}".encode()).digest()

        newest, oldest = scale.service_age_days
        self.org_start = t0 - (oldest + 20) * DAY - mix(seed, "org-start") % DAY
        self._first_service = t0 - oldest * DAY
        self._service_step = (oldest - newest) * DAY // max(scale.services - 1, 1)
        self.user_created = [self._user_created(u) for u in range(scale.users)]
        self._changes: dict[int, tuple[int, int | None]] = {}
        self._changes_lock = threading.Lock()
        self.user = lru_cache(maxsize=4096)(self._user)
        self.service = lru_cache(maxsize=16_384)(self._service)

    def uid(self, kind: str, *parts: int | str) -> str:
        """A stable UUID for a record of this organization."""
        return uid(self.seed, kind, *parts)

    # projects and users

    def project_created(self, p: int) -> int:
        """When project `p` was created: all projects predate the first service."""
        spread = 10 * DAY * p // max(self.scale.projects, 1)
        return self.org_start + spread + mix(self.seed, "project-created", p) % (6 * HOUR)

    def project_name(self, p: int) -> str:
        """The project's name, unique within the organization."""
        names = catalog.PROJECT_NAMES
        return names[p] if p < len(names) else f"{names[1 + p % (len(names) - 1)]} {p // len(names) + 1}"

    def _user_created(self, u: int) -> int:
        if u == 0:
            return self.org_start
        span = self.t0 - 2 * DAY - self.org_start
        return self.org_start + span * u // max(self.scale.users, 1) + mix(self.seed, "user-created", u) % HOUR

    def _user(self, u: int) -> User:
        r = rng(self.seed, "user", u)
        first_count, last_count = len(catalog.FIRST_NAMES), len(catalog.LAST_NAMES)
        # an affine walk over all (first, last) pairs keeps emails unique
        pair = (u * 37 + self.seed * 11 + 3) % (first_count * last_count)
        first, last = catalog.FIRST_NAMES[pair % first_count], catalog.LAST_NAMES[pair // first_count]
        suffix = "" if u < first_count * last_count else str(u // (first_count * last_count))
        roles = ("org-admin",) if u == 0 else r.choice(catalog.ORG_ROLES)
        invited = u > 0 and r.random() < 0.15
        return User(
            index=u,
            id=self.uid("user", u),
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}{suffix}@{self.org_domain}",
            roles=roles,
            created=self._user_created(u),
            invited=invited,
            active=not invited and (u == 0 or r.random() < 0.9),
            mfa=u == 0 or r.random() < 0.5,
        )

    # services

    def service_created(self, s: int) -> int:
        """When service `s` was created: strictly increasing with the index."""
        # jitter moves a service earlier by less than half a step, so the order holds
        jitter = mix(self.seed, "service-created", s) % max(min(self._service_step // 2, 5 * DAY), 1)
        return self._first_service + s * self._service_step - jitter

    def service_index(self, service_id: str) -> int | None:
        """The index of a service id, or None when there is no such service."""
        s = self.service_ids.decode(service_id)
        if s is None or s >= self.scale.services:
            return None
        return s if self.service(s).id == service_id else None

    def _service(self, s: int) -> Service:
        seed, scale = self.seed, self.scale
        r = rng(seed, "service", s)
        topology = catalog.TOPOLOGY_BY_NAME[weighted(r.getrandbits(32), TOPOLOGY_WEIGHTS)]
        provider = weighted(r.getrandbits(32), PROVIDER_WEIGHTS)
        # the first services cover every topology and provider, so even the demo shows them all
        if s < len(TOPOLOGY_WEIGHTS):
            topology = catalog.TOPOLOGY_BY_NAME[TOPOLOGY_WEIGHTS[(s + seed) % len(TOPOLOGY_WEIGHTS)][0]]
        if s < len(PROVIDER_WEIGHTS):
            provider = PROVIDER_WEIGHTS[(s + seed) % len(PROVIDER_WEIGHTS)][0]
        regions = [g for g in catalog.REGIONS if g.provider == provider]
        region = regions[r.randrange(len(regions))]
        serverless = topology.name == "sa"
        arm = provider == "aws" and topology.name != "csdw" and not serverless and r.random() < 0.3
        versions = [v.version for v in catalog.VERSIONS if v.topology == topology.name]
        cpu, ram = catalog.SIZE_SHAPES[r.choice((0, 0, 1, 1, 2, 3))]
        nodes = {"es-single": 1, "es-replica": r.choice((2, 3)), "xpand": 3, "csdw": r.choice((1, 1, 3))}
        maxscale = {"es-replica": r.choice((1, 2)), "xpand": 1, "csdw": 1}
        created = self.service_created(s)
        age = self.t0 - created
        creators = bisect.bisect_right(self.user_created, created)
        custom = [c for c in range(scale.custom_configs) if self.config_topology(c) == topology.name]
        config = r.choice(custom) if custom and r.random() < 0.4 else -1
        env, domain = r.choice(catalog.ENVIRONMENTS), r.choice(catalog.DOMAINS)
        tags = (("environment", env), ("team", domain)) if r.random() < 0.8 else ()
        resized = r.random() < 0.3
        window = r.randint(*scale.backup_days)
        low, high = scale.schedules_per_service
        ips = tuple(
            f"{r.choice((34, 35, 52, 54, 20))}.{r.randint(1, 254)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
            for _ in range(r.choice((1, 2)))
        )
        return Service(
            index=s,
            id=self.service_ids.encode(s, "dbagf" if topology.service_type == "analytical" else "dbtgf"),
            name=f"{env}-{domain}-{s + 1}",
            project=s if s < scale.projects else mix(seed, "service-project", s) % scale.projects,
            topology=topology.name,
            service_type=topology.service_type,
            provider=provider,
            region=region,
            zone=r.choice(region.zones),
            architecture="arm64" if arm else "amd64",
            version=r.choice(versions),
            size="" if serverless else f"sky-{cpu}x{ram}",
            tier="power" if cpu == 32 or r.random() < 0.2 else "foundation",
            nodes=nodes.get(topology.name, 0),
            maxscale_nodes=maxscale.get(topology.name, 0),
            storage_gb=0 if serverless else r.choice((100, 100, 200, 500, 1000)),
            volume_type="" if serverless else next(p.volume_type for p in catalog.PROVIDERS if p.name == provider),
            iops=3000 if provider == "aws" and not serverless else 0,
            throughput=125 if provider == "aws" and not serverless else 0,
            created=created,
            assigned=created + r.randint(60, 900),
            volume_modified=created + r.randint(DAY, age - DAY) if resized else created,
            creator=r.randrange(max(min(creators, 3), 1)),
            private=provider != "azure" and r.random() < 0.2,
            nosql=topology.name.startswith("es-") and r.random() < 0.15,
            ssl=r.random() < 0.95,
            tags=tags,
            config=config,
            outbound_ips=ips,
            backup_first_day=NO_BACKUPS if serverless else self.t0_day - window,
            backup_tod=r.randrange(6 * 60) * 60 + r.randrange(60),
            schedules=0 if serverless else r.randint(low, high),
        )

    def _shift(self, s: int) -> int:
        """Seconds after midnight UTC at which service `s`'s status may change each day."""
        return mix(self.seed, "status-shift", s) % (6 * HOUR)

    def status_day(self, s: int, now: int) -> int:
        """The day whose status service `s` shows at `now` (its days start at its own shift)."""
        return (now - self._shift(s)) // DAY

    def status(self, s: int, now: int) -> str:
        """A service's status at `now`: a function of the service and the day."""
        return self._status_on(s, self.status_day(s, now))

    def _status_on(self, s: int, day: int) -> str:
        if day < self.t0_day - STATE_HISTORY_DAYS:
            return "ready"
        return weighted(mix(self.seed, "status", s, day), STATES)

    def _last_change_day(self, s: int, day: int) -> int | None:
        """The last day up to `day` on which service `s` changed status (None: never).

        Scanning forward from the last answer keeps this incremental as the clock moves on.
        """
        with self._changes_lock:
            cached = self._changes.get(s)
        if cached is not None and cached[0] <= day:
            start, last = cached
        else:
            start = max(self.service(s).created // DAY, self.t0_day - STATE_HISTORY_DAYS - 1)
            last = None
        previous = self._status_on(s, start)
        for d in range(start + 1, day + 1):
            current = self._status_on(s, d)
            if current != previous:
                last = d
            previous = current
        with self._changes_lock:
            self._changes[s] = (day, last)
        return last

    def updated(self, s: int, now: int) -> int:
        """When the service was last modified: its last status change or volume change."""
        service = self.service(s)
        changed = self._last_change_day(s, self.status_day(s, now))
        settled = service.assigned + mix(self.seed, "settled", s) % HOUR
        at = settled if changed is None else changed * DAY + self._shift(s)
        return min(max(at, service.volume_modified, settled), now)

    # configs

    def config_topology(self, c: int) -> str:
        """The topology custom config `c` applies to."""
        return ("es-replica", "es-single", "xpand")[c % 3]

    def config_created(self, c: int) -> int:
        """When custom config `c` was created: before any service, so services can use it."""
        return self.org_start + DAY + c * HOUR + mix(self.seed, "config-created", c) % HOUR

    # nightly backups

    @cached_property
    def _backup_index(self) -> tuple[list[int], list[int]]:
        """Backed-up services in the order of their nightly start time, and their sorted first days."""
        services = [s for s in range(self.scale.services) if self.service(s).backup_first_day != NO_BACKUPS]
        by_time = sorted(services, key=lambda s: (self.service(s).backup_tod, s))
        return by_time, sorted(self.service(s).backup_first_day for s in services)

    def backup_last_day(self, s: int, now: int) -> int:
        """The last unix day whose backup of service `s` is listed at `now`."""
        return (now - BACKUP_LAG - self.service(s).backup_tod) // DAY

    def backup_count(self, s: int, now: int) -> int:
        """How many nightly backups service `s` has at `now`."""
        first = self.service(s).backup_first_day
        return 0 if first == NO_BACKUPS else max(0, self.backup_last_day(s, now) - first + 1)

    def _day_counts(self, now: int) -> tuple[int, list[int]]:
        """The first backup day and the number of backups listed on each day from it, at `now`."""
        by_time, first_days = self._backup_index
        if not first_days:
            return 0, []
        start, last = first_days[0], (now - BACKUP_LAG) // DAY
        complete = (now - BACKUP_LAG - DAY + 1) // DAY
        counts = []
        for day in range(start, last + 1):
            if day <= complete:
                counts.append(bisect.bisect_right(first_days, day))
            else:
                counts.append(sum(1 for s in by_time if self._listed(s, day, now)))
        return start, counts

    def _listed(self, s: int, day: int, now: int) -> bool:
        service = self.service(s)
        return service.backup_first_day <= day and day * DAY + service.backup_tod + BACKUP_LAG <= now

    def total_backups(self, now: int) -> int:
        """How many backups the organization has at `now`."""
        return sum(self._day_counts(now)[1])

    def backup_slice(self, start: int, stop: int, now: int) -> list[Backup]:
        """Backups [start, stop) of the whole organization, oldest first, without listing the rest."""
        first_day, counts = self._day_counts(now)
        by_time = self._backup_index[0]
        out: list[Backup] = []
        seen = 0
        for offset, count in enumerate(counts):
            if seen + count <= start:
                seen += count
                continue
            day = first_day + offset
            for s in by_time:
                if seen >= stop:
                    return out
                if self._listed(s, day, now):
                    if seen >= start:
                        out.append(self.backup(s, day))
                    seen += 1
            if seen >= stop:
                break
        return out

    def all_backups(self, now: int) -> Iterator[tuple[int, int]]:
        """Every (service, day) pair of a listed backup, oldest first (for filters that must scan)."""
        first_day, counts = self._day_counts(now)
        by_time = self._backup_index[0]
        return itertools.chain.from_iterable(
            ((s, first_day + o) for s in by_time if self._listed(s, first_day + o, now)) for o in range(len(counts))
        )

    def backup_status(self, s: int, day: int) -> str:
        """Succeeded, or now and then Failed."""
        return "Failed" if mix(self.seed, "backup-status", s, day) % 100 < 3 else "Succeeded"

    def backup(self, s: int, day: int) -> Backup:
        """Service `s`'s nightly backup of unix day `day`."""
        service = self.service(s)
        start = day * DAY + service.backup_tod
        base = (service.storage_gb << 30) // 8 + mix(self.seed, "backup-base", s) % (1 << 30)
        size = base + (day - service.backup_first_day) * (base >> 8)
        duration = 120 + size // (40 << 20) + mix(self.seed, "backup-duration", s, day) % 600
        return Backup(s, day, start, start + min(duration, 90 * 60), self.backup_status(s, day), size)

    # restores, schedules, databases and database users

    @cached_property
    def restores(self) -> list[tuple[int, Backup, int]]:
        """(id, restored backup, created) of every restore, oldest first; all predate t0."""
        backed = self._backup_index[0]
        out: list[tuple[int, Backup, int]] = []
        for k in range(self.scale.restores if backed else 0):
            r = rng(self.seed, "restore", k)
            s = backed[r.randrange(len(backed))]
            first = self.service(s).backup_first_day
            backup = self.backup(s, r.randint(first, self.t0_day - self.scale.backup_days[0]))
            created = max(backup.end + 60, min(backup.start + r.randint(3 * HOUR, 3 * DAY), self.t0 - 60))
            out.append((k, backup, created))
        out.sort(key=lambda item: (item[2], item[0]))
        base = 100 + mix(self.seed, "restore-ids") % 900
        return [(base + n, backup, created) for n, (_, backup, created) in enumerate(out)]

    @cached_property
    def schedule_offsets(self) -> list[int]:
        """The number of schedules of services before each service (ids are sequential)."""
        return [0, *itertools.accumulate(self.service(s).schedules for s in range(self.scale.services))]

    def databases(self, s: int) -> int:
        """How many databases service `s` has (the seed page's databases endpoint)."""
        return rng(self.seed, "databases", s).randint(*self.scale.databases_per_service)

    def db_users(self, s: int) -> int:
        """How many database users service `s` has (the seed page's users endpoint)."""
        return rng(self.seed, "db-users", s).randint(*self.scale.db_users_per_service)

    @cached_property
    def database_offsets(self) -> list[int]:
        """Running totals of databases per service, for paging the flat list."""
        return [0, *itertools.accumulate(self.databases(s) for s in range(self.scale.services))]

    @cached_property
    def db_user_offsets(self) -> list[int]:
        """Running totals of database users per service, for paging the flat list."""
        return [0, *itertools.accumulate(self.db_users(s) for s in range(self.scale.services))]
