"""The emulated organization: full loads match `expected_counts`, the clock moves data, answers are stable."""

from __future__ import annotations

import time
import tracemalloc
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
import requests

from fleetlake.emulators.tidb_cloud import TABLES, TiDBCloudEmulator
from tests.emulators.conftest import NOW, Running, digest_session

MONTHS = ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
EXPLORER_QUERY = {
    "filter": {"timeRange": {"startDate": "2024-12-01", "endDate": "2025-06-15"}},
    "groups": {"groupBy": ["service"], "timeGranularity": "day"},
}
DEMO_COUNTS = {
    "projects": 3,
    "clusters": 11,
    "backups": 76,
    "restores": 6,
    "imports": 13,
    "provider_regions": 11,
    "dedicated_clusters": 7,
    "dedicated_regions": 6,
    "dedicated_node_specs": 96,
    "dedicated_imports": 10,
    "dedicated_integrations": 8,
    "dedicated_changefeeds": 7,
    "dedicated_changefeed_rcus": 6,
    "dedicated_private_endpoint_connections": 8,
    "dedicated_private_link_services": 7,
    "dedicated_node_quotas": 5,
    "dedicated_cloud_providers": 2,
    "dedicated_log_redaction_policies": 7,
    "private_endpoints": 8,
    "private_endpoint_services": 7,
    "aws_cmek_keys": 1,
    "serverless_clusters": 4,
    "serverless_regions": 5,
    "serverless_branches": 6,
    "serverless_exports": 9,
    "serverless_imports": 3,
    "serverless_audit_log_configs": 4,
    "serverless_audit_log_filter_rules": 3,
    "serverless_audit_log_files": 3,
    "api_keys": 3,
    "audit_logs": 400,
    "members": 8,
    "bills": 7,
    "bill_details": 9094,
    "cost_explorer": 1773,  # 197 days by 9 services
}


def numbered(api: requests.Session, url: str) -> list[dict[str, Any]]:
    out, page = [], 1
    while True:
        body = api.get(url, params={"page": page, "page_size": 100}).json()
        out += body["items"]
        if len(out) >= body["total"]:
            return out
        page += 1


def tokened(api: requests.Session, url: str, key: str) -> list[dict[str, Any]]:
    out, token = [], ""
    while True:
        body = api.get(url, params={"pageSize": 100, **({"pageToken": token} if token else {})}).json()
        out += body[key]
        token = body["nextPageToken"]
        if not token:
            return out


