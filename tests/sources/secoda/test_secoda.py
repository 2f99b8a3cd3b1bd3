"""The Secoda source against its emulator over loopback: every table, odd next links, the 10,000 cap,
cheap incremental re-runs, resource details, 401 and 429."""

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from fleetlake.emulators.secoda import SecodaScale
from fleetlake.errors import AuthenticationError
from fleetlake.troubleshoot import causes
from tests.conftest import query
from tests.sources.secoda.conftest import catalog_calls, run_secoda, settings

EXPECTED = {
    "resource_catalog": 600,
    "document": 36,
    "collection": 8,
    "integration": 3,
    "users": 12,
    "teams": 5,  # the four active teams and the archived one
    "tags": 15,
    "lineage": 40,
    "tables": 52,
    "columns": 394,
    "terms": 24,
    "questions": 20,
    "audit_log": 300,
}


@pytest.mark.parametrize("style", ["canonical", "vendor"])
def test_full_load_follows_next_links_of_either_style(secoda, tmp_path, style):
    emulator, server = secoda(next_link_style=style)
    report = run_secoda(tmp_path, settings(emulator, server))
    assert {table: report.row_counts.get(table) for table in EXPECTED} == EXPECTED
    model = emulator.expected_counts()
    assert model["resource_catalog"] == 600
    assert model["teams"] == 5
    # the catalog is read with an explicit stable sort, 100 per page
    calls = catalog_calls(emulator)
    assert [c.query["page"] for c in calls] == [[str(n)] for n in range(1, 7)]
    assert {json.loads(c.query["sort"][0])["field"] for c in calls} == {"updated_at"}
    # vendor-style links point at another host without /api/v1: only their page numbers were used
    assert {r.path.split("/api/v1/")[0] for r in emulator.requests.records()} == {""}
    ids = {row[0] for row in query(report, "SELECT id FROM resource_catalog")}
    assert len(ids) == 600
    assert "resource_detail" not in report.row_counts
    assert not emulator.requests.filter(path=f"/api/v1/resource/all/{next(iter(ids))}")


def test_integration_credentials_are_never_loaded(secoda, tmp_path):
    emulator, server = secoda()
    report = run_secoda(tmp_path, settings(emulator, server), ["integration"])
    columns = {
        row[0]
        for row in query(
            report, "SELECT column_name FROM information_schema.columns WHERE table_name LIKE 'integration%'"
        )
    }
    assert not {
        c for c in columns if c.startswith("credentials") or "password" in c or "secret" in c or "private_key" in c
    }
    assert "name" in columns


def _medium(**extra):
    return SecodaScale(integrations=(("snowflake", 3200), ("postgres", 700), ("tableau", 300)), **extra)


def test_a_catalog_over_the_cap_is_split_until_every_part_fits(secoda, tmp_path, caplog):
    # a cap of 1,000 makes a 4,260-resource workspace split by integration, type and parent
    emulator, server = secoda(scale=_medium(), catalog_cap=1000)
    total = emulator.expected_counts()["resource_catalog"]
    assert total == 4260
    with caplog.at_level(logging.INFO, logger="fleetlake.sources.secoda"):
        report = run_secoda(tmp_path, settings(emulator, server, catalog_cap=1000), ["resource_catalog"])
    assert report.row_counts["resource_catalog"] == total
    assert query(report, "SELECT count(DISTINCT id) FROM resource_catalog")[0][0] == total
    [summary] = [r.getMessage() for r in caplog.records if "part(s)" in r.getMessage()]
    assert summary.startswith(f"resource_catalog: {total} resources in ")
    assert f"parts sum to {total}, the catalog counts {total} (they add up); 0 duplicate(s) dropped" in summary
    filters = [json.loads(c.query["filter"][0]) for c in catalog_calls(emulator) if "filter" in c.query]
    assert any("parent_id" in json.dumps(f) for f in filters)  # the deepest split was needed
    assert all(c.status == 200 for c in catalog_calls(emulator))


def test_a_large_workspace_loads_every_resource_once_past_the_real_cap(secoda, tmp_path, caplog):
    scale = SecodaScale(integrations=(("snowflake", 24000), ("postgres", 2500), ("tableau", 1000)))
    emulator, server = secoda(scale=scale)
    total = emulator.expected_counts()["resource_catalog"]
    assert total == 27560
    with caplog.at_level(logging.INFO, logger="fleetlake.sources.secoda"):
        report = run_secoda(tmp_path, settings(emulator, server), ["resource_catalog"])
    assert report.row_counts["resource_catalog"] == total
    assert query(report, "SELECT count(DISTINCT id) FROM resource_catalog")[0][0] == total
    [summary] = [r.getMessage() for r in caplog.records if "part(s)" in r.getMessage()]
    assert f"the catalog counts {total} (they add up)" in summary


