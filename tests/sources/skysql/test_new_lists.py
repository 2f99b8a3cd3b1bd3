"""The SkySQL lists added after the first release, against the emulator over loopback: service allow-lists,
products and their config keys, tiers, volume types, availability zones, and the two billing lists only
the vendor's old pages name (invoices, usage per service), which a server may not offer. Also the
organization headers the source sends."""

from typing import ClassVar

import requests
from starlette.middleware import Middleware

from fleetlake import pipelines
from fleetlake.accounts import ACCOUNT_COLUMN, ORGANIZATION_COLUMN, Account
from fleetlake.emulators.skysql import catalog
from fleetlake.emulators.skysql.provisioning import OPEN_TO_ALL, allow_list, service_json
from fleetlake.sources import get_api
from fleetlake.sources.endpoints import CREDENTIAL_FIELDS
from tests.conftest import query
from tests.rewrite import RewriteJson
from tests.sources.skysql.conftest import run_skysql, settings

NEW = {
    "service_allowlists": 7,
    "products": 4,
    "product_configs": 13,
    "tiers": 2,
    "volume_types": 4,
    "availability_zones": 42,
}
# the lists the new ones are asked for each record of
PARENTS = ["services", "providers", "regions"]
PROVISIONING = "/provisioning/v1"


def _columns(report, table_prefix):
    rows = query(
        report,
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'skysql_data' AND table_name LIKE ?",
        table_prefix + "%",
    )
    return {(table, column) for table, column in rows}


def test_every_new_list_loads_its_demo_rows_in_exactly_the_expected_requests(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, settings(emulator, server), [*PARENTS, *NEW])
    assert {table: report.row_counts.get(table) for table in NEW} == NEW
    model = emulator.expected_counts()
    assert {table: model[table] for table in NEW} == NEW
    log = emulator.requests
    # one allow-list request per service, unpaged (the vendor declares no paging parameters there)
    services = [emulator.data.service(s).id for s in range(8)]
    allowlists = [r for r in log if r.path.endswith("/security/allowlist")]
    assert sorted(r.path for r in allowlists) == sorted(
        f"{PROVISIONING}/services/{i}/security/allowlist" for i in services
    )
    assert [r.query for r in allowlists] == [{}] * 8
    # one configs request per product, one volume-types request per provider, one zones request per region
    assert sorted(r.path for r in log if r.path.startswith(f"{PROVISIONING}/products/")) == sorted(
        f"{PROVISIONING}/products/{p.name}/configs" for p in catalog.PRODUCTS
    )
    assert sorted(r.path for r in log if r.path.endswith("/volume-types")) == sorted(
        f"{PROVISIONING}/providers/{p.name}/volume-types" for p in catalog.PROVIDERS
    )
    assert sorted(r.path for r in log if r.path.endswith("/zones")) == sorted(
        f"{PROVISIONING}/regions/{r.name}/zones" for r in catalog.REGIONS
    )
    assert log.count(path=f"{PROVISIONING}/products") == log.count(path=f"{PROVISIONING}/tiers") == 1
    # the paged lists ask for the documented maximum, and each fits its first page
    paged = [r for r in log if not r.path.endswith("/security/allowlist")]
    assert all(r.query.get("page_size") == ["100"] and "page_token" not in r.query for r in paged)
    # 3 parent lists, 8 allow-lists, products, 4 config lists, tiers, 3 volume types lists, 14 zones lists
    assert (log.count(status=200), log.count()) == (34, 34)
    assert not [r for r in log if "credentials" in r.path]
    assert report.exit_code == 0