def full_load(api: requests.Session, urls: dict[str, str]) -> dict[str, list[Any]]:
    """Read everything the API keeps, the way a client would, at page size 100."""
    tables: dict[str, list[Any]] = defaultdict(list)
    v1 = urls["base_url"] + "/api/v1beta"
    tables["projects"] = numbered(api, f"{v1}/projects")
    for project in tables["projects"]:
        clusters = numbered(api, f"{v1}/projects/{project['id']}/clusters")
        tables["clusters"] += clusters
        tables["restores"] += numbered(api, f"{v1}/projects/{project['id']}/restores")
        for cluster in clusters:
            where = f"{v1}/projects/{project['id']}/clusters/{cluster['id']}"
            if cluster["cluster_type"] == "DEDICATED":
                tables["backups"] += numbered(api, f"{where}/backups")
            tables["imports"] += numbered(api, f"{where}/imports")
    tables["provider_regions"] = api.get(f"{v1}/clusters/provider/regions").json()["items"]
    dedicated = urls["dedicated_base_url"]
    for project in tables["projects"]:
        where = f"{v1}/projects/{project['id']}"
        tables["private_endpoints"] += api.get(f"{where}/private_endpoints").json()["endpoints"]
        if project["aws_cmek_enabled"]:
            tables["aws_cmek_keys"] += api.get(f"{where}/aws-cmek").json()["items"]
        for cluster in (c for c in tables["clusters"] if c["project_id"] == project["id"]):
            if cluster["cluster_type"] == "DEDICATED":
                service = f"{where}/clusters/{cluster['id']}/private_endpoint_service"
                tables["private_endpoint_services"].append(api.get(service).json()["private_endpoint_service"])
    tables["dedicated_clusters"] = tokened(api, f"{dedicated}/clusters", "clusters")
    tables["dedicated_regions"] = tokened(api, f"{dedicated}/regions", "regions")
    for region in tables["dedicated_regions"]:
        tables["dedicated_node_specs"] += tokened(
            api, f"{dedicated}/regions/{region['regionId']}/nodeSpecs", "nodeSpecs"
        )
    for cluster in tables["dedicated_clusters"]:
        tables["dedicated_imports"] += tokened(api, f"{dedicated}/clusters/{cluster['clusterId']}/imports", "imports")
        tables["dedicated_integrations"] += api.get(f"{dedicated}/clusters/{cluster['clusterId']}/integrations").json()[
            "items"
        ]
        feeds = api.get(f"{dedicated}/changefeeds", params={"clusterId": cluster["clusterId"], "pageSize": 100})
        tables["dedicated_changefeeds"] += feeds.json()["changefeeds"]
        where = f"{dedicated}/clusters/{cluster['clusterId']}"
        tables["dedicated_log_redaction_policies"].append(api.get(f"{where}/logRedactionPolicy").json())
        for group in cluster["tidbNodeSetting"]["tidbNodeGroups"]:
            service = f"{where}/tidbNodeGroups/{group['tidbNodeGroupId']}/privateLinkService"
            tables["dedicated_private_link_services"].append(api.get(service).json())
    for project in tables["projects"]:
        tables["dedicated_private_endpoint_connections"] += api.get(
            f"{dedicated}/clusters/-/tidbNodeGroups/-/privateEndpointConnections",
            params={"projectId": project["id"], "pageSize": 100},
        ).json()["privateEndpointConnections"]
    tables["dedicated_changefeed_rcus"] = api.get(f"{dedicated}/changefeedRCUs").json()["rcus"]
    tables["dedicated_node_quotas"] = api.get(f"{dedicated}/clusters:showNodeQuota").json()["componentQuotas"]
    tables["dedicated_cloud_providers"] = api.get(f"{dedicated}/regions:showCloudProviders").json()["cloudProviders"]
    serverless = urls["serverless_base_url"]
    tables["serverless_clusters"] = tokened(api, f"{serverless}/clusters", "clusters")
    for cluster in tables["serverless_clusters"]:
        where = f"{serverless}/clusters/{cluster['clusterId']}"
        for kind in ("branches", "exports", "imports"):
            tables[f"serverless_{kind}"] += tokened(api, f"{where}/{kind}", kind)
        tables["serverless_audit_log_configs"].append(api.get(f"{where}/auditLog/config").json())
        tables["serverless_audit_log_filter_rules"] += tokened(api, f"{where}/auditLog/filterRules", "filterRules")
        tables["serverless_audit_log_files"] += tokened(api, f"{where}/auditLog/files", "auditLogFiles")
    tables["serverless_regions"] = api.get(f"{serverless}/regions").json()["regions"]
    iam = urls["iam_base_url"]
    tables["api_keys"] = tokened(api, f"{iam}/apikeys", "apiKeys")
    tables["audit_logs"] = tokened(api, f"{iam}/auditLogs", "auditLogs")
    tables["members"] = tokened(api, f"{iam}/members", "users")
    billing = urls["billing_base_url"]
    for month in MONTHS:
        tables["bills"].append(api.get(f"{billing}/bills/{month}").json())
        tables["bill_details"] += api.get(f"{billing}/billsDetails/{month}").json()["details"]
    elements = api.post(f"{billing}/billsCostExplorer", json=EXPLORER_QUERY).json()["elements"]
    assert len(elements) == 197  # one a day
    tables["cost_explorer"] = [row for element in elements for row in element["breakdown"]]
    return tables


