"""The catalog's `filter`, `sort` and `teams` parameters: parsed, checked and evaluated over the arrays.

`filter` is URL-encoded JSON: logical operands `{"operator": "and"|"or"|"not", "operands": [...]}`
and field operands `{"operator": "exact"|"contains"|"in"|"is_set", "field": ..., "value": ...}`.
There are no comparisons (the vendor documents none), so time ranges cannot be asked for; `contains`
on a timestamp (`"2026-11"`) is the closest thing. `sort` is `{"field", "order", "tie_breaker"}`.

Rows that tie on every sort key come back in an order that depends on the page asked for, as the
vendor warns for its default sort (usage, descending): walking such pages can repeat and miss rows.
A sort that ends in a unique field (`id`) is stable. The audit log (`audit`) parses and evaluates its
own `filter` and `sort` with the same functions, over its own fields.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fleetlake.emulators.core import RouteError
from fleetlake.emulators.secoda.data import ENTITY_TYPES, NATIVE_TYPES, NO_INTEGRATION, SecodaData
from fleetlake.emulators.secoda.ids import iso

LOGICAL = ("and", "or", "not")
FIELD_OPERATORS = ("exact", "contains", "in", "is_set")
FILTER_FIELDS = (
    "id",
    "title",
    "title_full",
    "native_type",
    "entity_type",
    "integration_id",
    "parent_id",
    "description",
    "created_at",
    "updated_at",
    "total_usage",
    "published",
    "verified",
    "archived",
    "pii",
)
SORT_FIELDS = ("updated_at", "created_at", "title", "id", "total_usage", "native_type", "entity_type")
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class FieldTest:
    """A field operand: `operator` applied to `field` with `value`."""

    operator: str
    field: str
    value: Any


@dataclass(frozen=True)
class Logical:
    """A logical operand over its operands (`not` negates their conjunction)."""

    operator: str
    operands: tuple[FieldTest | Logical, ...]


Node = FieldTest | Logical


@dataclass(frozen=True)
class SortKey:
    """One sort field and its direction."""

    field: str
    descending: bool


DEFAULT_SORT = (SortKey("total_usage", True),)
"""The vendor's default: usage, most used first (ties in no particular order)."""


