"""`resource/catalog`: the envelope, both next-link styles, filter, sort, teams, the cap and details."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from fleetlake.emulators.secoda import SecodaEmulator
from tests.emulators.secoda.conftest import NOW, SNOWFLAKE_ID, TABLEAU_ID, Running, as_json, bearer_session

CATALOG = "/resource/catalog"
FIRST = {
    "id": "c78963b5-fece-421f-8571-6394305c991e",
    "created_at": "2026-07-14T23:45:46.384269Z",
    "updated_at": "2026-08-29T18:28:27.196170Z",
    "entity_type": "chart",
    "native_type": "chart",
    "bookmarked_by": [],
    "icon": None,
    "title": "Refund rate",
    "title_full": "Inventory Deep Dive.Refund rate",
    "title_cased": "Refund rate",
    "description": "Refund rate, by week.",
    "definition": "",
    "multiplayers": [],
    "multiplayer_last_modified_by": None,
    "multiplayer_last_modified": None,
    "owners": ["e4e3a799-b995-422d-a118-b9d50562c45c"],
    "owners_groups": [],
    "collections": [],
    "tags": [],
    "teams": ["4bc085b5-7d25-4bdb-9c97-bb91ace6e827"],
    "workspace_id": "3c0d8a21-d95c-43ec-9eaf-59d1fc080a97",
    "integration_id": TABLEAU_ID,
    "parent_id": "f7d522ad-d4ef-4051-beb1-dd789bff50b6",
    "total_usage": 489,
    "published": False,
    "archived": False,
    "pii": False,
    "verified": False,
    "url": "https://app.secoda.co/chart/c78963b5-fece-421f-8571-6394305c991e",
}
"""The most used resource of the demo workspace: the default sort's first row."""
SCHEMA_ID = "211c3707-302f-4534-97d9-4becc41438e5"
"""The demo's first schema, MARKETING.PRODUCT, holding three tables and views."""


