"""The four servers we did not write that once loaded nothing, rebuilt: each loads every other resource
and reports the one it could not load.

1. TiDB Cloud answering `create_timestamp` of restores as unix seconds, where its v1beta file says
   ISO-8601: the restores load, typed.
2. A server built from the seed's OpenAPI file: no v1beta host, no members, no Starter/Essential host,
   and a cost explorer that wants `groups` as a list. Those resources fail (their children are
   skipped), the cost explorer is asked the seed file's way, everything else loads: exit 7.
3. SkySQL requiring `service_type` on topologies, as its file says: fleetlake asks once per service type.
4. Secoda without `/document/`, which only the seed page lists: not offered, the rest loads, exit 0.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.middleware import Middleware

from fleetlake.outcomes import Status
from tests.conftest import query
from tests.rewrite import RewriteJson
from tests.sources.secoda.conftest import run_secoda
from tests.sources.secoda.conftest import settings as secoda_settings
from tests.sources.secoda.test_secoda import EXPECTED as SECODA_FULL_LOAD
from tests.sources.skysql.conftest import run_skysql
from tests.sources.skysql.conftest import settings as skysql_settings
from tests.sources.tidb_cloud.conftest import run_tidb
from tests.sources.tidb_cloud.conftest import settings as tidb_settings


def _statuses(report):
    return {outcome.resource: outcome.status.value for outcome in report.outcomes}


def _as_epoch(body):
    for item in body["items"]:
        moment = datetime.fromisoformat(item["create_timestamp"].replace("Z", "+00:00"))
        item["create_timestamp"] = str(int(moment.timestamp()))
    return body


def test_restores_answering_unix_seconds_load_typed(tidb, tmp_path):
    emulator, server = tidb(hooks=[Middleware(RewriteJson, path="/api/v1beta/projects/*/restores", change=_as_epoch)])
    report = run_tidb(tmp_path, tidb_settings(emulator, server), ["projects", "restores"])
    assert _statuses(report) == {"projects": "loaded", "restores": "loaded"}
    assert report.exit_code == 0
    rows = query(report, "SELECT id, create_timestamp FROM restores ORDER BY id")
    assert len(rows) == emulator.expected_counts()["restores"] == 6
    assert all(isinstance(moment, datetime) and moment.tzinfo is not None for _, moment in rows)
    # the same moments the emulator answers in ISO-8601 when nothing rewrites them
    plain, plain_server = tidb()
    reference = run_tidb(tmp_path / "plain", tidb_settings(plain, plain_server), ["projects", "restores"])
    assert rows == query(reference, "SELECT id, create_timestamp FROM restores ORDER BY id")


SEED_SERVER = {
    "projects": "failed",
    "clusters": "skipped",
    "backups": "skipped",
    "restores": "skipped",
    "imports": "skipped",
    "provider_regions": "failed",
    "dedicated_clusters": "loaded",
    "dedicated_regions": "loaded",
    "dedicated_node_specs": "loaded",
    "dedicated_imports": "loaded",
    "dedicated_integrations": "loaded",
    "serverless_clusters": "failed",
    "serverless_branches": "skipped",
    "serverless_exports": "skipped",
    "serverless_imports": "skipped",
    "api_keys": "loaded",
    "members": "failed",
    "audit_logs": "loaded",
    "bills": "loaded",
    "bill_details": "loaded",
    "cost_explorer": "loaded",
    # the lists the seed file does not know are answered by the vendor-shaped routes the emulator still has
    "dedicated_changefeeds": "loaded",
    "dedicated_changefeed_rcus": "loaded",
    "dedicated_private_endpoint_connections": "skipped",
    "dedicated_node_quotas": "loaded",
    "dedicated_cloud_providers": "loaded",
    "serverless_regions": "failed",
    "aws_cmek_keys": "skipped",
}


def test_a_server_built_from_the_seed_openapi_file_loads_everything_it_describes(tidb, tmp_path):
    emulator, server = tidb(shape="seed")
    report = run_tidb(tmp_path, tidb_settings(emulator, server))
    assert _statuses(report) == SEED_SERVER
    assert report.exit_code == 7
    reasons = {outcome.resource: outcome.reason for outcome in report.outcomes}
    assert reasons["projects"].startswith(f"TiDB Cloud projects (GET {server.url}/api/v1beta/projects) answered 404")
    assert "Check `base_url` in [sources.tidb_instance_source]" in reasons["projects"]
    assert reasons["members"].startswith(f"TiDB Cloud members (GET {server.url}/iam/v1beta1/members) answered 404")
    assert reasons["clusters"] == "its parent projects failed"
    expected = emulator.expected_counts()
    loaded = [name for name, status in SEED_SERVER.items() if status == "loaded"]
    assert {name: report.row_counts[name] for name in loaded} == {name: expected[name] for name in loaded}
    # the cost explorer was asked the vendor's way, refused (400), then asked the seed file's way
    explorer = emulator.requests.filter(path="/billing/v1beta1/billsCostExplorer")
    assert [record.status for record in explorer] == [400, 200]
    for failed in ("projects", "provider_regions", "serverless_clusters", "members"):
        assert failed not in report.row_counts


def test_skysql_topologies_are_asked_per_service_type_as_the_vendor_requires(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, skysql_settings(emulator, server), ["service_types", "topologies"])
    assert _statuses(report) == {"service_types": "loaded", "topologies": "loaded"}
    assert report.row_counts["topologies"] == 5
    asked = emulator.requests.filter(path="/provisioning/v1/topologies")
    assert sorted(record.query["service_type"][0] for record in asked) == ["analytical", "transactional"]
    assert all(record.status == 200 for record in asked)
    # the emulator refuses a request without it, as the vendor's file says: 400 with the reason
    assert emulator.requests.count(path="/provisioning/v1/topologies", status=400) == 0


def test_secoda_without_the_seed_pages_document_list_loads_the_rest(secoda, tmp_path):
    from fleetlake.emulators.faults import parse_fault

    emulator, server = secoda(faults=[parse_fault("404@/api/v1/document/")])
    report = run_secoda(tmp_path, secoda_settings(emulator, server))
    statuses = _statuses(report)
    assert statuses["document"] == "not offered"
    assert {name for name, status in statuses.items() if status != "loaded"} == {"document"}
    assert report.exit_code == 0
    loaded = [name for name, status in statuses.items() if status == "loaded"]
    # every table a full load has, but the documents
    assert {name: report.row_counts[name] for name in loaded} == {
        name: rows for name, rows in SECODA_FULL_LOAD.items() if name != "document"
    }
    assert "document" not in report.row_counts


@pytest.mark.parametrize("api", ["tidb"])
def test_the_cli_prints_the_outcome_table_and_exits_7(api, tmp_path, clean_env):
    import subprocess
    import sys

    from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator

    emulator = TiDBCloudEmulator(shape="seed", rate_limit=None, now=datetime(2026, 11, 15, 12, tzinfo=UTC))
    with emulator.serve() as server:
        env = dict(clean_env)
        settings = {
            "public_key": DEFAULT_PUBLIC_KEY,
            "private_key": DEFAULT_PRIVATE_KEY,
            **emulator.base_urls(server.url),
            "billing_end_month": "2026-11",
        }
        for name, value in settings.items():
            env[f"SOURCES__TIDB_INSTANCE_SOURCE__{name.upper()}"] = value
        result = subprocess.run(
            [sys.executable, "-m", "fleetlake", "run", "tidb", "--pipelines-dir", str(tmp_path / "p")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
    assert result.returncode == 7, result.stderr
    lines = result.stdout.splitlines()
    assert "  projects                                       -         -  failed" in lines
    assert "  clusters                                       -         -  skipped" in lines
    assert "  dedicated_clusters                             7         7  loaded" in lines
    assert "  dedicated_private_endpoint_connections         -         -  skipped" in lines
    errors = result.stderr.splitlines()
    assert errors[-1].startswith("partial run: 14 of 28 resources loaded, 5 failed, 9 skipped (exit 7).")
    assert any(line.startswith("failed: members: TiDB Cloud members (GET http://127.0.0.1:") for line in errors)
    assert any(line == "skipped: serverless_branches: its parent serverless_clusters failed" for line in errors)
    assert DEFAULT_PRIVATE_KEY not in result.stdout + result.stderr
    assert Status.FAILED.value == "failed"