def test_a_rerun_with_nothing_changed_costs_one_catalog_request(secoda, tmp_path):
    emulator, server = secoda()
    kwargs = settings(emulator, server)
    run_secoda(tmp_path, kwargs, ["resource_catalog", "audit_log"])
    emulator.requests.clear()
    again = run_secoda(tmp_path, kwargs, ["resource_catalog", "audit_log"])
    assert len(catalog_calls(emulator)) == 1
    # the audit log's newest page reaches back past its cursor: one page of the documented list
    assert len(emulator.requests.filter(path="/api/v1/activity_log/audit_logs/")) == 1
    assert not emulator.requests.filter(path="/api/v1/notification/workspace/")
    assert emulator.requests.count() == 2
    assert again.loaded_rows.get("resource_catalog", 0) == 0
    assert again.loaded_rows.get("audit_log", 0) == 0

    emulator.advance(timedelta(days=1))
    emulator.requests.clear()
    third = run_secoda(tmp_path, kwargs, ["resource_catalog", "audit_log"])
    assert third.row_counts["resource_catalog"] == 612
    assert third.loaded_rows["resource_catalog"] == 35  # 12 new resources and 23 changed ones
    assert third.loaded_rows["audit_log"] == 3
    assert len(catalog_calls(emulator)) == 1


def test_details_are_fetched_only_for_new_or_changed_resources(secoda, tmp_path):
    emulator, server = secoda()
    kwargs = settings(emulator, server, resource_detail=True)
    first = run_secoda(tmp_path, kwargs, ["resource_catalog", "resource_detail"])
    assert first.row_counts["resource_detail"] == 600
    assert emulator.requests.count(status=200) - len(catalog_calls(emulator)) == 600
    emulator.advance(timedelta(days=1))
    emulator.requests.clear()
    second = run_secoda(tmp_path, kwargs, ["resource_catalog", "resource_detail"])
    details = [r for r in emulator.requests.records() if r.path.startswith("/api/v1/resource/all/")]
    assert len(details) == 35
    assert second.row_counts["resource_detail"] == 612


def test_a_full_refresh_drops_resources_deleted_since(secoda, tmp_path):
    emulator, server = secoda()
    first = run_secoda(tmp_path, settings(emulator, server), ["resource_catalog"])
    with duckdb.connect(first.location) as connection:  # a resource that has since been deleted upstream
        connection.execute(
            "INSERT INTO secoda_data.resource_catalog (id, title, _dlt_load_id, _dlt_id) VALUES ('gone', 'x', '1', 'x')"
        )
    refreshed = run_secoda(tmp_path, settings(emulator, server, full_refresh=True), ["resource_catalog"])
    assert refreshed.row_counts["resource_catalog"] == 600
    assert query(refreshed, "SELECT count(*) FROM resource_catalog WHERE id = 'gone'")[0][0] == 0


def test_a_wrong_token_names_the_key_and_the_region(secoda, tmp_path):
    emulator, server = secoda()
    with pytest.raises(PipelineStepFailed) as error:
        run_secoda(tmp_path, settings(emulator, server, api_key="wrong-token"), ["collection"])
    [cause] = [c for c in causes(error.value) if isinstance(c, AuthenticationError)]
    message = str(cause)
    assert "answered 401 Unauthorized: Invalid token." in message
    assert 'region = "eu"' in message
    assert "wrong-token" not in message


def test_429s_with_retry_after_are_waited_out(secoda, tmp_path):
    emulator, server = secoda(rate_limit=6, rate_window_seconds=0.25)
    report = run_secoda(tmp_path, settings(emulator, server))
    assert {table: report.row_counts.get(table) for table in EXPECTED} == EXPECTED
    assert emulator.requests.count(status=429) >= 1


def test_selecting_details_alone_also_loads_the_catalog_its_cursor_belongs_to(secoda, tmp_path):
    emulator, server = secoda()
    report = run_secoda(tmp_path, settings(emulator, server, resource_detail=True), ["resource_detail"])
    assert report.row_counts["resource_catalog"] == 600
    assert report.row_counts["resource_detail"] == 600


class EndlessCatalog(BaseHTTPRequestHandler):
    """A catalog of 2 resources whose every page links to a next one: a server that never ends its list."""

    pages: ClassVar[list[int]] = []

    def do_GET(self):  # the name http.server dispatches to
        page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
        type(self).pages.append(page)
        results = [
            {"id": f"r{page}-{i}", "updated_at": "2026-11-01T00:00:00Z", "native_type": "table"} for i in range(2)
        ]
        body = json.dumps({"count": 2, "links": {"next": f"/resource/catalog?page={page + 1}"}, "results": results})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_a_catalog_that_links_past_its_count_stops_with_the_loop_named(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EndlessCatalog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
        report = run_secoda(tmp_path, {"api_key": "k", "base_url": url}, ["resource_catalog"])
    finally:
        server.shutdown()
        server.server_close()
    (outcome,) = report.outcomes
    assert outcome.status.value == "failed"
    assert outcome.reason.startswith(f"Secoda resource_catalog (GET {url}/resource/catalog) (all resources) still")
    assert "still has a next page after page 2, past its count of 2: the pagination loops" in outcome.reason
    # the probe's page 1, then page 2 read by the paginator, which refused the link to page 3
    assert EndlessCatalog.pages == [1, 2]