def test_full_demo_load_matches_expected_counts(demo: Running, api: requests.Session) -> None:
    assert demo.emulator.expected_counts() == DEMO_COUNTS
    assert list(DEMO_COUNTS) == list(TABLES)
    tables = full_load(api, demo.urls)
    assert {name: len(tables[name]) for name in TABLES} == DEMO_COUNTS
    # the same clusters appear in v1beta and in the Dedicated or Starter v1beta1 lists
    v1_ids = {c["id"] for c in tables["clusters"]}
    v1beta1_ids = {c["clusterId"] for c in tables["dedicated_clusters"] + tables["serverless_clusters"]}
    assert v1_ids == v1beta1_ids
    assert len(v1_ids) == 11
    assert len({b["id"] for b in tables["backups"]}) == 76
    assert len({e["id"] for e in tables["audit_logs"]}) == 400
    # every request of a full load, at page size 100, plus the one Digest challenge: 82 for the lists
    # before 2026, 51 for the new ones (a request per Dedicated cluster for changefeeds, log redaction,
    # link services and v1beta services, per project for both private endpoint lists, three per
    # Starter/Essential cluster for its audit log, one for the CMEK project, four organization-wide)
    assert demo.emulator.requests.count(authorized=True, status=200) == 82 + 51
    assert demo.emulator.requests.count() == 82 + 51 + 1


def test_bills_agree_with_their_details(demo: Running, api: requests.Session) -> None:
    billing = demo.urls["billing_base_url"]
    bill = api.get(f"{billing}/bills/2025-05").json()
    details = api.get(f"{billing}/billsDetails/2025-05").json()["details"]
    cents = sum(int(row["totalCost"].replace(".", "")) for row in details)
    projects = sum(int(p["runningTotal"].replace(".", "")) for p in bill["summaryByProject"]["projects"])
    assert cents == projects
    assert bill["overview"]["billedMonth"] == "2025-05"
    assert {row["billedDate"] for row in details} == {f"2025-05-{d:02d}" for d in range(1, 32)}
    june = api.get(f"{billing}/billsDetails/2025-06").json()["details"]
    assert max(row["billedDate"] for row in june) == "2025-06-15"
    explorer = api.post(f"{billing}/billsCostExplorer", json={**EXPLORER_QUERY, "groups": {"timeGranularity": "month"}})
    may = next(e for e in explorer.json()["elements"] if e["billedDate"] == "2025-05")
    assert int(may["totalCost"].replace(".", "")) == cents
    assert may["breakdown"] == []


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2025-6", "invalid billedMonth '2025-6': use the YYYY-MM format, for example 2025-06"),
        ("2025-13", "invalid billedMonth '2025-13': use the YYYY-MM format, for example 2025-06"),
        ("2025-07", "billedMonth 2025-07 is in the future: bills are available from 2024-12 to 2025-06"),
        (
            "2024-11",
            "billedMonth 2024-11 is more than 6 months ago: bills are available from 2024-12 to 2025-06",
        ),
    ],
)
def test_billing_months_are_validated(demo: Running, api: requests.Session, month: str, message: str) -> None:
    for endpoint in ("bills", "billsDetails"):
        answer = api.get(f"{demo.urls['billing_base_url']}/{endpoint}/{month}")
        assert answer.status_code == 400
        assert answer.json() == {
            "code": "InvalidArgument",
            "error": message,
            "msgPrefix": "Bad Request",
            "status": 400,
        }


