"""The Secoda emulator's data: a workspace computed record by record from a seed.

The catalog is laid out once, lazily, as compact per-record arrays (integration, native type,
parent, ordinal, usage, creation and update times): about 40 bytes a resource, so 200,000 resources
cost a few megabytes and never exist as dicts. Titles, ids, flags and every other field are pure
functions of (seed, index) computed when a page is rendered. Two clocks drive it, as in the TiDB
emulator: the initial data time `t0` (counts at construction depend only on seed and scale) and the
current one (new resources appear every `new_resource_seconds`, some resources are touched each
day, audit entries keep coming).
"""

from __future__ import annotations

import bisect
import itertools
import random
import threading
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from fleetlake.emulators.secoda import words
from fleetlake.emulators.secoda.ids import DAY_US, HOUR_US, Hash, UuidSpace

DATABASE, SCHEMA, TABLE, VIEW, COLUMN, DASHBOARD, CHART, DOCUMENT, TERM = range(9)
NATIVE_TYPES = (
    "database",
    "schema",
    "table",
    "view",
    "column",
    "dashboard",
    "chart",
    "document",
    "dictionary_term",
)
"""Every `native_type` the catalog holds, by type code."""
ENTITY_TYPES = ("database", "schema", "table", "table", "column", "dashboard", "chart", "document", "dictionary_term")
"""The `entity_type` of each type code: views are tables to Secoda."""
DESCRIPTIONS = (
    "The {title} database.",
    "Tables of the {words} domain.",
    "One row per record of {words}, rebuilt every night.",
    "A reporting view over {words}.",
    "The {words} of the row.",
    "{title}: the numbers reviewed every Monday.",
    "{title}, by week.",
    "{title}: how the data team works.",
    "{title}: the company-wide definition.",
)
NO_INTEGRATION = 255
AUDIT_DAYS = 90
AUDIT_OFFSET = 1 << 31
"""Audit entry numbers go negative into the past; ids encode them shifted by this."""


@dataclass(frozen=True)
class SecodaScale:
    """How big the emulated workspace is."""

    integrations: tuple[tuple[str, int], ...] = (("snowflake", 300), ("postgres", 160), ("tableau", 80))
    """(type, catalog resources) per integration, in catalog order."""
    documents: int = 36
    terms: int = 24
    schemas_per_database: tuple[int, int] = (1, 3)
    tables_per_schema: tuple[int, int] = (3, 10)
    columns_per_table: tuple[int, int] = (3, 12)
    charts_per_dashboard: tuple[int, int] = (2, 6)
    collections: int = 8
    users: int = 12
    teams: int = 4
    """Active teams; one archived team exists besides them."""
    tags: int = 15
    lineage: int = 40
    questions: int = 20
    audit_entries: int = 300
    """Audit entries in the 90 days up to the initial time, evenly spread."""
    new_resource_seconds: int = 7_200
    """After the initial time a new catalog resource appears this often."""
    touches_per_day: int = 24
    """Resources whose `updated_at` moves forward in each day after the initial time."""

    def __post_init__(self) -> None:
        if not 1 <= len(self.integrations) < NO_INTEGRATION:
            raise ValueError("a scale needs between 1 and 254 integrations")
        unknown = [kind for kind, _ in self.integrations if kind not in words.INTEGRATION_NAMES]
        if unknown:
            raise ValueError(f"unknown integration types {unknown}: use {sorted(words.INTEGRATION_NAMES)}")
        if not any(kind in words.WAREHOUSES for kind, _ in self.integrations):
            raise ValueError("a scale needs at least one warehouse integration (tables for lineage)")
        if min(size for _, size in self.integrations) < 1 or self.documents < 1 or self.terms < 1:
            raise ValueError("every integration needs resources, and documents and terms need at least 1")
        if min(self.users, self.teams, self.tags, self.collections, self.audit_entries) < 1:
            raise ValueError("a scale needs users, teams, tags, collections and audit entries")
        if self.new_resource_seconds < 1 or self.touches_per_day < 0:
            raise ValueError("new_resource_seconds must be positive and touches_per_day not negative")