def walk(api: requests.Session, url: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of a query, page by page by page number until `meta.next_page` is null."""
    rows, page = [], 1
    while True:
        body = api.get(url, params={**params, "page": str(page)}).json()
        rows += body["results"]
        if body["meta"]["next_page"] is None:
            return rows
        page = body["meta"]["next_page"]


def test_envelope_first_and_last_pages(demo: Running, api: requests.Session) -> None:
    url = demo.base + CATALOG
    first = api.get(url).json()
    assert list(first) == ["links", "meta", "count", "total_pages", "results"]
    assert first["links"] == {"next": f"{url}?page=2", "previous": None}
    assert first["meta"] == {"page": 1, "previous_page": None, "next_page": 2}
    assert (first["count"], first["total_pages"], len(first["results"])) == (600, 6, 100)
    assert first["results"][0] == FIRST
    last = api.get(url + "/", params={"page": 6}).json()
    assert last["links"] == {"next": None, "previous": f"{url}/?page=5"}
    assert last["meta"] == {"page": 6, "previous_page": 5, "next_page": None}
    assert len(last["results"]) == 100
    for page in ("7", "0", "-1", "two"):
        beyond = api.get(url, params={"page": page})
        assert (beyond.status_code, beyond.json()) == (404, {"detail": "Invalid page."})


def test_canonical_next_link_keeps_the_query_and_walks_everything(demo: Running, api: requests.Session) -> None:
    query = {
        "filter": as_json({"operator": "in", "field": "native_type", "value": ["column", "chart"]}),
        "sort": as_json({"field": "created_at", "order": "asc", "tie_breaker": {"field": "id", "order": "asc"}}),
    }
    url, rows, pages = demo.base + CATALOG + "/", [], 0
    next_url: str | None = url
    params: dict[str, str] | None = query
    while next_url:
        body = api.get(next_url, params=params).json()
        rows += body["results"]
        pages, next_url, params = pages + 1, body["links"]["next"], None
        if next_url:
            parts = urlsplit(next_url)
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == url
            assert parse_qsl(parts.query) == [*query.items(), ("page", str(pages + 1))]
    assert (pages, len(rows), len({r["id"] for r in rows})) == (5, 456, 456)
    assert {r["native_type"] for r in rows} == {"column", "chart"}
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)


@pytest.mark.parametrize("host", ["https://api.secoda.co", "https://eapi.secoda.co"])
def test_vendor_next_links_point_elsewhere_and_only_their_page_is_usable(host: str) -> None:
    emulator = SecodaEmulator(now=NOW, next_link_style="vendor", vendor_host=host + "/")
    query = {
        "filter": as_json({"operator": "exact", "field": "native_type", "value": "column"}),
        "sort": as_json({"field": "id", "order": "desc"}),
    }
    with emulator.serve() as server, bearer_session() as api:
        url = emulator.base_url(server.url) + CATALOG
        first = api.get(url, params=query).json()
        rows, body = list(first["results"]), first
        while body["links"]["next"]:
            # a client survives these links by taking only the page number from them
            page = dict(parse_qsl(urlsplit(body["links"]["next"]).query))["page"]
            body = api.get(url, params={**query, "page": page}).json()
            rows += body["results"]
    encoded = (
        "filter=%7B%22operator%22%3A%22exact%22%2C%22field%22%3A%22native_type%22%2C%22value%22%3A%22column%22%7D"
        "&sort=%7B%22field%22%3A%22id%22%2C%22order%22%3A%22desc%22%7D"
    )
    assert first["links"] == {
        "next": f"{host}/resource/catalog/?page=2&{encoded}",
        "previous": "None",
    }
    assert first["meta"] == {"page": 1, "previous_page": "None", "next_page": 2}
    assert body["links"]["previous"] == f"{host}/resource/catalog/?page=3&{encoded}"
    assert (body["links"]["next"], body["meta"]["next_page"]) == (None, None)
    assert (len(rows), len({r["id"] for r in rows})) == (394, 394)


FILTERS = [
    ({"operator": "exact", "field": "native_type", "value": "dashboard"}, 18),
    ({"operator": "in", "field": "native_type", "value": ["table", "view"]}, 52),
    ({"operator": "exact", "field": "entity_type", "value": "table"}, 52),
    ({"operator": "contains", "field": "title", "value": "ORDER"}, 25),
    ({"operator": "is_set", "field": "description", "value": None}, 407),
    ({"operator": "not", "operands": [{"operator": "is_set", "field": "integration_id", "value": None}]}, 60),
    ({"operator": "exact", "field": "integration_id", "value": None}, 60),
    ({"operator": "in", "field": "integration_id", "value": [SNOWFLAKE_ID, TABLEAU_ID]}, 380),
    (
        {
            "operator": "or",
            "operands": [
                {"operator": "exact", "field": "entity_type", "value": "document"},
                {"operator": "exact", "field": "pii", "value": True},
            ],
        },
        142,
    ),
    (
        {
            "operator": "and",
            "operands": [
                {"operator": "contains", "field": "title", "value": "customers"},
                {"operator": "in", "field": "native_type", "value": ["table", "view"]},
                {"operator": "in", "field": "integration_id", "value": [SNOWFLAKE_ID]},
            ],
        },
        2,
    ),
    ({"operator": "exact", "field": "parent_id", "value": SCHEMA_ID}, 3),
    ({"operator": "contains", "field": "title_full", "value": "marketing.product."}, 20),
    ({"operator": "contains", "field": "updated_at", "value": "2026-11"}, 162),
    ({"operator": "exact", "field": "published", "value": "false"}, 49),
    ({"operator": "in", "field": "total_usage", "value": [1, 2, 3]}, 7),
    ({"operator": "exact", "field": "id", "value": FIRST["id"]}, 1),
    ({"operator": "in", "field": "id", "value": ["not-an-id", "4bc085b5-7d25-4bdb-9c97-bb91ace6e827"]}, 0),
]


@pytest.mark.parametrize(("tree", "count"), FILTERS)
def test_filter_operators(demo: Running, api: requests.Session, tree: dict[str, Any], count: int) -> None:
    body = api.get(demo.base + CATALOG, params={"filter": as_json(tree)}).json()
    assert body["count"] == count
    assert body["total_pages"] == max(1, -(-count // 100))


def test_filtered_rows_match_their_filter(demo: Running, api: requests.Session) -> None:
    tree = {
        "operator": "and",
        "operands": [
            {"operator": "in", "field": "native_type", "value": ["table", "view"]},
            {"operator": "not", "operands": [{"operator": "contains", "field": "title", "value": "vw_"}]},
            {"operator": "exact", "field": "parent_id", "value": SCHEMA_ID},
        ],
    }
    rows = api.get(demo.base + CATALOG, params={"filter": as_json(tree)}).json()["results"]
    assert sorted((r["title_full"], r["native_type"], r["parent_id"]) for r in rows) == [
        ("MARKETING.PRODUCT.FCT_EVENTS", "table", SCHEMA_ID),
        ("MARKETING.PRODUCT.FCT_SESSIONS", "table", SCHEMA_ID),
    ]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"filter": "{not json"}, "filter must be a URL-encoded JSON object, got '{not json'"),
        ({"filter": as_json({"operator": "gt", "field": "title", "value": 1})}, "unsupported filter operator 'gt'"),
        (
            {"filter": as_json({"operator": "exact", "field": "colour", "value": 1})},
            "unsupported filter field 'colour'",
        ),
        (
            {"filter": as_json({"operator": "in", "field": "title", "value": "a"})},
            "the 'in' operator on 'title' needs a list",
        ),
        ({"filter": as_json({"operator": "and", "operands": []})}, "the 'and' operator needs a non-empty list"),
        ({"filter": as_json(["exact"])}, "each filter operand must be a JSON object"),
        ({"sort": "updated_at"}, "sort must be a URL-encoded JSON object"),
        ({"sort": as_json({"field": "owners"})}, "sort needs a field, one of updated_at, created_at"),
        ({"sort": as_json({"field": "title", "order": "up"})}, "sort order must be 'asc' or 'desc', got 'up'"),
    ],
)
def test_malformed_filter_or_sort_is_400(
    demo: Running, api: requests.Session, params: dict[str, str], detail: str
) -> None:
    answer = api.get(demo.base + CATALOG, params=params)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(detail)


def test_a_sort_with_an_id_tie_breaker_is_stable(demo: Running, api: requests.Session) -> None:
    sort = as_json({"field": "updated_at", "order": "desc", "tie_breaker": {"field": "id", "order": "asc"}})
    rows = walk(api, demo.base + CATALOG, {"sort": sort})
    assert (len(rows), len({r["id"] for r in rows})) == (600, 600)
    assert [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)
    assert walk(api, demo.base + CATALOG, {"sort": sort}) == rows
    titles = api.get(demo.base + CATALOG, params={"sort": as_json({"field": "title", "tie_breaker": {"field": "id"}})})
    assert [r["title"] for r in titles.json()["results"][:3]] == ["ACCOUNT_ID"] * 3
    ids = [r["id"] for r in titles.json()["results"][:3]]
    assert ids == sorted(ids)


def test_the_default_sort_repeats_and_misses_rows_across_pages(demo: Running, api: requests.Session) -> None:
    rows = walk(api, demo.base + CATALOG, {})
    ids = [r["id"] for r in rows]
    usage = [r["total_usage"] for r in rows]
    assert usage == sorted(usage, reverse=True)
    # 325 resources are unused; each page orders that tie its own way
    assert (len(ids), len(set(ids))) == (600, 505)
    assert usage.count(0) == 325
    # the same page asked twice is the same answer
    assert (
        api.get(demo.base + CATALOG, params={"page": 5}).json()
        == api.get(demo.base + CATALOG, params={"page": 5}).json()
    )


def test_teams_parameter(demo: Running, api: requests.Session) -> None:
    data = demo.emulator.data
    tableau_team, finance, general, engineering = (data.team_ids.encode(t) for t in (2, 3, 0, 1))
    counts = {
        name: api.get(demo.base + CATALOG, params={"teams": value}).json()["count"]
        for name, value in {
            "tableau": tableau_team,
            "finance": finance,
            "two": f"{general},{engineering}",
            "unknown": "00000000-0000-4000-8000-000000000000",
        }.items()
    }
    assert counts == {"tableau": 95, "finance": 15, "two": 490, "unknown": 0}
    empty = api.get(demo.base + CATALOG, params={"teams": "nobody"}).json()
    assert (empty["count"], empty["total_pages"], empty["results"], empty["links"]["next"]) == (0, 1, [], None)


def test_catalog_cap_stops_pages_but_not_the_count() -> None:
    emulator = SecodaEmulator(now=NOW, catalog_cap=250)
    with emulator.serve() as server, bearer_session() as api:
        url = emulator.base_url(server.url) + CATALOG
        pages = [api.get(url, params={"page": n}) for n in (1, 3, 4)]
    first, third, fourth = (p.json() for p in pages)
    assert (first["count"], first["total_pages"]) == (600, 3)
    assert (len(third["results"]), third["links"]["next"], third["meta"]["next_page"]) == (50, None, None)
    assert (pages[2].status_code, fourth) == (404, {"detail": "Invalid page."})


def test_resource_detail(demo: Running, api: requests.Session) -> None:
    for path in (f"/resource/all/{FIRST['id']}", f"/resource/all/{FIRST['id']}/"):
        answer = api.get(demo.base + path)
        assert (answer.status_code, answer.json()) == (200, FIRST)
    for unknown in ("00000000-0000-4000-8000-000000000000", "nope", SNOWFLAKE_ID):
        missing = api.get(f"{demo.base}/resource/all/{unknown}")
        assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
