"""The workspace's data: exact counts, determinism, the clock, and the large scale's cap and speed."""

from __future__ import annotations

import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from fleetlake.emulators.secoda import TABLES, SecodaEmulator
from tests.emulators.secoda.conftest import DEMO_COUNTS, NOW, SNOWFLAKE_ID, Running, as_json, bearer_session

CATALOG = "/resource/catalog"
STABLE = as_json({"field": "created_at", "order": "desc", "tie_breaker": {"field": "id", "order": "asc"}})
LARGE_COUNTS = {
    "resource_catalog": 200_000,
    "resource_detail": 200_000,
    "document": 4_000,
    "collection": 150,
    "integration": 6,
    "users": 400,
    "teams": 21,
    "tags": 120,
    "lineage": 8_000,
    "tables": 10_945,
    "columns": 152_638,
    "terms": 2_000,
    "questions": 1_500,
    "audit_log": 20_000,
}


def everything(api: requests.Session, base: str) -> list[dict[str, Any]]:
    rows, page = [], 1
    while page:
        body = api.get(base + CATALOG, params={"sort": STABLE, "page": page}).json()
        rows, page = rows + body["results"], body["meta"]["next_page"]
    return rows


def test_demo_counts_at_now() -> None:
    emulator = SecodaEmulator(now=NOW)
    assert emulator.expected_counts() == DEMO_COUNTS
    assert tuple(DEMO_COUNTS) == TABLES


def test_counts_at_construction_depend_only_on_seed_and_scale() -> None:
    later = SecodaEmulator(now=NOW + timedelta(days=400, hours=5)).expected_counts()
    assert later == DEMO_COUNTS
    other_seed = SecodaEmulator(seed=1, now=NOW).expected_counts()
    assert {k: v for k, v in other_seed.items() if v != DEMO_COUNTS[k]} == {"tables": 50, "columns": 395}


def test_equal_arguments_give_byte_identical_answers() -> None:
    paths = [
        (CATALOG, {"page": "4"}),
        (CATALOG, {"filter": as_json({"operator": "contains", "field": "title", "value": "id"})}),
        ("/notification/workspace/", {"page": "2"}),
        ("/integration/integrations", {}),
        ("/question/replies", {}),
    ]
    bodies = []
    for seed in (0, 0, 1):
        emulator = SecodaEmulator(seed=seed, now=NOW)
        with emulator.serve() as server, bearer_session() as api:
            base = emulator.base_url(server.url)
            bodies.append(
                [
                    api.get(base + path, params=params).content.replace(server.url.encode(), b"")
                    for path, params in paths
                ]
            )
    assert bodies[0] == bodies[1]
    assert all(a != b for a, b in zip(bodies[0], bodies[2], strict=True))


def test_the_clock_creates_and_changes_resources_and_logs_events() -> None:
    emulator = SecodaEmulator(now=NOW)
    with emulator.serve() as server, bearer_session() as api:
        base = emulator.base_url(server.url)
        before = everything(api, base)
        audit_before = api.get(base + "/notification/workspace/").json()
        assert requests.post(server.url + "/_emulator/advance", params={"seconds": 86_400}).status_code == 200
        after = everything(api, base)
        audit_after = api.get(base + "/notification/workspace/").json()
        counts = emulator.expected_counts()
    assert counts == {
        **DEMO_COUNTS,
        "resource_catalog": 612,
        "resource_detail": 612,
        "document": 38,
        "tables": 54,
        "columns": 402,
    }
    assert len(after) == 612
    new = [r for r in after if r["created_at"] > "2026-11-15T12"]
    assert [r["created_at"] for r in new[:2]] == ["2026-11-16T12:00:00.000000Z", "2026-11-16T10:00:00.000000Z"]
    assert Counter(r["native_type"] for r in new) == {"column": 8, "document": 2, "table": 2}
    assert all(r["updated_at"] == r["created_at"] and r["total_usage"] == 0 for r in new)
    old = {r["id"]: r for r in before}
    changed = [r for r in after if r["id"] in old and r != old[r["id"]]]
    assert len(changed) == 23
    assert all(old[r["id"]]["updated_at"] < "2026-11-15T12" < r["updated_at"] <= "2026-11-16T12" for r in changed)
    assert {k for r in changed for k in r if r[k] != old[r["id"]][k]} == {"updated_at"}
    assert audit_after["count"] == audit_before["count"] == 300
    fresh = [e for e in audit_after["results"] if e["created_at"] > "2026-11-15T12"]
    assert len(fresh) == 3
    assert audit_after["results"][len(fresh)] == audit_before["results"][0]


