"""`fleetlake report` as a person sees it: the three APIs loaded from their emulators over loopback into
DuckDB, the model built and the page written; the page opened in a real headless Chromium (Debian's
`chromium`, driven by Playwright) with every chart drawn, no console error, no request leaving the file;
each headline figure on the page equal to SQL on the tables it names; a PNG per chart; an empty database's
page in a fresh process."""

from __future__ import annotations

import contextlib
import re
import shutil
import struct
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from fleetlake import pipelines
from fleetlake.accounts import Account
from fleetlake.emulators.base import EmulatorSetup
from fleetlake.fleet.report import REPORT_FILE, build_and_write
from fleetlake.sources import get_api
from tests.cli.test_end_to_end import fleetlake
from tests.sources.tidb_cloud.conftest import NOW

RESOURCES = {
    "tidb": [
        "projects",
        "clusters",
        "dedicated_clusters",
        "serverless_clusters",
        "bills",
        "bill_details",
        "audit_logs",
        "backups",
        "api_keys",
        "members",
    ],
    "skysql": ["projects", "services", "bills", "backups", "backup_schedules", "organization_users"],
    "secoda": ["audit_log", "resource_catalog", "document", "collection", "integration"],
}
BUILT = NOW + timedelta(hours=1)
CHARTS = [
    "spend_by_vendor",
    "spend_by_service",
    "spend_per_project",
    "top_clusters",
    "credits",
    "fleet_by_state",
    "fleet_by_region",
    "changes_per_day",
    "audit_per_day",
    "audit_by_actor",
    "catalog_by_integration",
    "catalog_coverage",
    "findings_by_rule",
]

HEADLINES = {
    "billed_total": "SELECT sum(BilledCost) FROM fleet.costs",
    "charges_total": "SELECT sum(BilledCost) FROM fleet.costs WHERE ChargeCategory IN ('Usage', 'Purchase')",
    "credits_total": "SELECT -sum(BilledCost) FROM fleet.costs WHERE ChargeCategory IN ('Credit', 'Adjustment')",
    "months": "SELECT count(DISTINCT x_BillingMonth) FROM fleet.costs",
    "deployments": "SELECT count(*) FROM fleet.clusters",
    "running": "SELECT count(*) FROM fleet.clusters WHERE state = 'running'",
    "paused": "SELECT count(*) FROM fleet.clusters WHERE state = 'paused'",
    "regions": "SELECT count(*) FROM (SELECT DISTINCT cloud_provider, region FROM fleet.clusters)",
    "changes_seen": "SELECT count(*) FROM fleet.cluster_changes",
    "creations": "SELECT count(created_at) FROM fleet.clusters",
    "audit_events": "SELECT count(*) FROM fleet.audit_events",
    "audit_changes": "SELECT count(*) FROM fleet.audit_events WHERE NOT read_only",
    "actors": "SELECT count(*) FROM (SELECT DISTINCT vendor, account, coalesce(actor_name, actor_id) FROM fleet.audit_events)",
    "catalog_resources": "SELECT count(*) FROM secoda_data.resource_catalog WHERE NOT coalesce(archived, false)",
    "owner_share": "SELECT round(100.0 * count(*) FILTER (WHERE _dlt_id IN (SELECT _dlt_parent_id FROM"
    " secoda_data.resource_catalog__owners)) / count(*), 1) FROM secoda_data.resource_catalog WHERE NOT coalesce(archived, false)",
    "description_share": "SELECT round(100.0 * count(*) FILTER (WHERE trim(description) <> '') / count(*), 1)"
    " FROM secoda_data.resource_catalog WHERE NOT coalesce(archived, false)",
    "findings": "SELECT count(*) FROM fleet.findings",
    "findings_high": "SELECT count(*) FROM fleet.findings WHERE severity IN ('high', 'critical')",
}
"""Each headline figure of the page, as SQL on the tables the page names (written here, not taken from the
report's code)."""


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    database = folder / "fleetlake.duckdb"
    emulators = {name: get_api(name).emulator().build(EmulatorSetup(now=NOW)) for name in RESOURCES}
    with contextlib.ExitStack() as stack:
        for name, emulator in emulators.items():
            server = stack.enter_context(emulator.serve())
            pipelines.run(
                get_api(name),
                source_kwargs=emulator.source_settings(server.url),
                resources=RESOURCES[name],
                pipelines_dir=folder / "pipelines",
                duckdb_path=database,
                account=Account("acme"),
            )
    model, result = build_and_write(
        None, folder / "out", duckdb_path=database, pipelines_dir=folder / "pipelines", now=BUILT
    )
    return {"database": database, "model": model, "result": result, "folder": folder}


def _sql(database: Path, sql: str) -> float:
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        row = connection.execute(sql).fetchone()
    return float(row[0] or 0) if row else 0.0


def test_the_report_writes_one_page_and_a_png_per_chart(written):
    result = written["result"]
    assert result.html == written["folder"] / "out" / REPORT_FILE
    assert [path.name for path in result.pngs] == [f"{key}.png" for key in CHARTS]
    for path in result.pngs:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", path
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk: the image's size
        assert width >= 400, (path.name, width)
        assert height >= 150, (path.name, height)
    page = result.html.read_text(encoding="utf-8")
    # self-contained: no script, style, font or image fetched from anywhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "@font-face" not in page
    assert page.count('class="chart"') == len(CHARTS)
    # every section says what it shows and the tables it comes from
    sentences = dict(re.findall(r'<section id="(\w+)".*?<p class="what">(.*?)</p>', page, re.S))
    assert list(sentences) == ["spend", "fleet", "changes", "audit", "catalog", "posture"]
    assert "fleet.costs" in sentences["spend"]
    assert "fleet.clusters" in sentences["fleet"]
    assert "fleet.cluster_changes" in sentences["changes"]
    assert "fleet.audit_events" in sentences["audit"]
    assert "secoda_data.resource_catalog" in sentences["catalog"]
    assert "fleet.findings" in sentences["posture"]
    assert f"Built {BUILT:%Y-%m-%d %H:%M} UTC from {written['database']}, dataset fleet." in page


