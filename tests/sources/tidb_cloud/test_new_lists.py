"""The lists added in 2026: changefeeds, private endpoints and link services, node quota, cloud providers,
log redaction, Starter/Essential regions and database audit log, AWS CMEK keys; over real sockets."""

import json

import pytest
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from fleetlake.accounts import Account, tag_rows
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator, changefeeds, database_audit, network
from fleetlake.outcomes import Status
from fleetlake.sources import get_api
from fleetlake.sources.tidb_cloud.settings import OFF_BY_DEFAULT
from tests.conftest import query
from tests.sources.tidb_cloud.conftest import NOW, run_tidb, settings

DEFAULT_NEW = {
    "dedicated_changefeeds": 7,
    "dedicated_changefeed_rcus": 6,
    "dedicated_private_endpoint_connections": 8,
    "dedicated_node_quotas": 5,
    "serverless_regions": 5,
    "dedicated_cloud_providers": 2,
    "aws_cmek_keys": 1,
}
EXTRA = {
    "dedicated_log_redaction_policies": 7,
    "private_endpoints": 8,
    "private_endpoint_services": 7,
    "serverless_audit_log_configs": 4,
    "serverless_audit_log_filter_rules": 3,
    "serverless_audit_log_files": 3,
    "dedicated_private_link_services": 7,
}
# names no table may hold: the credentials the vendor's files show in these answers, and signed links
CREDENTIALS = {"password", "secret_key", "secret", "sas_token", "service_account_key", "url"}


class _Unused:
    url = "http://127.0.0.1:9"


