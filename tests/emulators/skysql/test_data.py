"""The emulated organization: a full load matches `expected_counts`, the clock moves data, answers are stable."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import requests

from fleetlake.emulators.skysql import PAGE_TOKEN_HEADER, TABLES, SkySQLEmulator, SkySQLScale
from tests.emulators.skysql.conftest import NOW, SERVICE_IDS, Sky, key_session

DEMO_COUNTS = {
    "services": 8,
    "service_types": 2,
    "topologies": 5,
    "providers": 3,
    "regions": 14,
    "sizes": 75,
    "versions": 7,
    "configs": 3,
    "service_allowlists": 7,
    "products": 4,
    "product_configs": 13,
    "tiers": 2,
    "volume_types": 4,
    "availability_zones": 42,
    "projects": 2,
    "organization_users": 6,
    "backups": 45,
    "restores": 3,
    "backup_schedules": 14,
    "billing_account": 1,
    "bills": 12,
    "postpaid_commit_ledger": 14,
    "prepaid_credit_ledger": 3,
    "invoices": 0,
    "service_usage": 0,
    "databases": 0,
    "users": 0,
}
TOKEN_LISTS = {
    "services": "/provisioning/v1/services",
    "service_types": "/provisioning/v1/service-types",
    "providers": "/provisioning/v1/providers",
    "regions": "/provisioning/v1/regions",
    "sizes": "/provisioning/v1/sizes",
    "versions": "/provisioning/v1/versions",
    "configs": "/provisioning/v1/configs",
    "products": "/provisioning/v1/products",
    "tiers": "/provisioning/v1/tiers",
}


def tokened(api: requests.Session, url: str, **params: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        answer = api.get(url, params={"page_size": 100, **params, **({"page_token": token} if token else {})})
        out += answer.json()
        token = answer.headers.get(PAGE_TOKEN_HEADER)
        if not token:
            return out


def numbered(api: requests.Session, url: str, key: str, **params: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get(url, params={"page": page, "page_size": 100, **params}).json()
        out += body[key]
        if page >= body["pages_count"]:
            return out
        page += 1


def full_load(sky: Sky) -> dict[str, list[dict[str, Any]]]:
    """Every table the client loads, fetched the way the client fetches them."""
    root = sky.url
    with key_session() as api:
        rows = {table: tokened(api, root + path) for table, path in TOKEN_LISTS.items()}
        # the vendor requires service_type: one list per service type
        rows["topologies"] = [
            topology
            for kind in rows["service_types"]
            for topology in tokened(api, root + "/provisioning/v1/topologies", service_type=kind["name"])
        ]
        # unpaged, one per service
        rows["service_allowlists"] = [
            entry
            for service in rows["services"]
            for entry in api.get(f"{root}/provisioning/v1/services/{service['id']}/security/allowlist").json()
        ]
        # one object per product, its variables fitting one page
        rows["product_configs"] = [
            variable
            for product in rows["products"]
            for variable in api.get(
                f"{root}/provisioning/v1/products/{product['name']}/configs", params={"page_size": 100}
            ).json()["variables"]
        ]
        rows["volume_types"] = [
            kind
            for provider in rows["providers"]
            for kind in tokened(api, f"{root}/provisioning/v1/providers/{provider['name']}/volume-types")
        ]
        rows["availability_zones"] = [
            zone
            for region in rows["regions"]
            for zone in tokened(api, f"{root}/provisioning/v1/regions/{region['name']}/zones")
        ]
        rows["projects"] = api.get(root + "/organization/v1/projects").json()
        rows["organization_users"] = api.get(root + "/organization/v1/users").json()
        rows["backups"] = numbered(api, root + "/skybackup/v1/backups", "backups")
        rows["restores"] = numbered(api, root + "/skybackup/v1/restores", "restores")
        rows["backup_schedules"] = [
            schedule
            for service in rows["services"]
            for schedule in numbered(
                api, root + "/skybackup/v1/backups/schedules", "schedules", service_id=service["id"]
            )
        ]
        rows["billing_account"] = [api.get(root + "/billing/v1/account").json()]
        rows["bills"] = [
            api.get(root + "/billing/v1/bills", params={"year": y, "month": f"{m:02d}"}).json()
            for y, m in sky.emulator.bill_months()
        ]
        rows["postpaid_commit_ledger"] = api.get(root + "/billing/v1/account/postpaid-commit-ledger").json()
        rows["prepaid_credit_ledger"] = api.get(root + "/billing/v1/account/prepaid-credit-ledger").json()
        legacy = sky.emulator.legacy_billing_endpoints == "serve"
        rows["invoices"] = api.get(root + "/billing/v1/invoices").json() if legacy else []
        rows["service_usage"] = api.get(root + "/billing/v1/usage/service").json() if legacy else []
        served = sky.emulator.seed_only_endpoints == "serve"
        rows["databases"] = tokened(api, root + "/provisioning/v1/databases") if served else []
        rows["users"] = tokened(api, root + "/provisioning/v1/users") if served else []
    return rows


def test_a_full_load_matches_expected_counts_in_67_requests(sky: Sky) -> None:
    sky.emulator.requests.clear()
    assert sky.emulator.expected_counts() == DEMO_COUNTS
    assert tuple(DEMO_COUNTS) == TABLES
    rows = full_load(sky)
    assert {table: len(rows[table]) for table in TABLES} == DEMO_COUNTS
    assert [s["id"] for s in rows["services"]] == SERVICE_IDS
    log = sky.emulator.requests
    assert (len(log), log.count(status=200)) == (67, 67)
    assert [r.query["service_type"] for r in log.filter(path="/provisioning/v1/topologies")] == [
        ["transactional"],
        ["analytical"],
    ]
    assert log.count(path="/skybackup/v1/backups/schedules") == 8
    assert log.count(path="/billing/v1/bills") == 12
    assert len([r for r in log if r.path.endswith("/security/allowlist")]) == 8
    assert len([r for r in log if r.path.endswith("/zones")]) == 14
    assert not [r for r in log if r.path.endswith("/security/credentials")]


def test_the_seed_only_lists_load_when_served(sky_factory) -> None:
    sky = sky_factory(seed_only_endpoints="serve")
    rows = full_load(sky)
    counts = sky.emulator.expected_counts()
    assert {table: len(rows[table]) for table in TABLES} == counts
    assert (counts["databases"], counts["users"]) == (15, 12)


def test_the_legacy_billing_lists_load_when_served(sky_factory) -> None:
    sky = sky_factory(legacy_billing_endpoints="serve")
    rows = full_load(sky)
    counts = sky.emulator.expected_counts()
    assert {table: len(rows[table]) for table in TABLES} == counts
    # an invoice per closed month (as many as postpaid ledger entries), this month's usage per service
    assert (counts["invoices"], counts["service_usage"]) == (14, 8)
    assert [i["period"] for i in rows["invoices"]] == [e["period"] for e in rows["postpaid_commit_ledger"]]
    assert [i["total"] for i in rows["invoices"]] == [e["invoice_amount"] for e in rows["postpaid_commit_ledger"]]
    assert sorted(u["service"]["service_id"] for u in rows["service_usage"]) == sorted(SERVICE_IDS)


def test_the_allowlist_answers_what_the_service_record_nests(sky: Sky, sky_api: requests.Session) -> None:
    for service in sky_api.get(sky.url + "/provisioning/v1/services").json():
        answer = sky_api.get(f"{sky.url}/provisioning/v1/services/{service['id']}/security/allowlist")
        assert answer.status_code == 200
        assert answer.json() == [entry for endpoint in service["endpoints"] for entry in endpoint["allow_list"]]
    missing = sky_api.get(sky.url + "/provisioning/v1/services/dbtgf00000000/security/allowlist")
    assert missing.status_code == 404


def test_per_parent_offering_lists_answer_404_for_an_unknown_parent(sky: Sky, sky_api: requests.Session) -> None:
    for path in ("/products/no-such/configs", "/providers/no-such/volume-types", "/regions/no-such/zones"):
        answer = sky_api.get(sky.url + "/provisioning/v1" + path)
        assert answer.status_code == 404, path
        assert answer.json()["errors"][0]["location"] == "path"


def test_the_clock_adds_nightly_backups_and_moves_statuses(sky_factory) -> None:
    sky = sky_factory()
    before = full_load(sky)
    # the admin route needs no key, and its requests stay out of the log
    moved = requests.post(sky.server.url + "/_emulator/advance", params={"seconds": 86_400})
    assert moved.json() == {"now": "2026-11-16T12:00:00Z"}
    after = full_load(sky)
    assert sky.emulator.expected_counts()["backups"] == len(after["backups"]) == 52
    assert after["backups"][:45] == before["backups"]
    new = after["backups"][45:]
    newest_before = max(b["start_time"] for b in before["backups"])
    assert all(b["start_time"] > newest_before for b in new)
    assert sorted(b["service_id"] for b in new) == sorted(set(SERVICE_IDS) - {"dbagf16137674"})
    assert [(s["status"], s["updated_on"]) for s in before["services"]][:2] == [
        ("pending_modifying", 1794714317),
        ("ready", 1793579126),
    ]
    assert [(s["status"], s["updated_on"]) for s in after["services"]][:2] == [
        ("stopped", 1794800717),
        ("ready", 1793579126),
    ]
    assert after["services"][0]["is_active"] is False
    changed = [a["id"] for a, b in zip(after["services"], before["services"], strict=True) if a != b]
    assert changed == ["dbtgf33601273", "dbtgf37828608", "dbtgf59519542"]
    # the rest of the organization stands still
    for table in ("projects", "organization_users", "restores", "backup_schedules", "configs", "sizes"):
        assert after[table] == before[table]
    assert len(after["bills"]) == 12


def test_same_seed_same_bytes_other_seed_other_data(sky_factory) -> None:
    paths = [
        "/provisioning/v1/services?page_size=5",
        "/skybackup/v1/backups?page=2&page_size=7&order=desc",
        "/billing/v1/bills?year=2026&month=11",
        "/organization/v1/users",
        "/skybackup/v1/backups/schedules",
        "/provisioning/v1/configs?include_default=true",
    ]
    first, second, other = sky_factory(), sky_factory(), sky_factory(seed=1)
    with key_session() as api:
        answers = [[api.get(s.url + p) for p in paths] for s in (first, second, other)]
    assert [a.content for a in answers[0]] == [a.content for a in answers[1]]
    assert [a.headers.get(PAGE_TOKEN_HEADER) for a in answers[0]] == [
        a.headers.get(PAGE_TOKEN_HEADER) for a in answers[1]
    ]
    assert [a.content != b.content for a, b in zip(answers[0], answers[2], strict=True)] == [True] * 6


def test_an_organization_without_users_answers_204(sky_factory) -> None:
    sky = sky_factory(scale=SkySQLScale(users=0))
    with key_session() as api:
        answer = api.get(sky.url + "/organization/v1/users")
    assert (answer.status_code, answer.content) == (204, b"")
    assert sky.emulator.expected_counts()["organization_users"] == 0


def test_large_scale_serves_a_deep_page_fast() -> None:
    emulator = SkySQLEmulator(now=NOW, scale="large")
    started = time.perf_counter()
    counts = emulator.expected_counts()
    with emulator.serve() as server, key_session() as api:
        deep = api.get(server.url + "/skybackup/v1/backups", params={"page": 200, "page_size": 100}).json()
        last = api.get(server.url + "/skybackup/v1/backups", params={"page": 203, "page_size": 100}).json()
        newest = api.get(server.url + "/skybackup/v1/backups", params={"page_size": 1, "order": "desc"}).json()
        services = api.get(server.url + "/provisioning/v1/services", params={"page_size": 100})
    elapsed = time.perf_counter() - started
    assert (counts["services"], counts["backups"], counts["projects"], counts["backup_schedules"]) == (
        400,
        20273,
        10,
        721,
    )
    assert (deep["backups_count"], deep["pages_count"], len(deep["backups"])) == (20273, 203, 100)
    assert len(last["backups"]) == 73
    assert newest["backups"][0] == last["backups"][-1]
    assert (len(services.json()), services.headers[PAGE_TOKEN_HEADER]) == (100, "AAAAAABkvtgVoEOOjtUA")
    assert elapsed < 3
    emulator.advance(timedelta(days=2))
    assert emulator.expected_counts()["backups"] > counts["backups"]
