"""The entity lists, their details and documented filters, and the audit log's own envelope."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.emulators.secoda.conftest import DEMO_COUNTS, POSTGRES_ID, Running

LISTS = {
    "document": "/document/documents",
    "collection": "/collection/collections",
    "integration": "/integration/integrations",
    "users": "/user",
    "teams": "/auth/teams/",
    "tags": "/tag",
    "lineage": "/lineage/manual/",
    "tables": "/table/tables/",
    "columns": "/table/columns",
    "terms": "/dictionary/terms",
    "questions": "/question/questions",
}
TABLE_ID = "390259e1-3bf3-4719-931d-8fd07e484106"
"""MARKETING.PRODUCT.VW_FCT_USERS, the demo's first table (a view) with nine columns."""


def follow(api: requests.Session, url: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Every row of a list, following `links.next`, and how many pages that took."""
    body = api.get(url, params=params).json()
    rows, pages = list(body["results"]), 1
    while body["links"]["next"]:
        body = api.get(body["links"]["next"]).json()
        rows, pages = rows + body["results"], pages + 1
    return rows, pages


@pytest.mark.parametrize("table", sorted(LISTS))
def test_every_list_holds_its_expected_count(demo: Running, api: requests.Session, table: str) -> None:
    # as the client asks: teams with the archived ones
    rows, pages = follow(api, demo.base + LISTS[table], **({"include_archived": "true"} if table == "teams" else {}))
    assert len(rows) == DEMO_COUNTS[table]
    assert len({r["id"] for r in rows}) == len(rows)
    assert pages == max(1, -(-len(rows) // 50))
    # the details answer what the list showed
    detail = api.get(f"{demo.base}{LISTS[table].rstrip('/')}/{rows[-1]['id']}/")
    assert (detail.status_code, detail.json()) == (200, rows[-1])
    missing = api.get(f"{demo.base}{LISTS[table].rstrip('/')}/00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})


def test_page_size_is_fifty_and_the_last_page_is_marked(demo: Running, api: requests.Session) -> None:
    url = demo.base + "/table/columns"
    last = api.get(url, params={"page": 8}).json()
    assert (last["count"], last["total_pages"], len(last["results"])) == (394, 8, 44)
    assert last["links"] == {"next": None, "previous": f"{url}?page=7"}
    assert last["meta"] == {"page": 8, "previous_page": 7, "next_page": None}
    assert api.get(url, params={"page": 9}).json() == {"detail": "Invalid page."}


def test_documents_also_answer_at_the_seed_pages_path(demo: Running, api: requests.Session) -> None:
    plain = api.get(demo.base + "/document").json()
    listed = api.get(demo.base + "/document/documents").json()
    assert plain["results"] == listed["results"]
    assert plain["results"][0]["title"] == "Onboarding guide for analysts"
    assert {r["entity_type"] for r in listed["results"]} == {"document"}


def test_teams_use_the_newer_envelope_and_hide_archived_ones(demo: Running, api: requests.Session) -> None:
    body = api.get(demo.base + "/auth/teams/").json()
    assert list(body) == ["results", "count", "total_pages", "meta", "links"]
    assert body["meta"] == {"page": 1, "previous_page": None, "next_page": None, "count": 4, "total_pages": 1}
    everything = api.get(demo.base + "/auth/teams/", params={"include_archived": "true"}).json()["results"]
    assert [(t["name"], t["archived"], t["is_default_team"]) for t in everything] == [
        ("General", False, True),
        ("Data Engineering", False, False),
        ("Analytics", False, False),
        ("Finance", False, False),
        ("Legacy BI", True, False),
    ]


def test_collection_and_integration_filters(demo: Running, api: requests.Session) -> None:
    named = api.get(demo.base + "/collection/collections", params={"title": "Customer data"}).json()
    assert [(c["id"], c["title"]) for c in named["results"]] == [
        ("6cab06a9-e48e-46b5-b25c-8f8fceca8efc", "Customer data")
    ]
    assert api.get(demo.base + "/collection/collections", params={"title": "Nope"}).json()["count"] == 0
    postgres = api.get(demo.base + "/integration/integrations", params={"type": "postgres"}).json()["results"]
    assert [(i["id"], i["name"]) for i in postgres] == [(POSTGRES_ID, "Postgres App Database")]


def test_integrations_carry_secret_looking_credentials(demo: Running, api: requests.Session) -> None:
    rows = api.get(demo.base + "/integration/integrations").json()["results"]
    assert [(r["type"], sorted(r["credentials"])) for r in rows] == [
        ("snowflake", ["account", "password", "role", "user", "warehouse"]),
        ("postgres", ["database", "host", "password", "port", "user"]),
        ("tableau", ["server_url", "site_id", "token_name", "token_secret"]),
    ]
    assert rows[0]["credentials"]["password"] == "dyDXHtqbLcBDo92x6Rs5Wp5zuUE5wfA8"
    assert rows[2]["credentials"]["token_secret"] == "jQ3Fa5J5EHC4P4dhvbwAS2psgMDNyjAF"
    assert (rows[0]["scheduled_extractions_last_run"], rows[0]["scheduled_extractions_next_run"]) == (
        "2026-11-15T09:00:00.000000Z",
        "2026-11-16T09:00:00.000000Z",
    )


def test_users_have_no_timestamps_but_last_login(demo: Running, api: requests.Session) -> None:
    users = api.get(demo.base + "/user").json()["results"]
    assert not {"created_at", "updated_at"} & set(users[0])
    assert [u["email"] for u in users[:3]] == [
        "ada.adeyemi@northwind.example",
        "helga.castillo@northwind.example",
        "olu.eriksen@northwind.example",
    ]
    assert (users[0]["role"], users[1]["is_service_account"]) == ("Admin", True)


def test_table_and_column_filters(demo: Running, api: requests.Session) -> None:
    url = demo.base + "/table/tables"
    by_name = api.get(url, params={"schema": "product", "database": "MARKETING"}).json()["results"]
    assert [t["name"] for t in by_name] == ["VW_FCT_USERS", "FCT_SESSIONS", "FCT_EVENTS"]
    by_id = api.get(url, params={"schema": "211c3707-302f-4534-97d9-4becc41438e5"}).json()["results"]
    assert by_id == by_name
    assert by_name[0]["columns"] == [
        "EMAIL",
        "FIRST_NAME",
        "LAST_NAME",
        "PHONE_NUMBER",
        "STATUS",
        "AMOUNT",
        "CURRENCY",
        "COUNTRY",
        "CITY",
    ]
    assert (by_name[0]["type"], by_name[0]["schema"], by_name[0]["database"]) == ("view", "PRODUCT", "MARKETING")
    assert api.get(url, params={"integration_id": POSTGRES_ID}).json()["count"] == 18
    columns = api.get(demo.base + "/table/columns", params={"parent_id": TABLE_ID}).json()["results"]
    assert [c["name"] for c in columns] == by_name[0]["columns"]
    assert (columns[0]["title_full"], columns[0]["type"], columns[0]["pii"]) == (
        "MARKETING.PRODUCT.VW_FCT_USERS.EMAIL",
        "VARCHAR",
        True,
    )


def test_lineage_and_reply_filters(demo: Running, api: requests.Session) -> None:
    url = demo.base + "/lineage/manual/"
    edge = api.get(url).json()["results"][0]
    assert edge == {
        "id": "4680608b-e3d7-49c0-a65f-92a89fff2a54",
        "created_at": "2026-05-10T18:10:48.726428Z",
        "updated_at": "2026-07-28T16:22:22.384753Z",
        "from_entity_id": "8e5b81b8-8fd6-4705-9f3e-cbaede8a3627",
        "to_entity_id": "f23b0b9a-c931-4c24-8e60-db5d5228597d",
        "direction": "DOWNSTREAM",
        "workspace_id": "3c0d8a21-d95c-43ec-9eaf-59d1fc080a97",
        "is_manual": True,
    }
    counts = [
        api.get(url, params=params).json()["count"]
        for params in (
            {"from_entity_id": edge["from_entity_id"]},
            {"to_entity__in": f"{edge['to_entity_id']},{edge['from_entity_id']}"},
            {"integration_type": "postgres"},
        )
    ]
    assert counts == [2, 1, 8]
    questions = api.get(demo.base + "/question/questions").json()["results"]
    answered = [q for q in questions if q["accepted_answer"]]
    assert (len(answered), {q["status"] for q in answered}) == (7, {"answered"})
    replies = api.get(demo.base + "/question/replies", params={"question_id": answered[0]["id"]}).json()["results"]
    assert [r["accepted_answer"] for r in replies] == [True] + [False] * (len(replies) - 1)
    assert replies[0]["id"] == answered[0]["accepted_answer"]
    assert api.get(demo.base + "/question/replies").json()["count"] == 31


def test_audit_log_envelope_days_and_page_size(demo: Running, api: requests.Session) -> None:
    url = demo.base + "/notification/workspace/"
    first = api.get(url).json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert (first["count"], len(first["results"]), first["next"], first["previous"]) == (300, 50, f"{url}?page=2", None)
    assert first["results"][0] == {
        "id": "d855fb08-6fea-4077-ae19-8169e2f8cc50",
        "created_at": "2026-11-15T10:41:19.903477Z",
        "event": "owner.changed",
        "resource_id": "8e82a7ec-59bf-4e7e-89ac-edb38eefcfe0",
        "resource_type": "column",
        "performer": {"id": "5c3142df-f2bc-4332-9a1f-fcf4166aed1e", "name": "Bilal Hoang"},
    }
    times = [e["created_at"] for e in first["results"]]
    assert times == sorted(times, reverse=True)
    shapes = {
        str(params): (body["count"], len(body["results"]), body["next"], body["previous"])
        for params in (
            {"page_size": "100", "page": "3"},
            {"page_size": "500"},
            {"days": "7", "page_size": "10", "page": "3"},
            {"days": "1"},
            {"days": "365"},
        )
        for body in [api.get(url, params=params).json()]
    }
    assert shapes == {
        "{'page_size': '100', 'page': '3'}": (300, 100, None, f"{url}?page_size=100&page=2"),
        "{'page_size': '500'}": (300, 100, f"{url}?page_size=500&page=2", None),
        "{'days': '7', 'page_size': '10', 'page': '3'}": (23, 3, None, f"{url}?days=7&page_size=10&page=2"),
        "{'days': '1'}": (3, 3, None, None),
        "{'days': '365'}": (300, 50, f"{url}?days=365&page=2", None),
    }
    assert api.get(url, params={"page": 7}).json() == {"detail": "Invalid page."}
    bad = api.get(url, params={"days": "0"})
    assert (bad.status_code, bad.json()) == (400, {"detail": "days must be between 1 and 90, got 0"})