def test_every_chart_draws_in_chromium_with_nothing_fetched_and_the_figures_equal_sql(written, tmp_path):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is not installed: .ci/run installs it (apt-get install chromium)"
    page_file = written["result"].html
    console: list[tuple[str, str]] = []
    left: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: console.append((message.type, message.text)))
            page.on("pageerror", lambda error: console.append(("pageerror", str(error))))

            def request(route):
                if route.request.url.startswith(("file:", "data:", "blob:")):
                    route.continue_()
                else:
                    left.append(route.request.url)
                    route.abort()

            page.route("**/*", request)
            page.goto(page_file.as_uri())
            page.wait_for_function("document.body.dataset.charts || document.body.dataset.chartError")
            assert page.evaluate("document.body.dataset.chartError") is None
            assert page.evaluate("document.body.dataset.charts") == str(len(CHARTS))
            drawn = page.evaluate(
                """Array.from(document.querySelectorAll('.chart')).map(chart => {
                    const svg = chart.querySelector('svg');
                    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                    return [chart.dataset.chart, box.width, box.height,
                            svg ? svg.querySelectorAll('.mark-rect path, .mark-line path, .mark-symbol path').length : 0];
                })"""
            )
            figures = page.evaluate(
                """Object.fromEntries(Array.from(document.querySelectorAll('.figure')).map(
                    f => [f.dataset.figure, [Number(f.dataset.value), f.querySelector('.value').textContent]]))"""
            )
            rows = page.evaluate("document.querySelectorAll('table[data-table=\"audit\"] tbody tr').length")
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert [name for name, *_ in drawn] == CHARTS
    for name, width, height, marks in drawn:
        assert width >= 400, (name, width)
        assert height >= 100, (name, height)
        assert marks >= 2, (name, marks)
    assert console == []
    assert left == []
    assert rows == 15
    shot = screenshot.read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">I", shot[16:20])[0] == 1280
    assert struct.unpack(">I", shot[20:24])[0] > 4000  # the whole page, every section below the first
    assert set(figures) == set(HEADLINES)
    database = written["database"]
    for key, sql in HEADLINES.items():
        expected = _sql(database, sql)
        value, text = figures[key]
        assert value == pytest.approx(expected, abs=0.005), key
        shown = float(re.sub(r"[^0-9.]", "", text))
        assert shown == pytest.approx(round(expected, 2), abs=0.005), (key, text)
    # the demo data's known facts: both vendors billed, twelve months, findings of every kind the page shows
    assert figures["months"][0] == 12
    assert figures["deployments"][0] == 19
    assert figures["findings"][0] == written["model"].row_counts["findings"]


def test_the_spend_chart_spreads_monthly_charges_without_losing_a_cent(written):
    with duckdb.connect(str(written["database"]), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        from fleetlake.fleet.report import SPEND_DAYS

        spread = connection.execute(f"SELECT sum(cost), min(day), max(day) FROM ({SPEND_DAYS})").fetchone()
        charges = connection.execute(
            "SELECT sum(BilledCost), max(CAST(ChargePeriodStart AS DATE)) FILTER (WHERE x_SourceTable = 'tidb_instance_data.bill_details')"
            " FROM fleet.costs WHERE ChargeCategory IN ('Usage', 'Purchase')"
        ).fetchone()
    assert spread[0] == pytest.approx(float(charges[0]), abs=0.01)
    assert spread[2] == charges[1]  # a month still running is spread up to the latest daily charge, not past it


def test_a_database_without_data_gets_a_page_that_says_so(tmp_path, clean_env):
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    out = tmp_path / "page"
    result = fleetlake(
        "report",
        "--file",
        str(database),
        "--out",
        str(out),
        "--pipelines-dir",
        str(tmp_path / "p"),
        env=clean_env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = (out / REPORT_FILE).read_text(encoding="utf-8")
    assert f"Report: {out.resolve() / REPORT_FILE} (0 charts" in result.stdout
    assert page.count('class="chart"') == 0
    assert page.count('<p class="empty">') == 6
    assert "fleet.costs holds no charges" in page
    assert "No open findings." in page
    assert sorted(path.name for path in out.iterdir()) == [REPORT_FILE]


def test_values_from_the_database_cannot_break_out_of_the_page():
    from fleetlake.fleet.report import Chart, Section, render

    hostile = "</script><!--<script>alert(1)</script>"
    section = Section("catalog", "Catalog", f"what {hostile}", table=(["title"], [(hostile,)]), table_title="t")
    section.charts = [Chart("c", hostile, {"data": {"values": [{"name": hostile}]}, "mark": "bar"})]
    page = render([section], generated="now", location=hostile, bundle="/* bundle */")
    specs = page[page.index('id="fleetlake-specs">') : page.index("</script>", page.index('id="fleetlake-specs">'))]
    assert "<" not in specs.split(">", 1)[1]  # no `<` inside the JSON: nothing ends or re-opens the element
    assert hostile not in page
    assert page.count("<script") == 2  # the specs and the bundle, nothing a value brought
    assert "&lt;/script&gt;&lt;!--&lt;script&gt;alert(1)&lt;/script&gt;" in page