def test_allowlist_rows_are_the_emulators_entries_keyed_by_account_service_and_address(skysql, tmp_path):
    emulator, server = skysql()
    report = pipelines.run(
        get_api("skysql"),
        source_kwargs=settings(emulator, server),
        resources=["services", "service_allowlists"],
        pipelines_dir=tmp_path / "pipelines",
        duckdb_path=tmp_path / "skysql.duckdb",
        account=Account("prod"),
    )
    rows = query(
        report,
        f"SELECT {ACCOUNT_COLUMN}, service_id, ip, comment FROM service_allowlists ORDER BY service_id, ip",
    )
    expected = sorted(
        ("prod", emulator.data.service(s).id, entry["ip"], entry["comment"])
        for s in range(8)
        for entry in allow_list(emulator.context, s)
    )
    assert [tuple(row) for row in rows] == expected
    assert len(expected) == 7
    # the same entries each service record nests in endpoints[].allow_list
    nested = sorted(
        ("prod", record["id"], entry["ip"], entry["comment"])
        for record in (service_json(emulator.context, s) for s in range(8))
        for endpoint in record["endpoints"]
        for entry in endpoint["allow_list"]
    )
    assert nested == expected
    # private services allow no address; one service is open to the whole internet
    private = [emulator.data.service(s).id for s in range(8) if emulator.data.service(s).private]
    assert len(private) == 3
    assert not {row[1] for row in rows} & set(private)
    assert [row[1:3] for row in rows if row[2] == OPEN_TO_ALL] == [(emulator.data.service(7).id, OPEN_TO_ALL)]
    table = report.pipeline.default_schema.tables["service_allowlists"]
    key = [name for name, column in table["columns"].items() if column.get("primary_key")]
    assert sorted(key) == sorted([ACCOUNT_COLUMN, ORGANIZATION_COLUMN, "service_id", "ip"])


def test_offering_lists_keep_the_documented_fields_and_typed_times(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, settings(emulator, server), [*PARENTS, *NEW, "products"])
    types = dict(
        query(
            report,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'skysql_data'",
        )
    )
    assert types["volume_types.created_on"] == types["volume_types.updated_on"] == "TIMESTAMP WITH TIME ZONE"
    defaults = query(report, "SELECT provider, name FROM volume_types WHERE is_default ORDER BY provider")
    assert [tuple(row) for row in defaults] == [("aws", "gp3"), ("azure", "StandardSSD_LRS"), ("gcp", "pd-ssd")]
    restart = query(
        report,
        "SELECT product_name, name FROM product_configs WHERE requires_restart AND product_name = 'enterprise-server'"
        " ORDER BY name",
    )
    assert [tuple(row) for row in restart] == [
        ("enterprise-server", "character_set_server"),
        ("enterprise-server", "innodb_buffer_pool_size"),
    ]
    zones = query(report, "SELECT name FROM availability_zones WHERE region = 'us-east-1' ORDER BY name")
    assert [row[0] for row in zones] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    # every service runs in a zone its region lists
    pairs = query(
        report,
        "SELECT count(*) FROM services AS s LEFT JOIN availability_zones AS z"
        " ON z.region = s.region AND z.name = s.availability_zone WHERE z.name IS NULL",
    )
    assert pairs[0][0] == 0
    assert report.row_counts["tiers__topologies"] == 9  # Foundation offers the 5 topologies, Power 4


def test_no_new_table_has_a_credential_column(skysql, tmp_path):
    emulator, server = skysql(legacy_billing_endpoints="serve")
    report = run_skysql(tmp_path, settings(emulator, server), [*PARENTS, *NEW, "invoices", "service_usage"])
    columns = set()
    for table in [*NEW, "invoices", "service_usage"]:
        columns |= _columns(report, table)
    assert {table for table, _ in columns} >= {*NEW, "invoices", "service_usage"}
    names = {column for _, column in columns}
    assert not names & CREDENTIAL_FIELDS
    assert not [n for n in names if any(word in n for word in ("password", "secret", "token", "key"))]


def test_invoices_and_usage_answering_404_are_not_offered_and_the_rest_loads(skysql, tmp_path, caplog):
    emulator, server = skysql()
    with caplog.at_level("WARNING", logger="fleetlake"):
        report = run_skysql(
            tmp_path, settings(emulator, server), ["services", "service_allowlists", "invoices", "service_usage"]
        )
    statuses = {outcome.resource: outcome.status.value for outcome in report.outcomes}
    assert statuses == {
        "services": "loaded",
        "service_allowlists": "loaded",
        "invoices": "not offered",
        "service_usage": "not offered",
    }
    assert report.row_counts["service_allowlists"] == 7
    assert "invoices" not in report.row_counts
    assert "service_usage" not in report.row_counts
    warnings = sorted(
        r.getMessage() for r in caplog.records if r.name.startswith("fleetlake") and "404" in r.getMessage()
    )
    assert len(warnings) == 2
    assert warnings[0].startswith("SkySQL invoices (GET")
    assert "answered 404 (no such endpoint: /billing/v1/invoices); skipped" in warnings[0]
    assert warnings[1].startswith("SkySQL service_usage (GET")
    assert "answered 404 (no such endpoint: /billing/v1/usage/service); skipped" in warnings[1]
    log = emulator.requests
    assert [r.status for r in log.filter(path="/billing/v1/invoices")] == [404]
    assert [r.status for r in log.filter(path="/billing/v1/usage/service")] == [404]
    # billing lists take no paging parameters: asked once, as they are
    assert log.filter(path="/billing/v1/invoices")[0].query == {}
    assert report.exit_code == 0


