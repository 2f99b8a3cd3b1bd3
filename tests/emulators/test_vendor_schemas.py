"""Every answer the emulators give is checked against the vendors' own files in ../shared/specs.

For each operation an emulator serves, the test asks it over a real socket (with real ids taken from
the emulator's own lists) and validates the status and body against the response schema the vendor's
Swagger file gives for that operation: the newer files of the vendor's CLI repository where they
describe the operation, the older ones otherwise. Error answers are validated against the error
envelope the file declares. Parameters the vendor marks required are required by the emulator too.

Secoda and SkySQL's organization, skybackup and billing hosts publish no machine-readable file: their
envelopes are checked against the shapes their reference pages document (secoda-api-endpoints.md,
mariadb-cloud-endpoints.md), transcribed below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
from starlette.routing import Mount, Route

from fleetlake.emulators.secoda import SecodaEmulator
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.emulators.conftest import NOW, digest_session
from tests.specs import SKYSQL_FILES, TIDB_FILES, described, document, operation, schema, shape

# never called by fleetlake, and not a list: the credentials of a service
NOT_CHECKED = {"/provisioning/v1/services/{}/security/credentials"}
# the DPS file has no zones of a region: only the current reference pages list it, as an array
UNDESCRIBED = {"/provisioning/v1/regions/{}/zones": {"type": "array", "items": {"type": "object"}}}


def _validate(wrapper: dict[str, Any], body: Any, where: str) -> None:
    # Swagger 2.0 schemas are JSON Schema draft 4 with extensions (x-..., example), which validators ignore
    errors = sorted(jsonschema.Draft4Validator(wrapper).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors[:5]
    )


def _routes(emulator: Any, prefixes: dict[str, list[str]]) -> Iterator[tuple[str, str, str]]:
    """(mount, path, method) of every vendor route the emulator serves under `prefixes`."""
    for mount in emulator.app.routes:
        if isinstance(mount, Mount) and mount.path in prefixes:
            for route in mount.routes:
                assert isinstance(route, Route)
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    yield mount.path, route.path, method.lower()


def _tidb_ids(session: requests.Session, root: str) -> dict[str, str]:
    projects = session.get(f"{root}/api/v1beta/projects").json()["items"]
    project = projects[0]["id"]
    clusters = session.get(f"{root}/api/v1beta/projects/{project}/clusters", params={"page_size": 100}).json()
    dedicated = next(c for c in clusters["items"] if c["cluster_type"] == "DEDICATED")
    first = session.get(f"{root}/dedicated/v1beta1/clusters").json()["clusters"][0]
    d_cluster = first["clusterId"]
    group = first["tidbNodeSetting"]["tidbNodeGroups"][0]["tidbNodeGroupId"]
    region = session.get(f"{root}/dedicated/v1beta1/regions").json()["regions"][0]["regionId"]
    s_cluster = session.get(f"{root}/serverless/v1beta1/clusters").json()["clusters"][0]["clusterId"]
    return {
        "/api/v1beta/projects/{project_id}": project,
        "/api/v1beta/clusters/{cluster_id}": dedicated["id"],
        "/dedicated/v1beta1/clusters/{clusterId}": d_cluster,
        "/dedicated/v1beta1/regions/{regionId}": region,
        "/serverless/v1beta1/clusters/{clusterId}": s_cluster,
        "{billedMonth}": NOW.strftime("%Y-%m"),
        "{tidbNodeGroupId}": group,
    }


def _fill(mount: str, path: str, ids: dict[str, str]) -> str:
    url = mount + path
    url = url.replace("{billedMonth}", ids["{billedMonth}"])
    url = url.replace("{tidbNodeGroupId}", ids["{tidbNodeGroupId}"])
    url = url.replace("/projects/{project_id}", "/projects/" + ids["/api/v1beta/projects/{project_id}"])
    if mount == "/api/v1beta":
        url = url.replace("/clusters/{cluster_id}", "/clusters/" + ids["/api/v1beta/clusters/{cluster_id}"])
    for key, value in ids.items():
        head, _, placeholder = key.rpartition("/")
        if head.startswith(mount) and url.startswith(head + "/" + placeholder):
            url = url.replace(head + "/" + placeholder, f"{head}/{value}", 1)
    assert "{" not in url, url
    return url


COST_QUERY = {"filter": {"timeRange": {"startDate": "2025-06-01", "endDate": "2025-06-10"}}, "groups": {}}


@pytest.fixture(scope="module")
def tidb() -> Iterator[tuple[TiDBCloudEmulator, str]]:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    with emulator.serve() as server:
        yield emulator, server.url


def test_every_tidb_answer_matches_the_vendors_response_schema(tidb) -> None:
    emulator, root = tidb
    checked = []
    with digest_session() as session:
        ids = _tidb_ids(session, root)
        for mount, path, method in _routes(emulator, TIDB_FILES):
            found = operation(TIDB_FILES[mount], described(mount, path), method)
            assert found is not None, f"{method.upper()} {mount}{path}: no vendor file describes it"
            parsed, found_operation = found
            url = root + _fill(mount, path, ids)
            # the vendor marks clusterId required on the changefeed list
            params = {"clusterId": ids["/dedicated/v1beta1/clusters/{clusterId}"]} if path == "/changefeeds" else {}
            answer = session.post(url, json=COST_QUERY) if method == "post" else session.get(url, params=params)
            assert answer.status_code == 200, (url, answer.text[:300])
            _validate(schema(parsed, found_operation), answer.json(), f"{method} {mount}{path}")
            checked.append(f"{method} {mount}{path}")
    assert len(checked) == 39  # 24 before the lists of changefeeds, private endpoints, quotas, audit logs


@pytest.mark.parametrize(
    ("url", "template", "status"),
    [
        ("/api/v1beta/projects/999/clusters/888", "/projects/{}/clusters/{}", 404),
        ("/dedicated/v1beta1/clusters/999", "/clusters/{}", 404),
        ("/serverless/v1beta1/clusters/999/branches", "/clusters/{}/branches", 404),
        ("/iam/v1beta1/auditLogs?startTime=yesterday", "/auditLogs", 400),
        ("/billing/v1beta1/bills/2020-01", "/bills/{}", 400),
    ],
)
def test_tidb_errors_answer_in_the_envelope_each_vendor_file_declares(tidb, url, template, status) -> None:
    _, root = tidb
    mount = next(m for m in TIDB_FILES if url.startswith(m))
    with digest_session() as session:
        answer = session.get(root + url)
    assert answer.status_code == status, answer.text
    found = operation(TIDB_FILES[mount], described(mount, template), "get")
    assert found is not None
    parsed, found_operation = found
    _validate(schema(parsed, found_operation, str(status)), answer.json(), f"{status} of {url}")


@pytest.fixture(scope="module")
def skysql() -> Iterator[tuple[SkySQLEmulator, str]]:
    emulator = SkySQLEmulator(now=NOW)
    with emulator.serve() as server:
        yield emulator, server.url


def _key_session(emulator: SkySQLEmulator) -> requests.Session:
    session = requests.Session()
    session.headers["X-API-Key"] = next(iter(emulator.keys))
    return session


def test_every_skysql_provisioning_answer_matches_the_dps_file(skysql) -> None:
    emulator, root = skysql
    checked = []
    with _key_session(emulator) as session:
        service = session.get(f"{root}/provisioning/v1/services").json()[0]["id"]
        region = session.get(f"{root}/provisioning/v1/regions").json()[0]["name"]
        ids = {
            "{service_id}": service,
            "{product_name}": "enterprise-server",
            "{provider_name}": "aws",
            "{region}": region,
        }
        for mount, path, method in _routes(emulator, SKYSQL_FILES):
            if shape(mount + path) in NOT_CHECKED:
                continue
            url = root + mount + path
            for placeholder, value in ids.items():
                url = url.replace(placeholder, value)
            params = {"service_type": "transactional"} if path == "/topologies" else {}
            answer = session.get(url, params=params)
            assert answer.status_code == 200, (path, answer.text[:300])
            if shape(mount + path) in UNDESCRIBED:
                jsonschema.Draft4Validator(UNDESCRIBED[shape(mount + path)]).validate(answer.json())
                checked.append(path)
                continue
            found = operation(SKYSQL_FILES[mount], mount + path, method)
            assert found is not None, f"{method.upper()} {mount}{path}: the DPS file does not describe it"
            parsed, found_operation = found
            _validate(schema(parsed, found_operation), answer.json(), f"{method} {mount}{path}")
            checked.append(path)
    assert sorted(checked) == [
        "/configs", "/products", "/products/{product_name}/configs", "/providers",
        "/providers/{provider_name}/volume-types", "/regions", "/regions/{region}/zones", "/service-types",
        "/services", "/services/{service_id}", "/services/{service_id}/security/allowlist", "/sizes", "/tiers",
        "/topologies", "/versions",
    ]  # fmt: skip


def test_parameters_the_vendor_marks_required_are_required(skysql) -> None:
    emulator, root = skysql
    parsed = document("skysql-dps-openapi.json")
    required = [
        (path, parameter["name"])
        for path, operations in parsed["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if parameter.get("required") and parameter.get("in") == "query"
    ]
    assert required == [("/provisioning/v1/topologies", "service_type")]
    with _key_session(emulator) as session:
        answer = session.get(f"{root}/provisioning/v1/topologies")
    assert answer.status_code == 400
    _validate(schema(parsed, parsed["paths"]["/provisioning/v1/topologies"]["get"], "400"), answer.json(), "400")
    assert "service_type" in json.dumps(answer.json())


# envelopes the reference pages document, for hosts without a machine-readable file
SKYSQL_ENVELOPES = {
    "/skybackup/v1/backups": {
        "type": "object",
        "required": ["backups", "backups_count", "pages_count"],
        "properties": {"backups": {"type": "array"}, "backups_count": {"type": "integer"}},
    },
    "/skybackup/v1/restores": {
        "type": "object",
        "required": ["restores", "restores_count", "pages_count"],
        "properties": {"restores": {"type": "array"}},
    },
    "/skybackup/v1/backups/schedules": {
        "type": "object",
        "required": ["schedules", "schedules_count", "pages_count"],
        "properties": {"schedules": {"type": "array"}},
    },
    "/organization/v1/projects": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
    "/organization/v1/users": {"type": "array", "items": {"type": "object", "required": ["id", "email"]}},
    "/billing/v1/account": {"type": "object", "required": ["organization_id", "tier", "status"]},
    "/billing/v1/bills": {"type": "object", "required": ["id", "line_items", "total", "period"]},
    "/billing/v1/account/postpaid-commit-ledger": {"type": "array"},
    "/billing/v1/account/prepaid-credit-ledger": {"type": "array"},
}


def test_skysql_hosts_without_a_file_answer_the_documented_envelopes(skysql) -> None:
    emulator, root = skysql
    with _key_session(emulator) as session:
        service = session.get(f"{root}/provisioning/v1/services").json()[0]["id"]
        params = {
            "/skybackup/v1/backups/schedules": {"service_id": service},
            "/billing/v1/bills": {"year": "2025", "month": "05"},
        }
        served = {
            mount + route.path for mount, route in _vendor_routes(emulator) if not mount.startswith("/provisioning")
        }
        assert served == set(SKYSQL_ENVELOPES)
        for path, schema in SKYSQL_ENVELOPES.items():
            answer = session.get(root + path, params=params.get(path, {}))
            assert answer.status_code == 200, (path, answer.text[:300])
            jsonschema.Draft4Validator(schema).validate(answer.json())


def _vendor_routes(emulator: Any) -> Iterator[tuple[str, Route]]:
    for mount in emulator.app.routes:
        if isinstance(mount, Mount) and mount.path != "/_emulator":
            for route in mount.routes:
                if isinstance(route, Route) and "GET" in (route.methods or set()):
                    yield mount.path, route


SECODA_LIST = {
    "type": "object",
    "required": ["links", "count", "total_pages", "results"],
    "properties": {
        "links": {"type": "object", "required": ["next", "previous"]},
        "count": {"type": "integer"},
        "total_pages": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "required": ["id"]}},
    },
}
SECODA_AUDIT = {
    "type": "object",
    "required": ["count", "next", "previous", "results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "created_at", "event", "resource_id", "resource_type"]},
        }
    },
}


# the documented audit log (docs.secoda.co/api/reference/audit-logs): the list envelope, its own records
SECODA_AUDIT_LOGS = {
    **SECODA_LIST,
    "properties": {
        **SECODA_LIST["properties"],
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "created_at", "activity_type", "performer_id", "resource_id", "resource_type"],
            },
        },
    },
}


def test_every_secoda_list_answers_the_documented_envelope() -> None:
    emulator = SecodaEmulator(now=NOW)
    token = next(iter(emulator.keys))
    lists = sorted(
        {
            mount + route.path.rstrip("/")
            for mount, route in _vendor_routes(emulator)
            if "{" not in route.path and "healthcheck" not in route.path
        }
    )
    with emulator.serve() as server, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for path in lists:
            answer = session.get(server.url + path + ("/" if path.endswith("workspace") else ""))
            assert answer.status_code == 200, (path, answer.text[:300])
            schema = SECODA_LIST
            if path.endswith("/notification/workspace"):
                schema = SECODA_AUDIT
            elif path.endswith("/activity_log/audit_logs"):
                schema = SECODA_AUDIT_LOGS
            jsonschema.Draft4Validator(schema).validate(answer.json())
        missing = session.get(server.url + "/api/v1/tag/00000000-0000-0000-0000-000000000000")
    assert len(lists) == 16
    assert missing.status_code == 404
    # Django REST framework's error envelope, which Secoda's API answers in
    assert set(missing.json()) == {"detail"}