def _answered(emulator, path=None):
    return emulator.requests.filter(path=path, status=200) if path else emulator.requests.filter(status=200)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A default full load: every new table on by default loads, the others do not."""
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    with emulator.serve() as server:
        report = run_tidb(tmp_path_factory.mktemp("new"), settings(emulator, server))
    return emulator, report


@pytest.fixture(scope="module")
def extra(tmp_path_factory):
    """Only the new tables, with `extra_resources` on."""
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    with emulator.serve() as server:
        source = settings(emulator, server, extra_resources=True)
        report = run_tidb(tmp_path_factory.mktemp("extra"), source, [*DEFAULT_NEW, *EXTRA])
    return emulator, report


def test_a_default_load_has_the_new_lists_on_by_default_and_not_the_others(full):
    emulator, report = full
    assert {table: report.row_counts.get(table) for table in DEFAULT_NEW} == DEFAULT_NEW
    assert {table for table in EXTRA if report.row_counts.get(table)} == set()
    assert set(EXTRA) == OFF_BY_DEFAULT
    counts = emulator.expected_counts()
    assert {table: counts[table] for table in [*DEFAULT_NEW, *EXTRA]} == {**DEFAULT_NEW, **EXTRA}
    assert all(outcome.status is Status.LOADED for outcome in report.outcomes), report.not_loaded()


def test_a_default_load_costs_fifteen_more_requests_than_before(full):
    emulator, _ = full
    # 82 before: one per Dedicated cluster for changefeeds (7), one per project for private endpoint
    # connections (3), one for the project with CMEK, and four organization-wide lists
    assert len(_answered(emulator)) == 82 + 7 + 3 + 1 + 4
    feeds = _answered(emulator, "/dedicated/v1beta1/changefeeds")
    dedicated = sorted(emulator.data.cluster(g).id for g in emulator.data.dedicated_clusters)
    assert sorted(r.query["clusterId"][0] for r in feeds) == dedicated
    assert {r.query["pageSize"][0] for r in feeds} == {"100"}
    connections = _answered(emulator, "/dedicated/v1beta1/clusters/-/tidbNodeGroups/-/privateEndpointConnections")
    projects = sorted(emulator.data.project(p).id for p in range(3))
    assert sorted(r.query["projectId"][0] for r in connections) == projects
    cmek = [r.path for r in _answered(emulator) if r.path.endswith("/aws-cmek")]
    assert cmek == [f"/api/v1beta/projects/{emulator.data.project(1).id}/aws-cmek"]
    for path in ("changefeedRCUs", "clusters:showNodeQuota", "regions:showCloudProviders"):
        assert len(_answered(emulator, f"/dedicated/v1beta1/{path}")) == 1
    assert len(_answered(emulator, "/serverless/v1beta1/regions")) == 1


def test_the_extra_lists_load_with_extra_resources_and_cost_a_request_per_cluster(extra):
    emulator, report = extra
    assert {table: report.row_counts.get(table) for table in [*DEFAULT_NEW, *EXTRA]} == {**DEFAULT_NEW, **EXTRA}
    # parents: projects 1, v1beta clusters 3, Dedicated clusters 1, Starter/Essential clusters 1
    parents = 1 + 3 + 1 + 1
    default = 7 + 3 + 1 + 4
    per_cluster = 7 + 7 + 7 + 3 * 4  # redaction, link services, v1beta services; three audit lists
    assert len(_answered(emulator)) == parents + default + per_cluster + 3  # v1beta private endpoints
    data = emulator.data
    groups = sorted(
        f"/dedicated/v1beta1/clusters/{data.cluster(g).id}/tidbNodeGroups/{network.node_group_id(emulator.context, g)}"
        "/privateLinkService"
        for g in data.dedicated_clusters
    )
    assert sorted(r.path for r in _answered(emulator) if r.path.endswith("/privateLinkService")) == groups
    audit = [r.path for r in _answered(emulator) if "/auditLog/" in r.path]
    assert len(audit) == 12
    assert {path.split("/")[4] for path in audit} == {data.cluster(g).id for g in data.serverless_clusters}


def test_changefeed_rows_are_the_emulated_ones(full):
    emulator, report = full
    ctx = emulator.context
    feeds = [feed for g in emulator.data.dedicated_clusters for feed in changefeeds.changefeeds(ctx, g)]
    rows = query(
        report,
        "SELECT id, cluster_id, name, state, downstream_type, replication_capacity, create_time, checkpoint_ts "
        "FROM dedicated_changefeeds ORDER BY id",
    )
    expected = sorted(
        (f["id"], f["clusterId"], f["name"], f["state"], f["downstreamType"], f["replicationCapacity"]) for f in feeds
    )
    assert [row[:6] for row in rows] == expected
    by_id = {f["id"]: f for f in feeds}
    for row in rows:
        assert row[6].strftime("%Y-%m-%dT%H:%M:%SZ") == by_id[row[0]]["createTime"]
        assert row[7].strftime("%Y-%m-%dT%H:%M:%SZ") == by_id[row[0]]["checkpointTs"]
    rcus = query(report, "SELECT name, rcu_num FROM dedicated_changefeed_rcus ORDER BY rcu_num")
    assert rcus == [(item["name"], item["rcuNum"]) for item in changefeeds.rcus_json()]


def test_private_endpoint_rows_are_the_emulated_ones(full, extra):
    emulator, report = full
    ctx = emulator.context
    endpoints = [e for g in emulator.data.dedicated_clusters for e in network.private_endpoints(ctx, g)]
    rows = query(
        report,
        "SELECT private_endpoint_connection_id, project_id, cluster_id, tidb_node_group_id, endpoint_id, "
        "account_id, endpoint_state, host FROM dedicated_private_endpoint_connections ORDER BY 1",
    )
    expected = []
    for e in sorted(endpoints, key=lambda e: e.id):
        answer = network.connection_json(ctx, e)
        project = emulator.data.project(e.cluster.project).id
        expected.append((e.id, project, e.cluster.id, e.group_id, e.endpoint, e.account, e.state, answer["host"]))
    assert rows == expected
    _, extra_report = extra
    v1beta = query(extra_report, "SELECT id, project_id, cluster_id, endpoint_name, status FROM private_endpoints")
    assert sorted(v1beta) == sorted(
        (e.id, emulator.data.project(e.cluster.project).id, e.cluster.id, e.endpoint, e.state) for e in endpoints
    )
    services = query(
        extra_report, "SELECT cluster_id, tidb_node_group_id, service_name FROM dedicated_private_link_services"
    )
    assert sorted(services) == sorted(
        (emulator.data.cluster(g).id, network.node_group_id(ctx, g), network.link_service_json(ctx, g)["serviceName"])
        for g in emulator.data.dedicated_clusters
    )
    v1beta_services = query(extra_report, "SELECT cluster_id, name FROM private_endpoint_services")
    assert sorted(v1beta_services) == sorted((cluster_id, name) for cluster_id, _, name in services)


def test_settings_rows_are_the_emulated_ones(full, extra):
    emulator, report = full
    ctx = emulator.context
    assert query(report, "SELECT component_type, quota FROM dedicated_node_quotas ORDER BY 1") == sorted(
        network.NODE_QUOTAS
    )
    assert query(report, "SELECT cloud_provider FROM dedicated_cloud_providers ORDER BY 1") == [("aws",), ("gcp",)]
    assert query(report, "SELECT project_id, region, kms_arn FROM aws_cmek_keys") == [
        (emulator.data.project(1).id, key["region"], key["kms_arn"]) for key in network.cmek_json(ctx, 1)
    ]
    regions = query(report, "SELECT region_id FROM serverless_regions ORDER BY 1")
    assert regions == sorted((region["regionId"],) for region in database_audit.regions_json())
    _, extra_report = extra
    serverless = emulator.data.serverless_clusters
    configs = query(extra_report, "SELECT cluster_id, enabled, cloud_storage__type FROM serverless_audit_log_configs")
    assert sorted(configs) == sorted(
        (c["clusterId"], c["enabled"], c["cloudStorage"]["type"])
        for c in (database_audit.config_json(ctx, g) for g in serverless)
    )
    files = query(extra_report, "SELECT cluster_id, name, size_bytes FROM serverless_audit_log_files ORDER BY 2")
    assert files == sorted(
        (emulator.data.cluster(g).id, f["name"], f["sizeBytes"])
        for g in serverless
        for f in database_audit.files(ctx, g)
    )
    rules = query(
        extra_report, "SELECT filter_rule_id, cluster_id, display_name FROM serverless_audit_log_filter_rules"
    )
    assert sorted(rules) == sorted(
        (r["filterRuleId"], r["clusterId"], r["displayName"])
        for g in serverless
        for r in database_audit.filter_rules(ctx, g)
    )
    redaction = query(extra_report, "SELECT cluster_id, redact_log FROM dedicated_log_redaction_policies")
    assert len(redaction) == 7
    assert {row[0] for row in redaction} == {emulator.data.cluster(g).id for g in emulator.data.dedicated_clusters}


def test_every_new_table_is_keyed_by_account_and_holds_no_credential(extra):
    emulator, report = extra
    # an account's rows carry its name first in every primary key (fleetlake.accounts.tag_rows)
    api = get_api("tidb")
    source = tag_rows(api.make_source(**settings(emulator, _Unused())), Account("prod"), api)
    for table in [*DEFAULT_NEW, *EXTRA]:
        columns = source.resources[table].compute_table_schema()["columns"]
        key = [name for name, column in columns.items() if column.get("primary_key")]
        assert key[0] == "fleetlake_account", (table, key)
        assert len(key) > 1, (table, key)
    names = query(
        report,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
        report.pipeline.dataset_name,
    )
    leaked = [(t, c) for t, c in names if any(c == n or c.endswith("__" + n) for n in CREDENTIALS)]
    assert leaked == []


class Injected:
    """Adds the secrets the vendor's changefeed schema shows to every changefeed answered."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/dedicated/v1beta1/changefeeds":
            await self.app(scope, receive, send)
            return
        chunks = []

        async def capture(message):
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    body = json.loads(b"".join(chunks))
                    for feed in body["changefeeds"]:
                        feed.setdefault("kafka", {}).setdefault("authentication", {})["password"] = "hunter2"
                        feed.setdefault("s3", {}).setdefault("endpoint", {})["secretKey"] = "wJalrXUtnFEMI"
                        feed.setdefault("mysql", {}).setdefault("connection", {})["password"] = "hunter3"
                        registry = feed["kafka"].setdefault("dataFormat", {}).setdefault("avroConfig", {})
                        registry.setdefault("schemaRegistry", {})["basicAuthPassword"] = "hunter4"
                    await JSONResponse(body)(scope, receive, send)

        await self.app(scope, receive, capture)