def test_cost_explorer_validates_its_query(demo: Running, api: requests.Session) -> None:
    url = f"{demo.urls['billing_base_url']}/billsCostExplorer"
    bad = [
        ({"groups": {"groupBy": ["color"]}}, "invalid groups.groupBy ['color']"),
        ({"groups": {"timeGranularity": "week"}}, "invalid groups.timeGranularity 'week'"),
        (
            {"filter": {"timeRange": {"startDate": "2024-11-30", "endDate": "2025-01-01"}}},
            "data is kept from 2024-12-01",
        ),
        ({"filter": {"timeRange": {"startDate": "June 1"}}}, "invalid filter.timeRange.startDate 'June 1'"),
    ]
    for body, message in bad:
        answer = api.post(url, json=body)
        assert answer.status_code == 400, body
        assert message in answer.json()["error"], body
    total = api.post(
        url,
        json={**EXPLORER_QUERY, "groups": {"groupBy": ["project", "product"], "timeGranularity": "total"}},
    )
    (element,) = total.json()["elements"]
    assert element["billedDate"] == "2024-12-01/2025-06-15"
    assert [b["detailName"] for b in element["breakdown"]][:2] == [
        "default_project / TiDB Cloud Starter",
        "default_project / TiDB Dedicated",
    ]


def test_advancing_the_clock_adds_audit_logs_and_backups() -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    before = emulator.expected_counts()
    with emulator.serve() as server, digest_session() as api:
        iam = emulator.base_urls(server.url)["iam_base_url"]
        backups_url = f"{server.url}/api/v1beta/projects/1324742256709536827/clusters/1306326926665830696/backups"
        assert api.get(f"{iam}/auditLogs", params={"pageSize": 1}).json()["totalSize"] == 400
        assert api.get(backups_url, params={"page_size": 100}).json()["total"] == 13
        modifying = f"{server.url}/dedicated/v1beta1/clusters/1353050100898193893"
        steady = f"{server.url}/dedicated/v1beta1/clusters/1306326926665830696"
        before_change = api.get(modifying).json()
        steady_before = api.get(steady).json()["updateTime"]
        assert before_change["state"] == "ACTIVE"
        moved = requests.post(f"{server.url}/_emulator/advance", params={"seconds": 2 * 86400})
        assert moved.json() == {"now": "2025-06-17T12:00:00Z"}
        audit = api.get(f"{iam}/auditLogs", params={"startTime": "2025-06-15T12:00:01Z"}).json()
        backups = api.get(backups_url, params={"page_size": 100}).json()
        after_change = api.get(modifying).json()
        steady_after = api.get(steady).json()["updateTime"]
    assert after_change["state"] == "MODIFYING"
    assert before_change["updateTime"] < "2025-06-17" <= after_change["updateTime"] <= "2025-06-17T12:00:00Z"
    assert steady_before == steady_after
    assert audit["totalSize"] == 26
    assert audit["auditLogs"][-1]["endTime"] == "2025-06-17T10:48:00Z"
    assert backups["total"] == 15
    assert backups["items"][-1]["type"] == "AUTO"
    after = emulator.expected_counts()
    assert after["audit_logs"] == before["audit_logs"] + 26
    assert after["backups"] == before["backups"] + 2 * before["dedicated_clusters"]
    assert after["bill_details"] > before["bill_details"]
    data = emulator.data
    assert [g for g in range(11) if data.state(g, data.t0) != data.state(g, data.t0 + 2 * 86400)] == [2, 10]


def _answers(emulator: TiDBCloudEmulator) -> list[bytes]:
    with emulator.serve() as server, digest_session() as api:
        urls = emulator.base_urls(server.url)
        gets = [
            f"{urls['base_url']}/api/v1beta/projects",
            f"{urls['base_url']}/api/v1beta/projects/1324742256709536827/clusters",
            f"{urls['base_url']}/api/v1beta/projects/1324742256709536827/restores",
            f"{urls['dedicated_base_url']}/clusters?pageSize=2",
            f"{urls['serverless_base_url']}/clusters",
            f"{urls['iam_base_url']}/auditLogs?pageSize=50",
            f"{urls['iam_base_url']}/members",
            f"{urls['billing_base_url']}/billsDetails/2025-03",
        ]
        out = [api.get(url).content for url in gets]
        out.append(api.post(f"{urls['billing_base_url']}/billsCostExplorer", json=EXPLORER_QUERY).content)
        return out


