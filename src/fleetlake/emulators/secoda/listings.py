"""The entity lists: documents, terms, tables, columns, collections, integrations, users, teams,
tags, lineage, questions and replies, one `Listing` row each.

A row says which records a query selects (its documented filters), how one renders and how an id
finds one; `routes` serves every row as a list and as `{id}` details alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fleetlake.emulators.secoda import records
from fleetlake.emulators.secoda.context import Context, SecodaCall
from fleetlake.emulators.secoda.data import COLUMN, DOCUMENT, TABLE, TERM, VIEW

TABLE_TYPES = frozenset({TABLE, VIEW})

Items = Callable[[SecodaCall, int], Sequence[int]]
Render = Callable[[int, int], dict[str, Any]]
Lookup = Callable[[str, int], int | None]


@dataclass(frozen=True)
class Listing:
    """One entity list: its path, the records a query selects, how to render and find one."""

    path: str
    items: Items
    render: Render
    lookup: Lookup
    paged_out: bool = False
    """Answer in the newer `v1_PagedTeamOut` envelope."""


def _flag(call: SecodaCall, name: str) -> bool:
    return call.query.get(name, "").lower() in ("true", "1", "yes")


def _ids(call: SecodaCall, *names: str) -> list[str]:
    """Every id given in any of the parameters, repeated or comma-separated."""
    return [
        part.strip() for name in names for raw in call.query.getlist(name) for part in raw.split(",") if part.strip()
    ]


class Listings:
    """The entity lists of one emulator, as `Listing` rows."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.data = ctx.data

    def _resource_of(self, types: frozenset[int]) -> Lookup:
        def lookup(text: str, now_us: int) -> int | None:
            i = self.data.resource_index(text, now_us)
            return i if i is not None and self.data.arrays(now_us).ntype[i] in types else None

        return lookup

    def tables(self, call: SecodaCall, now_us: int) -> Sequence[int]:
        """Tables and views, by `schema`, `database` (name or id) and `integration_id`."""
        data = self.data
        a = data.arrays(now_us)
        out: Sequence[int] = data.subset(TABLE_TYPES, now_us)
        for name, hops in (("schema", 1), ("database", 2)):
            wanted = call.query.get(name)
            if not wanted:
                continue
            by_id = data.resource_index(wanted, now_us)

            def ancestor(i: int, hops: int = hops) -> int:
                for _ in range(hops):
                    i = a.parent[i]
                return i

            if by_id is not None:
                out = [i for i in out if ancestor(i) == by_id]
            else:
                out = [i for i in out if data.title(ancestor(i)).lower() == wanted.lower()]
        integration = call.query.get("integration_id")
        if integration:
            g = data.integration_ids.decode(integration)
            out = [i for i in out if a.integ[i] == g]
        return out

    def columns(self, call: SecodaCall, now_us: int) -> Sequence[int]:
        """Columns, by `parent_id`/`table_id` and `integration_id`."""
        data = self.data
        a = data.arrays(now_us)
        tables = _ids(call, "parent_id", "table_id")
        out: Sequence[int]
        if tables:
            found = [data.resource_index(t, now_us) for t in tables]
            out = sorted(c for t in found if t is not None for c in data.children(t, now_us) if a.ntype[c] == COLUMN)
        else:
            out = data.subset(frozenset({COLUMN}), now_us)
        integration = call.query.get("integration_id")
        if integration:
            g = data.integration_ids.decode(integration)
            out = [i for i in out if a.integ[i] == g]
        return out

    def lineage(self, call: SecodaCall, now_us: int) -> Sequence[int]:
        """Edges, by `from_entity(_id)`, `to_entity(_id)`, their `__in` lists and `integration_type`."""
        data = self.data
        edges = data.edges()
        out: Sequence[int] = range(len(edges))
        for side, names in (
            (0, ("from_entity", "from_entity_id", "from_entity__in")),
            (1, ("to_entity", "to_entity_id", "to_entity__in")),
        ):
            wanted = _ids(call, *names)
            if wanted:
                found = {data.resource_index(t, now_us) for t in wanted}
                out = [e for e in out if edges[e][side] in found]
        kind = call.query.get("integration_type") or call.query.get("integration__type")
        if kind:
            a = data.arrays()
            out = [e for e in out if data.integrations[a.integ[edges[e][0]]].type == kind]
        return out

    def rows(self) -> list[Listing]:
        """Every entity list."""
        data, scale = self.data, self.data.scale

        def subset(*types: int) -> Items:
            return lambda call, now_us: data.subset(frozenset(types), now_us)

        def resource(i: int, now_us: int) -> dict[str, Any]:
            return records.resource(data, i, now_us)

        def counted(decode: Callable[[object], int | None], count: int) -> Lookup:
            return lambda text, now_us: k if (k := decode(text)) is not None and k < count else None

        def titled(call: SecodaCall, now_us: int) -> Sequence[int]:
            title = call.query.get("title")
            everything = range(scale.collections)
            return [c for c in everything if records.collection(data, c)["title"] == title] if title else everything

        def typed(call: SecodaCall, now_us: int) -> Sequence[int]:
            kind = call.query.get("type")
            return [g.index for g in data.integrations if not kind or g.type == kind]

        def teams(call: SecodaCall, now_us: int) -> Sequence[int]:
            return range(scale.teams + (1 if _flag(call, "include_archived") else 0))

        def replies(call: SecodaCall, now_us: int) -> Sequence[int]:
            starts = data.reply_starts()
            wanted = call.query.get("question_id")
            if not wanted:
                return range(starts[-1])
            q = data.question_ids.decode(wanted)
            return range(starts[q], starts[q + 1]) if q is not None and q < scale.questions else []

        return [
            Listing("/document/documents", subset(DOCUMENT), resource, self._resource_of(frozenset({DOCUMENT}))),
            Listing("/dictionary/terms", subset(TERM), resource, self._resource_of(frozenset({TERM}))),
            Listing(
                "/table/tables",
                self.tables,
                lambda i, now_us: records.table(data, i, now_us),
                self._resource_of(TABLE_TYPES),
            ),
            Listing(
                "/table/columns",
                self.columns,
                lambda i, now_us: records.column(data, i, now_us),
                self._resource_of(frozenset({COLUMN})),
            ),
            Listing(
                "/collection/collections",
                titled,
                lambda c, now_us: records.collection(data, c),
                counted(data.collection_ids.decode, scale.collections),
            ),
            Listing(
                "/integration/integrations",
                typed,
                lambda g, now_us: records.integration(data, g, now_us),
                counted(data.integration_ids.decode, len(data.integrations)),
            ),
            Listing(
                "/user",
                lambda call, now_us: range(scale.users),
                lambda u, now_us: records.user(data, u),
                counted(data.user_ids.decode, scale.users),
            ),
            Listing(
                "/auth/teams",
                teams,
                lambda t, now_us: records.team(data, t),
                counted(data.team_ids.decode, scale.teams + 1),
                paged_out=True,
            ),
            Listing(
                "/tag",
                lambda call, now_us: range(scale.tags),
                lambda t, now_us: records.tag(data, t),
                counted(data.tag_ids.decode, scale.tags),
            ),
            Listing(
                "/lineage/manual",
                self.lineage,
                lambda e, now_us: records.lineage(data, e),
                counted(data.lineage_ids.decode, scale.lineage),
                paged_out=True,
            ),
            Listing(
                "/question/questions",
                lambda call, now_us: range(scale.questions),
                lambda q, now_us: records.question(data, q),
                counted(data.question_ids.decode, scale.questions),
            ),
            Listing(
                "/question/replies",
                replies,
                lambda k, now_us: records.reply(data, k),
                lambda text, now_us: (
                    k if (k := data.reply_ids.decode(text)) is not None and k < data.reply_starts()[-1] else None
                ),
            ),
        ]