def _json(raw: str, name: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise RouteError(400, f"{name} must be a URL-encoded JSON object, got {raw[:80]!r}") from None


def _normal(value: Scalar) -> str | None:
    """Values compared as text: booleans as true/false, numbers as digits."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _node(tree: object, fields: Sequence[str], depth: int = 0) -> Node:
    if not isinstance(tree, dict) or depth > 32:
        raise RouteError(400, "each filter operand must be a JSON object with an operator")
    operator = tree.get("operator")
    if operator in LOGICAL:
        operands = tree.get("operands")
        if not isinstance(operands, list) or not operands:
            raise RouteError(400, f"the {operator!r} operator needs a non-empty list of operands")
        return Logical(operator, tuple(_node(child, fields, depth + 1) for child in operands))
    if operator not in FIELD_OPERATORS:
        raise RouteError(400, f"unsupported filter operator {operator!r}: use {', '.join(LOGICAL + FIELD_OPERATORS)}")
    field, value = tree.get("field"), tree.get("value")
    if field not in fields:
        raise RouteError(400, f"unsupported filter field {field!r}: use {', '.join(fields)}")
    if operator == "in" and not (isinstance(value, list) and all(_is_scalar(v) for v in value)):
        raise RouteError(400, f"the 'in' operator on {field!r} needs a list of values")
    if operator == "contains" and not isinstance(value, str | int | float):
        raise RouteError(400, f"the 'contains' operator on {field!r} needs a string value")
    if operator == "exact" and not _is_scalar(value):
        raise RouteError(400, f"the 'exact' operator on {field!r} needs a single value")
    return FieldTest(str(operator), str(field), value)


def parse_filter(raw: str | None, fields: Sequence[str] = FILTER_FIELDS) -> Node | None:
    """The `filter` parameter as a tree (None when absent); 400 when it is not a valid filter of `fields`."""
    return None if not raw else _node(_json(raw, "filter"), fields)


def _sort_key(tree: object, fields: Sequence[str]) -> SortKey:
    if not isinstance(tree, dict) or tree.get("field") not in fields:
        raise RouteError(400, f"sort needs a field, one of {', '.join(fields)}")
    order = tree.get("order", "asc")
    if order not in ("asc", "desc"):
        raise RouteError(400, f"sort order must be 'asc' or 'desc', got {order!r}")
    return SortKey(str(tree["field"]), order == "desc")


def parse_sort(
    raw: str | None, fields: Sequence[str] = SORT_FIELDS, default: tuple[SortKey, ...] = DEFAULT_SORT
) -> tuple[SortKey, ...]:
    """The `sort` parameter as its keys over `fields`, the tie breaker last (`default` when absent)."""
    if not raw:
        return default
    tree = _json(raw, "sort")
    keys = [_sort_key(tree, fields)]
    breaker = tree.get("tie_breaker") if isinstance(tree, dict) else None
    if breaker is not None:
        keys.append(_sort_key(breaker, fields))
    return tuple(keys)


Predicate = Callable[[int], bool]


def text_test(test: FieldTest, get: Callable[[int], str | None]) -> Predicate:
    """A field operand as a test of a record's field read as text (`get`)."""
    if test.operator in ("exact", "in"):
        values = test.value if test.operator == "in" else [test.value]
        wanted = {_normal(v) for v in values}
        return lambda i: get(i) in wanted
    if test.operator == "is_set":
        return lambda i: get(i) not in (None, "")
    needle = str(_normal(test.value)).casefold()
    return lambda i: needle in (get(i) or "").casefold()


def select(node: Node, candidates: list[int], predicate: Callable[[FieldTest], Predicate]) -> list[int]:
    """The candidates (in their order) that `node` accepts, each field operand tested by `predicate`."""
    if isinstance(node, FieldTest):
        test = predicate(node)
        return [i for i in candidates if test(i)]
    if node.operator == "and":
        for operand in node.operands:
            candidates = select(operand, candidates, predicate)
        return candidates
    if node.operator == "or":
        hits: set[int] = set()
        for operand in node.operands:
            hits.update(select(operand, candidates, predicate))
        return [i for i in candidates if i in hits]
    dropped = set(select(Logical("and", node.operands), candidates, predicate))
    return [i for i in candidates if i not in dropped]


class Snapshot:
    """The catalog at one data time: the fields filters and sorts read, by resource index."""

    def __init__(self, data: SecodaData, now_us: int) -> None:
        self.data = data
        self.now_us = now_us
        self.count = data.count(now_us)
        self.arrays = data.arrays(now_us)

    def text(self, field: str) -> Callable[[int], str | None]:
        """A field's value as text, for `exact`, `in`, `contains` and `is_set`."""
        data, a = self.data, self.arrays
        if field in ("created_at", "updated_at"):
            times = a.created if field == "created_at" else self.data.updated_all(self.now_us)
            return lambda i: iso(times[i])
        if field == "title":
            titles = data.titles(self.count)
            return titles.__getitem__
        integration_ids = [g.id for g in data.integrations]
        getters: dict[str, Callable[[int], Scalar]] = {
            "id": data.resource_ids.encode,
            "title_full": data.title_full,
            "native_type": lambda i: NATIVE_TYPES[a.ntype[i]],
            "entity_type": lambda i: ENTITY_TYPES[a.ntype[i]],
            "integration_id": lambda i: None if a.integ[i] == NO_INTEGRATION else integration_ids[a.integ[i]],
            "parent_id": lambda i: None if a.parent[i] < 0 else data.resource_ids.encode(a.parent[i]),
            "description": data.description,
            "total_usage": a.usage.__getitem__,
        }
        get = getters.get(field) or (lambda i: getattr(data.flags(i), field))
        return lambda i: _normal(get(i))

    def _membership(self, field: str, wanted: set[str | None]) -> Callable[[int], bool] | None:
        """A fast test for `exact`/`in` on the fields the arrays hold, else None."""
        a, data = self.arrays, self.data
        if field in ("native_type", "entity_type"):
            names = NATIVE_TYPES if field == "native_type" else ENTITY_TYPES
            codes = {code for code, name in enumerate(names) if name in wanted}
            return lambda i: a.ntype[i] in codes
        if field == "integration_id":
            found = {data.integration_ids.decode(v) for v in wanted}
            groups = {g for g in found if g is not None and g < len(data.integrations)}
            if None in wanted:
                groups.add(NO_INTEGRATION)
            return lambda i: a.integ[i] in groups
        if field in ("parent_id", "id"):
            indexes = {data.resource_index(v, self.now_us) for v in wanted} - {None}
            if field == "id":
                return lambda i: i in indexes
            if None in wanted:
                indexes.add(-1)
            return lambda i: a.parent[i] in indexes
        return None

    def predicate(self, test: FieldTest) -> Predicate:
        """The test one field operand makes of a resource."""
        if test.operator in ("exact", "in"):
            values = test.value if test.operator == "in" else [test.value]
            fast = self._membership(test.field, {_normal(v) for v in values})
            if fast is not None:
                return fast
        return text_test(test, self.text(test.field))

    def select(self, node: Node, candidates: list[int]) -> list[int]:
        """The candidates (in their order) that `node` accepts."""
        return select(node, candidates, self.predicate)

    def in_teams(self, team_ids: Sequence[str]) -> list[int]:
        """The resources of any of the teams (unknown team ids match nothing)."""
        data = self.data
        teams = {data.team_ids.decode(t) for t in team_ids} - {None}
        groups = {g.index for g in data.integrations if teams.intersection(g.teams)}
        integ = self.arrays.integ
        return [
            i
            for i in range(self.count)
            if integ[i] in groups or (integ[i] == NO_INTEGRATION and data.teams_of(i)[0] in teams)
        ]

    def sort_value(self, field: str) -> Callable[[int], int | str]:
        """A sort field's value for a resource."""
        a = self.arrays
        if field == "updated_at":
            return self.data.updated_all(self.now_us).__getitem__
        if field == "created_at":
            return a.created.__getitem__
        if field == "title":
            return self.data.titles(self.count).__getitem__
        if field == "id":
            return self.data.id_values(self.count).__getitem__
        if field == "total_usage":
            return a.usage.__getitem__
        names = NATIVE_TYPES if field == "native_type" else ENTITY_TYPES
        return lambda i: names[a.ntype[i]]


@dataclass(frozen=True)
class Ordered:
    """A query's resources in sort order; `tie_key` is None when the order is total (stable)."""

    order: list[int]
    tie_key: Callable[[int], tuple[int | str, ...]] | None


class CatalogQueries:
    """Evaluates catalog queries and keeps the last few orders (a client pages one query at a time)."""

    def __init__(self, data: SecodaData, size: int = 8) -> None:
        self.data = data
        self._size = size
        self._cache: OrderedDict[tuple[str, str, str, int], Ordered] = OrderedDict()
        self._lock = threading.Lock()

    def ordered(self, filter_raw: str, sort_raw: str, teams_raw: str, now_us: int) -> Ordered:
        """Every resource the query matches at `now_us`, sorted; 400 for a malformed filter or sort."""
        key = (filter_raw, sort_raw, teams_raw, now_us)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        node, keys = parse_filter(filter_raw), parse_sort(sort_raw)
        snap = Snapshot(self.data, now_us)
        teams = [t.strip() for t in teams_raw.split(",") if t.strip()]
        candidates = snap.in_teams(teams) if teams else list(range(snap.count))
        if node is not None:
            candidates = snap.select(node, candidates)
        values = [snap.sort_value(k.field) for k in keys]
        for value, k in reversed(list(zip(values, keys, strict=True))):
            candidates.sort(key=value, reverse=k.descending)
        stable = any(k.field == "id" for k in keys)
        result = Ordered(candidates, None if stable else lambda i: tuple(v(i) for v in values))
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return result

    def page(self, ordered: Ordered, start: int, stop: int, page: int) -> list[int]:
        """The resources at [start, stop), rows that tie with their neighbours shuffled by `page`."""
        order, tie_key = ordered.order, ordered.tie_key
        stop = min(stop, len(order))
        if start >= stop or tie_key is None:
            return order[start:stop]
        low, high = start, stop
        first, last = tie_key(order[start]), tie_key(order[stop - 1])
        while low > 0 and tie_key(order[low - 1]) == first:
            low -= 1
        while high < len(order) and tie_key(order[high]) == last:
            high += 1
        rank, previous, ranked = 0, None, []
        for i in order[low:high]:
            current = tie_key(i)
            if current != previous:
                rank, previous = rank + 1, current
            ranked.append((rank, self.data.hash(10, i, page), i))
        ranked.sort()
        return [i for _, _, i in ranked[start - low : stop - low]]