@pytest.fixture(scope="module")
def large() -> Iterator[Running]:
    emulator = SecodaEmulator(scale="large", now=NOW)
    with emulator.serve() as server:
        yield Running(emulator, server, emulator.base_url(server.url))


def test_large_counts_and_layout_stay_compact() -> None:
    tracemalloc.start()
    try:
        emulator = SecodaEmulator(scale="large", now=NOW)
        counts = emulator.expected_counts()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts == LARGE_COUNTS
    # about 40 bytes a resource in arrays, plus the per-type index lists: never 200,000 dicts
    assert peak < 40_000_000


def test_large_catalog_caps_pages_at_ten_thousand(large: Running) -> None:
    with bearer_session() as api:
        url = large.base + CATALOG
        first = api.get(url).json()
        last = api.get(url, params={"page": 100}).json()
        beyond = api.get(url, params={"page": 101})
        one_integration = api.get(
            url, params={"filter": as_json({"operator": "exact", "field": "integration_id", "value": SNOWFLAKE_ID})}
        ).json()
    assert (first["count"], first["total_pages"], first["links"]["next"]) == (200_000, 100, f"{url}?page=2")
    assert (len(last["results"]), last["links"]["next"], last["meta"]["next_page"]) == (100, None, None)
    assert (beyond.status_code, beyond.json()) == (404, {"detail": "Invalid page."})
    # a single integration still exceeds the cap: the client must split further
    assert (one_integration["count"], one_integration["total_pages"]) == (60_000, 100)


def test_large_catalog_splits_below_the_cap(large: Running) -> None:
    arrays = large.emulator.data.arrays()
    groups = Counter(zip(arrays.integ, arrays.ntype, arrays.parent, strict=True))
    by_type = Counter(zip(arrays.integ, arrays.ntype, strict=True))
    assert max(groups.values()) < 10_000
    assert sorted(n for n in by_type.values() if n > 10_000) == [12_011, 13_702, 22_387, 27_946, 46_510, 55_795]


def test_large_filtered_query_pages_fast(large: Running) -> None:
    tables = {
        "operator": "and",
        "operands": [
            {"operator": "exact", "field": "integration_id", "value": SNOWFLAKE_ID},
            {"operator": "in", "field": "native_type", "value": ["table", "view"]},
        ],
    }
    sort = as_json({"field": "id", "order": "asc"})
    with bearer_session() as api:
        url = large.base + CATALOG
        api.get(url, params={"filter": as_json(tables), "sort": sort})  # warm the layout
        started = time.perf_counter()
        pages = [api.get(url, params={"filter": as_json(tables), "sort": sort, "page": n}).json() for n in range(1, 11)]
        parents = [r["id"] for page in pages[:2] for r in page["results"]]
        columns = {
            "operator": "and",
            "operands": [
                {"operator": "exact", "field": "native_type", "value": "column"},
                {"operator": "in", "field": "parent_id", "value": parents},
            ],
        }
        split = api.get(url, params={"filter": as_json(columns)}).json()
        elapsed = time.perf_counter() - started
    assert [(p["count"], p["total_pages"]) for p in pages[:1]] == [(4_041, 41)]
    assert len({r["id"] for page in pages for r in page["results"]}) == 1_000
    assert (split["count"], split["total_pages"]) == (2_755, 28)
    assert elapsed < 5
