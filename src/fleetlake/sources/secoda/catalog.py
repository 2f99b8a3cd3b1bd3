"""The Secoda catalog, every resource of it, past the API's 10,000-resources-per-query cap.

One `/resource/catalog` query returns at most 10,000 resources across all its pages, and its default
sort (by usage) is not stable across pages. So every query here carries an explicit, stable sort
(`updated_at` desc, ties by `id`), and a query whose `count` exceeds the cap is split by filters into
parts that each fit: by integration, then by native type, then by parent, and the run's log shows
that the parts add up to the total. No library does this; it is specific to Secoda's catalog filters.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fleetlake.sources.endpoints import ApiClient, parse_timestamp
from fleetlake.sources.lists import Endpoint
from fleetlake.sources.secoda.helpers import NextLinkPaginator, next_page_number

logger = logging.getLogger("fleetlake.sources.secoda")

PATH = "resource/catalog"
NEWEST_FIRST = {"field": "updated_at", "order": "desc", "tie_breaker": {"field": "id", "order": "asc"}}
# ids per `in` filter when splitting by parent: about 5 KB of URL, below common 8 KB server limits
PARENT_CHUNK = 100

Filter = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def updated_at(record: dict[str, Any]) -> datetime:
    """A resource's `updated_at` as an aware datetime (the epoch when missing or in no time form: such a
    resource is loaded, its value kept as text, and read again by the next run)."""
    try:
        return parse_timestamp(record.get("updated_at")) or EPOCH
    except ValueError:
        return EPOCH


def field_in(name: str, values: list[Any]) -> Filter:
    return {"operator": "in", "field": name, "value": values}


def both(*operands: Filter | None) -> Filter | None:
    present = [operand for operand in operands if operand is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"operator": "and", "operands": present}


def negate(operand: Filter) -> Filter:
    return {"operator": "not", "operands": [operand]}


def is_set(name: str) -> Filter:
    return {"operator": "is_set", "field": name, "value": None}


@dataclass
class Part:
    """One catalog query that fits under the cap, with its first page already read."""

    label: str
    filter: Filter | None
    count: int
    first: list[dict[str, Any]]
    more: bool


@dataclass
class SplitReport:
    """What the split did, for the log line that proves the parts add up."""

    total: int = 0
    parts: list[tuple[str, int]] = field(default_factory=list)
    unreachable: int = 0

    @property
    def covered(self) -> int:
        return sum(count for _, count in self.parts)


class CatalogReader:
    """Reads catalog queries page by page with a stable sort, splitting those over the cap."""

    def __init__(self, client: ApiClient, cap: int, endpoint: Endpoint) -> None:
        self.client = client
        self.cap = cap
        self.endpoint = endpoint
        self.paginator: NextLinkPaginator | None = None
        """The paginator of the part being read past its first page."""
        self.requests = 0
        # what has been read, by integration: parents for splitting children by parent_id
        self.ids_by_integration: dict[str, dict[str, list[str]]] = {}
        self.type_of: dict[str, str] = {}

    @staticmethod
    def _params(query: Filter | None) -> dict[str, Any]:
        params: dict[str, Any] = {"sort": json.dumps(NEWEST_FIRST, separators=(",", ":"))}
        if query is not None:
            params["filter"] = json.dumps(query, separators=(",", ":"))
        return params

    def probe(self, label: str, query: Filter | None) -> Part:
        """A query's first page, and its count: whether it fits under the cap decides how it is read."""
        self.requests += 1
        body = self.client.get_json("base_url", "resource_catalog", PATH, params={**self._params(query), "page": 1})
        results = list(body.get("results") or [])
        return Part(label, query, int(body.get("count") or 0), results, next_page_number(body, 1) is not None)

    def rest(self, part: Part) -> Generator[list[dict[str, Any]], None, None]:
        """A part's pages after its first (read by its probe), by Secoda's paginator from page 2."""
        self.paginator = None
        if not part.more or not part.first:
            return
        paginator = self.paginator = NextLinkPaginator(
            f"Secoda resource_catalog ({part.label})",
            first_page=2,
            # a server that keeps pointing at a next page past the query's count would loop forever
            last_page=math.ceil(part.count / max(1, len(part.first))) + 1,
            count=part.count,
            stop_on_empty=True,
        )
        for results in self.client.pages(self.endpoint, PATH, self._params(part.filter), paginator=paginator):
            self.requests += 1
            yield results

    def walk(self, part: Part) -> Iterator[list[dict[str, Any]]]:
        """Every page of a part, the first one reused from its probe."""
        for results in itertools.chain([part.first], self.rest(part)):
            self._remember(results)
            yield results

    def _remember(self, results: list[dict[str, Any]]) -> None:
        for record in results:
            integration = str(record.get("integration_id") or record.get("integration") or "")
            native = str(record.get("native_type") or record.get("entity_type") or "")
            self.ids_by_integration.setdefault(integration, {}).setdefault(native, []).append(str(record["id"]))
            self.type_of[str(record["id"])] = native

    def newest(self, since: datetime, loaded_at_since: set[str]) -> Iterator[list[dict[str, Any]]] | None:
        """Resources updated after `since` (or at it, unless among `loaded_at_since`), newest first; None
        when more changed than one query can return (the caller then reads everything).

        Times are compared parsed, not as text: `...:56Z` and `...:56.000001Z` sort wrongly as strings.
        """

        def changed(record: dict[str, Any]) -> bool:
            updated = updated_at(record)
            return updated > since or (updated == since and str(record["id"]) not in loaded_at_since)

        part = self.probe("changed", None)
        pages: list[list[dict[str, Any]]] = []
        read = 0
        self.paginator = None
        following = self.rest(part)
        for results in itertools.chain([part.first], following):
            fresh = [r for r in results if changed(r)]
            if fresh:
                pages.append(fresh)
            read += len(results)
            # whether another page follows: the probe's answer for the first, the paginator's after it
            more = part.more if self.paginator is None else self.paginator.has_next_page
            if not results or any(updated_at(r) < since for r in results) or not more:
                break
            if read >= self.cap:
                return None
        following.close()
        return iter(pages)

    def everything(
        self, integration_ids: Callable[[], list[str]], report: SplitReport
    ) -> Iterator[list[dict[str, Any]]]:
        """Every resource, each exactly once, splitting queries over the cap (integrations listed only then)."""
        total = self.probe("all resources", None)
        report.total = total.count
        if total.count <= self.cap:
            report.parts.append((total.label, total.count))
            yield from self.walk(total)
            return
        parts = [self.probe(f"integration {i}", field_in("integration_id", [i])) for i in integration_ids()]
        parts.append(self.probe("no integration", negate(is_set("integration_id"))))
        # smaller parts first: parents (schemas, tables) are then known when children need splitting
        for part in sorted(parts, key=lambda p: p.count):
            yield from self._fit(part, 1, report)

    def _fit(self, part: Part, level: int, report: SplitReport) -> Iterator[list[dict[str, Any]]]:
        if part.count <= self.cap:
            if part.count:
                report.parts.append((part.label, part.count))
                yield from self.walk(part)
            return
        if level == 1:
            yield from self._split_by_type(part, report)
        elif level == 2:
            yield from self._split_by_parent(part, report)
        else:
            # a single parent with more than `cap` children of one type: read what the API returns
            logger.warning(
                "resource_catalog: %s has %d resources, more than one query returns (%d) and no filter splits "
                "it further; %d of them cannot be read.",
                part.label,
                part.count,
                self.cap,
                part.count - self.cap,
            )
            report.parts.append((part.label, self.cap))
            report.unreachable += part.count - self.cap
            yield from self.walk(part)

    def _split_by_type(self, part: Part, report: SplitReport) -> Iterator[list[dict[str, Any]]]:
        """Peel off the native types seen on the remainder's first page until the remainder fits.

        Types that fit are read first and the remainder next, so that every possible parent (tables,
        views, schemas) is known before a type over the cap (columns) is split by parent.
        """
        remainder, seen, pieces = part, list[str](), list[Part]()
        while remainder.count > self.cap:
            types = sorted({str(r.get("native_type")) for r in remainder.first} - set(seen))
            if not types:
                break
            seen.extend(types)
            pieces += [
                self.probe(f"{part.label} / {native}", both(part.filter, field_in("native_type", [native])))
                for native in types
            ]
            remainder = self.probe(
                f"{part.label} / other types", both(part.filter, negate(field_in("native_type", seen)))
            )
        over = sorted((p for p in pieces if p.count > self.cap), key=lambda p: p.count)
        for piece in sorted((p for p in pieces if p.count <= self.cap), key=lambda p: p.count):
            yield from self._fit(piece, 2, report)
        yield from self._fit(remainder, 3, report)
        for piece in over:
            yield from self._fit(piece, 2, report)

    def _split_by_parent(self, part: Part, report: SplitReport) -> Iterator[list[dict[str, Any]]]:
        """Split one (integration, type) by the parents its first page points at, in chunks."""
        integration = str(part.first[0].get("integration_id") or "") if part.first else ""
        native = str(part.first[0].get("native_type") or "") if part.first else ""
        known = self.ids_by_integration.get(integration, {})
        # any resource of the integration read so far may be a parent (columns hang off tables and
        # views); the types the first page points at go first
        pointed = {self.type_of.get(str(r.get("parent_id")), "") for r in part.first if r.get("parent_id")}
        order = sorted(known, key=lambda t: (t not in pointed, t))
        parents = [i for t in order if t != native for i in known[t]]
        covered = 0
        for start in range(0, len(parents), PARENT_CHUNK):
            chunk = parents[start : start + PARENT_CHUNK]
            piece = self.probe(f"{part.label} / parents {start}+", both(part.filter, field_in("parent_id", chunk)))
            covered += piece.count
            yield from self._fit(piece, 3, report)
        orphans = self.probe(f"{part.label} / no parent", both(part.filter, negate(is_set("parent_id"))))
        covered += orphans.count
        yield from self._fit(orphans, 3, report)
        if covered != part.count:
            logger.warning(
                "resource_catalog: %s has %d resources but its parts by parent hold %d: %d have a parent "
                "fleetlake has not seen and are not loaded this run.",
                part.label,
                part.count,
                covered,
                part.count - covered,
            )
            report.unreachable += max(0, part.count - covered)