def test_invoices_and_usage_load_when_offered(skysql, tmp_path):
    emulator, server = skysql(legacy_billing_endpoints="serve")
    report = run_skysql(tmp_path, settings(emulator, server), ["invoices", "service_usage"])
    counts = emulator.expected_counts()
    assert (report.row_counts["invoices"], report.row_counts["service_usage"]) == (14, 8)
    assert (counts["invoices"], counts["service_usage"]) == (14, 8)
    types = dict(
        query(
            report,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'invoices'",
        )
    )
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    # usage is keyed by the service, lifted from the line item's `service`
    ids = query(report, "SELECT service_id, service__service_id FROM service_usage ORDER BY service_id")
    assert [row[0] for row in ids] == sorted(emulator.data.service(s).id for s in range(8))
    assert all(row[0] == row[1] for row in ids)
    assert report.exit_code == 0


def test_other_documented_shapes_load_the_same_rows(skysql, tmp_path):
    """The DPS file's allow-list per endpoint (`{name, allowList: [ip]}`), zones as bare names, invoices in an
    envelope keyed by `invoice_uid`: each loads the same rows as the emulator's own shapes."""

    def per_endpoint(entries):
        return [{"name": "primary", "allowList": [entry["ip"] for entry in entries]}] if entries else []

    def enveloped(invoices):
        return {"invoices": [{**{k: v for k, v in i.items() if k != "id"}, "invoice_uid": i["id"]} for i in invoices]}

    hooks = [
        Middleware(RewriteJson, path=f"{PROVISIONING}/services/*/security/allowlist", change=per_endpoint),
        Middleware(
            RewriteJson, path=f"{PROVISIONING}/regions/*/zones", change=lambda zones: [z["name"] for z in zones]
        ),
        Middleware(RewriteJson, path="/billing/v1/invoices", change=enveloped),
    ]
    emulator, server = skysql(hooks=hooks, legacy_billing_endpoints="serve")
    report = run_skysql(
        tmp_path,
        settings(emulator, server),
        ["services", "service_allowlists", "regions", "availability_zones", "invoices"],
    )
    assert (report.row_counts["service_allowlists"], report.row_counts["availability_zones"]) == (7, 42)
    assert report.row_counts["invoices"] == 14
    rows = query(report, "SELECT service_id, ip, endpoint_name FROM service_allowlists ORDER BY service_id, ip")
    expected = sorted(
        (emulator.data.service(s).id, entry["ip"], "primary")
        for s in range(8)
        for entry in allow_list(emulator.context, s)
    )
    assert [tuple(row) for row in rows] == expected
    invoice_ids = query(report, "SELECT id FROM invoices ORDER BY id")
    assert [row[0] for row in invoice_ids] == sorted(
        i["id"] for i in emulator.billing.invoices("", emulator.clock.timestamp())
    )
    assert report.exit_code == 0


class _Headers:
    """Remembers the organization headers of every request."""

    seen: ClassVar[list[dict[str, str]]] = []

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            _Headers.seen.append({k: v for k, v in headers.items() if "org" in k})
        await self.app(scope, receive, send)


def test_an_org_is_sent_in_both_documented_headers_and_each_must_name_the_keys_org(skysql, tmp_path):
    _Headers.seen = []
    emulator, server = skysql(hooks=[Middleware(_Headers)])
    org = emulator.data.org_id
    report = run_skysql(tmp_path, settings(emulator, server, org_id=org), ["billing_account", "tiers"])
    assert (report.row_counts["billing_account"], report.row_counts["tiers"]) == (1, 2)
    assert _Headers.seen == [{"x-mdb-org": org, "x-skysql-org-id": org}] * 2
    # the emulator refuses either header naming another organization
    for header in ("X-MDB-Org", "X-SkySQL-Org-ID"):
        answer = requests.get(
            server.url + f"{PROVISIONING}/tiers",
            headers={"X-API-Key": next(iter(emulator.keys)), header: "org-someone-else"},
            timeout=10,
        )
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["message"] == (
            f"the organization in {header} is not the organization of this API key"
        )