SCALES: Mapping[str, SecodaScale] = {
    "demo": SecodaScale(),
    "large": SecodaScale(
        integrations=(
            ("snowflake", 60_000),
            ("bigquery", 50_000),
            ("redshift", 30_000),
            ("postgres", 24_000),
            ("tableau", 16_000),
            ("looker", 14_000),
        ),
        documents=4_000,
        terms=2_000,
        schemas_per_database=(2, 8),
        tables_per_schema=(5, 60),
        columns_per_table=(3, 25),
        charts_per_dashboard=(2, 10),
        collections=150,
        users=400,
        teams=20,
        tags=120,
        lineage=8_000,
        questions=1_500,
        audit_entries=20_000,
        new_resource_seconds=60,
        touches_per_day=2_000,
    ),
}


@dataclass(frozen=True)
class Integration:
    """One integration: its catalog resources are the indexes [first, first + size)."""

    index: int
    id: str
    type: str
    name: str
    created_us: int
    first: int
    size: int
    teams: tuple[int, ...]
    extraction_hour: int


@dataclass(frozen=True)
class Flags:
    """The yes/no facts of a catalog resource, from one hash so filters can scan them cheaply."""

    published: bool
    verified: bool
    archived: bool
    pii: bool
    described: bool


class Arrays:
    """The compact per-record columns of the catalog, append-only as the clock creates resources."""

    def __init__(self) -> None:
        self.integ = bytearray()
        self.ntype = bytearray()
        self.parent = array("i")
        self.ordinal = array("I")
        self.usage = array("q")
        self.created = array("q")
        self.updated = array("q")

    def add(self, integ: int, ntype: int, parent: int, ordinal: int, usage: int, created: int, updated: int) -> int:
        """Append one resource and return its index."""
        self.integ.append(integ)
        self.ntype.append(ntype)
        self.parent.append(parent)
        self.ordinal.append(ordinal)
        self.usage.append(usage)
        self.created.append(created)
        self.updated.append(updated)
        return len(self.ntype) - 1


def _weighted(value: int, table: tuple[tuple[str, int], ...]) -> str:
    point = value % sum(weight for _, weight in table)
    for name, weight in table:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable")


def _named(vocabulary: tuple[str, ...], salt: int, ordinal: int, joiner: str = "_") -> str:
    """The `ordinal`-th distinct name of a vocabulary, numbered once the words run out."""
    n = len(vocabulary)
    word = vocabulary[(salt + ordinal) % n]
    return word if ordinal < n else f"{word}{joiner}{ordinal // n + 1}"