def test_changefeed_secrets_never_reach_a_table(tidb, tmp_path):
    emulator, server = tidb(hooks=[Middleware(Injected)])
    report = run_tidb(tmp_path, settings(emulator, server), ["dedicated_changefeeds"])
    assert report.row_counts["dedicated_changefeeds"] == 7
    names = {row[0] for row in query(report, "SELECT column_name FROM information_schema.columns")}
    assert not [name for name in names if "password" in name or "secret" in name]
    dump = json.dumps(query(report, "SELECT * FROM dedicated_changefeeds"), default=str)
    assert "hunter" not in dump
    assert "wJalr" not in dump
    # the registry's user stays (not a secret), its password under any prefix is gone
    assert not [name for name in names if name.lower().endswith("password")]


class Refused:
    """Answers 403 on changefeeds and 404 on the node quota, as for a key without the role or an old server."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/dedicated/v1beta1/changefeeds":
            body = {"code": 403, "message": "permission denied", "details": []}
            await JSONResponse(body, status_code=403)(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] == "/dedicated/v1beta1/clusters:showNodeQuota":
            body = {"code": 5, "message": "Not Found", "details": []}
            await JSONResponse(body, status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_a_refused_or_missing_new_list_fails_alone(tidb, tmp_path):
    emulator, server = tidb(hooks=[Middleware(Refused)])
    tables = ["dedicated_changefeeds", "dedicated_node_quotas", "dedicated_changefeed_rcus", "dedicated_clusters"]
    report = run_tidb(tmp_path, settings(emulator, server), tables)
    status = {outcome.resource: outcome for outcome in report.outcomes}
    assert status["dedicated_changefeeds"].status is Status.FAILED
    assert "403 Forbidden" in status["dedicated_changefeeds"].reason
    assert status["dedicated_node_quotas"].status is Status.FAILED
    assert "404 Not Found" in status["dedicated_node_quotas"].reason
    assert report.row_counts["dedicated_changefeed_rcus"] == 6
    assert report.row_counts["dedicated_clusters"] == 7
    # requests for the other clusters may be in flight when the first refusal ends the list
    assert 1 <= emulator.requests.count(path="/dedicated/v1beta1/changefeeds", status=403) <= 7


def test_projects_load_with_and_without_their_type(tidb, tmp_path):
    with_type, server = tidb()
    report = run_tidb(tmp_path / "typed", settings(with_type, server), ["projects"])
    typed = query(report, "SELECT id, name, aws_cmek_enabled, type FROM projects ORDER BY id")
    assert [row[3] for row in typed] == ["dedicated"] * 3
    without, server = tidb(project_types=False)
    report = run_tidb(tmp_path / "untyped", settings(without, server), ["projects", "aws_cmek_keys"])
    untyped = query(report, "SELECT id, name, aws_cmek_enabled FROM projects ORDER BY id")
    assert untyped == [row[:3] for row in typed]
    columns = {
        row[0]
        for row in query(report, "SELECT column_name FROM information_schema.columns WHERE table_name = 'projects'")
    }
    assert "type" not in columns
    assert report.row_counts["aws_cmek_keys"] == 1