def test_same_seed_gives_byte_identical_answers() -> None:
    first = _answers(TiDBCloudEmulator(seed=7, now=NOW))
    assert first == _answers(TiDBCloudEmulator(seed=7, now=NOW))
    assert _answers(TiDBCloudEmulator(seed=8, now=NOW))[0] != first[0]


def test_seed_shape_renames_the_fields_the_third_party_file_renamed(demo: Running) -> None:
    emulator = TiDBCloudEmulator(now=NOW, shape="seed", rate_limit=None)
    with emulator.serve() as server, digest_session() as api:
        urls = emulator.base_urls(server.url)
        details = api.get(f"{urls['billing_base_url']}/billsDetails/2025-06").json()
        # the seed file's query: `groups` a list of dimensions (the vendor's object is refused)
        refused = api.post(f"{urls['billing_base_url']}/billsCostExplorer", json=EXPLORER_QUERY)
        seed_query = {"filter": EXPLORER_QUERY["filter"], "groups": ["service"]}
        trends = api.post(f"{urls['billing_base_url']}/billsCostExplorer", json=seed_query).json()
        # and it has no v1beta host, no Starter/Essential host and no members list
        missing = [
            api.get(url).status_code
            for url in (
                f"{urls['base_url']}/api/v1beta/projects",
                f"{urls['serverless_base_url']}/clusters",
                f"{urls['iam_base_url']}/members",
            )
        ]
        integrations = api.get(f"{urls['dedicated_base_url']}/clusters/1353050100898193893/integrations").json()
        audit = api.get(f"{urls['iam_base_url']}/auditLogs", params={"pageSize": 1}).json()["auditLogs"][0]
    assert list(details) == ["billsDetails"]
    assert len(details["billsDetails"]) == 765
    assert refused.status_code == 400
    assert "groups must be an array" in refused.json()["error"]
    assert missing == [404, 404, 404]
    assert list(trends) == ["trends"]
    assert trends["trends"][0] == {"date": "2024-12-01", "cost": "647.37"}
    assert list(integrations) == ["integrations"]
    assert [i["type"] for i in integrations["integrations"]] == [
        "DATADOG",
        "NEWRELIC",
    ]
    assert audit["timestamp"] == "2025-05-16T13:48:00Z"
    assert "endTime" not in audit


def test_large_scale_pages_deep_without_materialising() -> None:
    emulator = TiDBCloudEmulator(scale="large", now=NOW, rate_limit=None)
    counts = emulator.expected_counts()
    assert (counts["audit_logs"], counts["clusters"], counts["dedicated_clusters"]) == (1_000_000, 4229, 2576)
    with emulator.serve() as server, digest_session() as api:
        iam = emulator.base_urls(server.url)["iam_base_url"]
        assert api.get(f"{iam}/auditLogs", params={"pageSize": 1}).json()["totalSize"] == 1_000_000
        # page 9000 at 100 a page starts at entry 899,900: a time filter jumps there
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(emulator.data.audit_time(899_900)))
        tracemalloc.start()
        started = time.perf_counter()
        page = api.get(f"{iam}/auditLogs", params={"startTime": start, "pageSize": 100}).json()
        following = api.get(
            f"{iam}/auditLogs",
            params={"startTime": start, "pageSize": 100, "pageToken": page["nextPageToken"]},
        ).json()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert page["totalSize"] == 100_100
    assert len(page["auditLogs"]) == len(following["auditLogs"]) == 100
    assert page["auditLogs"][0]["id"] == emulator.data.audit_ids.encode(899_900)
    assert following["auditLogs"][-1]["id"] == emulator.data.audit_ids.encode(900_099)
    assert elapsed < 1.0
    assert peak < 20 * 1024 * 1024
    # the data clock moves a large organization on without any work up front
    emulator.advance(timedelta(days=1))
    assert emulator.expected_counts()["audit_logs"] == 1_000_000 + 5555