class SecodaData:
    """The emulated workspace for one seed, scale and initial time (unix microseconds)."""

    def __init__(self, seed: int, scale: SecodaScale, t0_us: int) -> None:
        self.seed = seed
        self.scale = scale
        self.t0_us = t0_us
        self.workspace_id = UuidSpace(seed, "workspace").encode(0)
        self.resource_ids = UuidSpace(seed, "resource")
        self.integration_ids = UuidSpace(seed, "integration")
        self.collection_ids = UuidSpace(seed, "collection")
        self.user_ids = UuidSpace(seed, "user")
        self.team_ids = UuidSpace(seed, "team")
        self.tag_ids = UuidSpace(seed, "tag")
        self.lineage_ids = UuidSpace(seed, "lineage")
        self.question_ids = UuidSpace(seed, "question")
        self.reply_ids = UuidSpace(seed, "reply")
        self.audit_ids = UuidSpace(seed, "audit")
        self.hash = Hash(seed, "record")
        self._flags = Hash(seed, "flags")
        self._title_salt = Hash(seed, "title")
        self._touch = Hash(seed, "touch")

        starts = [0, *itertools.accumulate(size for _, size in scale.integrations)]
        self.integrations = tuple(
            self._integration(g, kind, starts[g], size) for g, (kind, size) in enumerate(scale.integrations)
        )
        self.doc_start = starts[-1]
        self.term_start = self.doc_start + scale.documents
        self.initial_count = self.term_start + scale.terms
        self.new_step_us = scale.new_resource_seconds * 1_000_000
        self.audit_step_us = AUDIT_DAYS * DAY_US // scale.audit_entries

        self._lock = threading.RLock()
        self._arrays: Arrays | None = None
        self._tables0 = array("i")
        self._schemas0 = array("i")
        self._charts0 = array("i")
        self._titles: list[str] = []
        self._id_values: list[int] = []
        self._touched: tuple[int, dict[int, int]] = (-1, {})
        self._updated: tuple[int, array[int]] = (-1, array("q"))
        self._subsets: dict[tuple[frozenset[int], int], list[int]] = {}
        self._new_children: tuple[int, dict[int, list[int]]] = (-1, {})
        self._edges: list[tuple[int, int]] | None = None
        self._reply_starts: list[int] | None = None
        self.user = lru_cache(maxsize=4096)(self._user)

    def _integration(self, g: int, kind: str, first: int, size: int) -> Integration:
        r = self.hash.rng(1, g)
        teams = (g % self.scale.teams,) if r.random() < 0.6 else tuple(sorted({g % self.scale.teams, 0}))
        return Integration(
            index=g,
            id=self.integration_ids.encode(g),
            type=kind,
            name=words.INTEGRATION_NAMES[kind] + ("" if g < len(words.INTEGRATION_NAMES) else f" {g + 1}"),
            created_us=self.t0_us - r.randint(450, 700) * DAY_US - r.randrange(DAY_US),
            first=first,
            size=size,
            teams=teams,
            extraction_hour=r.randrange(24),
        )

    # the catalog layout

    def count(self, now_us: int) -> int:
        """How many catalog resources exist at `now_us`."""
        return self.initial_count + max(0, (now_us - self.t0_us) // self.new_step_us)

    def arrays(self, now_us: int | None = None) -> Arrays:
        """The catalog's arrays, holding at least the resources that exist at `now_us`."""
        with self._lock:
            if self._arrays is None:
                self._arrays = self._layout()
            if now_us is not None:
                self._extend(self._arrays, self.count(now_us))
            return self._arrays

    def _layout(self) -> Arrays:
        out = Arrays()
        for integration in self.integrations:
            if integration.type in words.WAREHOUSES:
                self._lay_warehouse(out, integration)
            else:
                self._lay_dashboards(out, integration)
        r = self.hash.rng(2)
        for kind, first, total in (
            (DOCUMENT, self.doc_start, self.scale.documents),
            (TERM, self.term_start, self.scale.terms),
        ):
            start = self.t0_us - 400 * DAY_US
            span = 399 * DAY_US // total
            for k in range(total):
                created = start + k * span + r.randrange(span)
                parent = first + r.randrange(k) if kind == DOCUMENT and k and r.random() < 0.2 else -1
                usage = 0 if r.random() < 0.35 else r.randint(1, 300)
                out.add(NO_INTEGRATION, kind, parent, k, usage, created, self._last_edit(r, created))
        assert len(out.ntype) == self.initial_count
        return out

    def _last_edit(self, r: random.Random, created: int) -> int:
        # edits lean towards the recent past
        return created + int((self.t0_us - HOUR_US - created) * (1 - r.random() ** 2))

    def _lay_warehouse(self, out: Arrays, integration: Integration) -> None:
        scale, g = self.scale, integration.index
        r = self.hash.rng(3, g)
        start = integration.created_us + HOUR_US
        span = max(1, (self.t0_us - 30 * DAY_US - start) // integration.size)
        end = integration.first + integration.size

        def add(ntype: int, parent: int, ordinal: int, usage: int) -> int | None:
            local = len(out.ntype) - integration.first
            if len(out.ntype) >= end:
                return None
            created = start + local * span + r.randrange(span)
            return out.add(g, ntype, parent, ordinal, usage, created, self._last_edit(r, created))

        for d in itertools.count():
            db = add(DATABASE, -1, d, 0 if r.random() < 0.5 else r.randint(1, 200))
            if db is None:
                return
            for s in range(r.randint(*scale.schemas_per_database)):
                schema = add(SCHEMA, db, s, 0 if r.random() < 0.5 else r.randint(1, 200))
                if schema is None:
                    return
                self._schemas0.append(schema)
                for t in range(r.randint(*scale.tables_per_schema)):
                    usage = 0 if r.random() < 0.25 else min(50_000, int(r.paretovariate(1.2) * 10))
                    table = add(VIEW if r.random() < 0.2 else TABLE, schema, t, usage)
                    if table is None:
                        return
                    self._tables0.append(table)
                    for c in range(r.randint(*scale.columns_per_table)):
                        if add(COLUMN, table, c, 0 if r.random() < 0.6 else r.randint(1, 50)) is None:
                            return

    def _lay_dashboards(self, out: Arrays, integration: Integration) -> None:
        g = integration.index
        r = self.hash.rng(4, g)
        start = integration.created_us + HOUR_US
        span = max(1, (self.t0_us - 30 * DAY_US - start) // integration.size)
        end = integration.first + integration.size
        dashboard = -1
        for d in itertools.count():
            for c in range(-1, r.randint(*self.scale.charts_per_dashboard)):
                if len(out.ntype) >= end:
                    return
                created = start + (len(out.ntype) - integration.first) * span + r.randrange(span)
                if c < 0:
                    dashboard = len(out.ntype)
                    usage = min(100_000, int(r.paretovariate(1.1) * 20))
                    out.add(g, DASHBOARD, -1, d, usage, created, self._last_edit(r, created))
                else:
                    usage = 0 if r.random() < 0.4 else r.randint(1, 500)
                    out.add(g, CHART, dashboard, c, usage, created, self._last_edit(r, created))
                    self._charts0.append(len(out.ntype) - 1)

    def _extend(self, out: Arrays, target: int) -> None:
        """Append the resources created after t0, up to `target`: new columns, tables and documents."""
        for i in range(len(out.ntype), target):
            k = i - self.initial_count
            r = self.hash.rng(5, k)
            created = self.t0_us + (k + 1) * self.new_step_us
            roll = r.random()
            if roll < 0.7:
                table = self._tables0[r.randrange(len(self._tables0))]
                out.add(out.integ[table], COLUMN, table, len(words.COLUMNS) + k, 0, created, created)
            elif roll < 0.9:
                schema = self._schemas0[r.randrange(len(self._schemas0))]
                out.add(out.integ[schema], TABLE, schema, 1_000 + k, 0, created, created)
            else:
                out.add(NO_INTEGRATION, DOCUMENT, -1, self.scale.documents + k, 0, created, created)

    def tables0(self) -> array[int]:
        """The tables and views that exist at t0 (new columns, lineage and questions point at them)."""
        self.arrays()
        return self._tables0

    def charts0(self) -> array[int]:
        """The charts that exist at t0."""
        self.arrays()
        return self._charts0

    def subset(self, types: frozenset[int], now_us: int) -> list[int]:
        """The indexes of the resources of some native types that exist at `now_us`, oldest first."""
        count = self.count(now_us)
        key = (types, count)
        with self._lock:
            cached = self._subsets.get(key)
            if cached is None:
                ntype = self.arrays(now_us).ntype
                cached = [i for i in range(count) if ntype[i] in types]
                if len(self._subsets) > 32:
                    self._subsets.clear()
                self._subsets[key] = cached
            return cached

    def children(self, i: int, now_us: int) -> list[int]:
        """The resources whose parent is `i`: the ones laid out right after it, then newer ones."""
        a = self.arrays(now_us)
        count = self.count(now_us)
        out = []
        j = i + 1
        while j < self.initial_count and a.parent[j] >= i:
            if a.parent[j] == i:
                out.append(j)
            j += 1
        if count > self.initial_count:
            out.extend(self.new_children(now_us).get(i, ()))
        return out

    def new_children(self, now_us: int) -> dict[int, list[int]]:
        """The resources created after t0 by parent, up to `now_us`."""
        count = self.count(now_us)
        with self._lock:
            if self._new_children[0] != count:
                parent = self.arrays(now_us).parent
                grouped: dict[int, list[int]] = {}
                for j in range(self.initial_count, count):
                    grouped.setdefault(parent[j], []).append(j)
                self._new_children = (count, grouped)
            return self._new_children[1]

    # the clock: touched resources

    def touches(self, now_us: int) -> dict[int, int]:
        """Resources edited after t0, up to `now_us`, with the time of their last edit."""
        with self._lock:
            if self._touched[0] == now_us:
                return self._touched[1]
        out: dict[int, int] = {}
        for w in range(max(0, (now_us - self.t0_us) // DAY_US + 1)):
            for j in range(self.scale.touches_per_day):
                at = self.t0_us + w * DAY_US + 1 + self._touch(w, j) % (DAY_US - 1)
                if at <= now_us:
                    i = self._touch(w, j, 1) % self.count(at)
                    out[i] = max(out.get(i, 0), at)
        with self._lock:
            self._touched = (now_us, out)
        return out

    def updated_all(self, now_us: int) -> array[int]:
        """Every existing resource's `updated_at` at `now_us`, in microseconds."""
        with self._lock:
            if self._updated[0] == now_us:
                return self._updated[1]
        arrays = self.arrays(now_us)
        out = arrays.updated[: self.count(now_us)]
        for i, at in self.touches(now_us).items():
            out[i] = max(out[i], at)
        with self._lock:
            self._updated = (now_us, out)
        return out

    # per-record facts

    def title(self, i: int) -> str:
        """A resource's title."""
        with self._lock:
            if i < len(self._titles):
                return self._titles[i]
        return self._title(i)

    def titles(self, count: int) -> list[str]:
        """The titles of resources [0, count), computed once and kept (sorting and `contains` need them)."""
        with self._lock:
            self.arrays()
            while len(self._titles) < count:
                self._titles.append(self._title(len(self._titles)))
            return self._titles

    def _title(self, i: int) -> str:
        a = self.arrays()
        ntype, ordinal, parent = a.ntype[i], a.ordinal[i], a.parent[i]
        salt = self._title_salt(parent if parent >= 0 else -1 - a.integ[i])
        if ntype == DATABASE:
            name = _named(words.DATABASES, salt, ordinal)
        elif ntype == SCHEMA:
            name = _named(words.SCHEMAS, salt, ordinal)
        elif ntype in (TABLE, VIEW):
            name = ("vw_" if ntype == VIEW else "") + _named(words.TABLES, salt, ordinal)
        elif ntype == COLUMN:
            name = _named(words.COLUMN_NAMES, salt, ordinal)
        elif ntype == DASHBOARD:
            return _named(words.DASHBOARDS, salt, ordinal, " ")
        elif ntype == CHART:
            return _named(words.CHARTS, salt, ordinal, " ")
        elif ntype == DOCUMENT:
            return _named(words.DOCUMENTS, 0, ordinal, " ")
        else:
            return _named(words.TERMS, 0, ordinal, " ")
        return name.upper() if self.integrations[a.integ[i]].type == "snowflake" else name

    def title_full(self, i: int) -> str:
        """A resource's title after its ancestors' (`DB.SCHEMA.TABLE.COLUMN`)."""
        parent = self.arrays().parent
        parts = [self.title(i)]
        while parent[i] >= 0:
            i = parent[i]
            parts.append(self.title(i))
        return ".".join(reversed(parts))

    def column_type(self, i: int) -> str:
        """The data type of a column resource."""
        salt = self._title_salt(self.arrays().parent[i])
        return words.COLUMNS[(salt + self.arrays().ordinal[i]) % len(words.COLUMNS)][1]

    def flags(self, i: int) -> Flags:
        """A resource's published/verified/archived/pii/described flags."""
        bits = self._flags(i)
        ntype = self.arrays().ntype[i]
        pii_name = ntype == COLUMN and self.title(i).lower().rsplit("_", 1)[0] in words.PII_COLUMNS
        return Flags(
            published=bits % 100 < 92,
            verified=(bits >> 8) % 100 < 12,
            archived=(bits >> 16) % 1000 < 6,
            pii=pii_name or self.title(i).lower() in words.PII_COLUMNS or (bits >> 24) % 100 < 2,
            described=ntype in (DOCUMENT, TERM) or (bits >> 32) % 100 < 60,
        )

    def description(self, i: int) -> str:
        """A resource's description ("" for the undescribed ones)."""
        if not self.flags(i).described:
            return ""
        title = self.title(i)
        return DESCRIPTIONS[self.arrays().ntype[i]].format(title=title, words=title.lower().replace("_", " "))

    def teams_of(self, i: int) -> tuple[int, ...]:
        """The team indexes a resource belongs to: its integration's, or one for documents and terms."""
        g = self.arrays().integ[i]
        if g != NO_INTEGRATION:
            return self.integrations[g].teams
        return ((self._flags(i) >> 40) % self.scale.teams,)

    def id_values(self, count: int) -> list[int]:
        """The 128-bit id values of resources [0, count), kept for sorting by id."""
        with self._lock:
            while len(self._id_values) < count:
                self._id_values.append(self.resource_ids.value(len(self._id_values)))
            return self._id_values

    def resource_index(self, text: object, now_us: int) -> int | None:
        """The index of an existing resource id, else None."""
        i = self.resource_ids.decode(text)
        return i if i is not None and i < self.count(now_us) else None

    # people

    def _user(self, u: int) -> tuple[str, str]:
        firsts, lasts = words.FIRST_NAMES, words.LAST_NAMES
        pair = (u * 47 + self.seed * 13) % (len(firsts) * len(lasts))
        suffix = "" if u < len(firsts) * len(lasts) else str(u // (len(firsts) * len(lasts)) + 1)
        return firsts[pair % len(firsts)], lasts[pair // len(firsts)] + suffix

    def user_name(self, u: int) -> str:
        """A user's full name."""
        first, last = self.user(u)
        return f"{first} {last}"

    # lineage and questions

    def edges(self) -> list[tuple[int, int]]:
        """(from, to) resource indexes of every lineage edge: tables to tables, or tables to charts."""
        with self._lock:
            if self._edges is None:
                tables, charts = self.tables0(), self.charts0()
                out = []
                for e in range(self.scale.lineage):
                    r = self.hash.rng(6, e)
                    source = tables[r.randrange(len(tables))]
                    target = charts[r.randrange(len(charts))] if charts and r.random() < 0.3 else source
                    while target == source and len(tables) > 1:
                        target = tables[r.randrange(len(tables))]
                    out.append((source, target))
                self._edges = out
            return self._edges

    def reply_starts(self) -> list[int]:
        """Prefix sums of replies per question: question q owns replies [starts[q], starts[q + 1])."""
        with self._lock:
            if self._reply_starts is None:
                sizes = [self.hash.rng(7, q).choice((0, 1, 1, 2, 3)) for q in range(self.scale.questions)]
                self._reply_starts = [0, *itertools.accumulate(sizes)]
            return self._reply_starts

    def question_of(self, reply: int) -> int:
        """The question a reply answers."""
        return bisect.bisect_right(self.reply_starts(), reply) - 1

    # the audit log

    def audit_time(self, e: int) -> int:
        """When audit entry `e` happened (unix microseconds); entries are evenly spaced, with jitter."""
        anchor = self.t0_us - (self.scale.audit_entries - 1 - e) * self.audit_step_us
        return anchor - self.hash(8, e) % self.audit_step_us

    def audit_range(self, now_us: int, days: int) -> range:
        """The audit entries of the last `days` days up to `now_us`, oldest first."""
        step, last = self.audit_step_us, self.scale.audit_entries - 1
        high = last + (now_us - self.t0_us) // step
        if self.audit_time(high + 1) <= now_us:
            high += 1
        low_time = now_us - days * DAY_US
        low = last - ((self.t0_us - low_time) // step)
        if self.audit_time(low) < low_time:
            low += 1
        return range(low, high + 1)

    def audit_event(self, e: int) -> str:
        """The event name of audit entry `e`."""
        return _weighted(self.hash(9, e), words.AUDIT_EVENTS)
