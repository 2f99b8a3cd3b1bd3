"""`fleetlake report`: one self-contained HTML page and a PNG per chart, from the `fleet` model.

Charts are Vega-Lite specifications written with Altair and rendered by vl-convert: vl-convert carries
Vega, Vega-Lite and vega-embed compiled in (no Node, no browser, no network), so the same specification
becomes the PNG file and, with the JavaScript bundle vl-convert hands out, a chart the page draws itself.
Plotly would need kaleido, which drives a Chrome of its own to write PNGs.

The page is written from the in-memory DuckDB a model build leaves behind (`fleet.*` and the raw tables
under their seed datasets' names), so its numbers are those of the tables the build just wrote.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

REPORT_FILE = "fleetlake_report.html"

CATEGORY = {"Usage": "usage", "Purchase": "usage", "Credit": "credit", "Adjustment": "credit"}
"""Spend charts show charges (usage and purchases) before credits; credits and adjustments have their own."""


@dataclass(frozen=True)
class Figure:
    """A headline number: its key (the page's `data-figure`), label, value and how it reads."""

    key: str
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    spec: dict[str, Any]


@dataclass
class Section:
    key: str
    title: str
    what: str
    """One sentence: what the section shows and which tables it comes from."""
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    table: tuple[Sequence[str], list[tuple[Any, ...]]] | None = None
    table_title: str = ""
    empty: str = ""
    """Said instead of the charts when the tables hold nothing for the section."""


@dataclass
class ReportResult:
    html: Path
    pngs: list[Path]
    sections: list[Section]
    seconds: float


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The query's rows as JSON-ready dicts (dates as ISO text, decimals as floats) for a chart's data."""
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description or []]
    return [{name: _plain(value) for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _one(connection: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = connection.execute(sql).fetchone()
    return row[0] if row else None


def _table(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A query's column names and rows, for a section's table."""
    cursor = connection.execute(sql)
    return [column[0] for column in cursor.description or []], cursor.fetchall()


def _money(value: Any, currency: str) -> str:
    return f"{currency} {float(value or 0):,.2f}"


def _count(value: Any) -> str:
    return f"{int(value or 0):,}"


def _share(part: Any, whole: Any) -> tuple[float, str]:
    share = round(100.0 * float(part or 0) / float(whole), 1) if whole else 0.0
    return share, f"{share:.1f} %"


# --- the sections' queries: DuckDB's SQL over fleet.* and the raw tables ------------------------------

SPEND_DAYS = """
WITH horizon AS (
    -- a month still running is spread over its days so far: up to the latest daily charge (or its end)
    SELECT coalesce(max(CAST(ChargePeriodStart AS DATE)) FILTER (
               WHERE date_diff('day', ChargePeriodStart, ChargePeriodEnd) <= 1) + 1,
           max(CAST(ChargePeriodEnd AS DATE))) AS last
    FROM fleet.costs
), charges AS (
    SELECT x_Vendor AS vendor, ServiceName AS service, BilledCost, CAST(ChargePeriodStart AS DATE) AS first,
           CAST(ChargePeriodEnd AS DATE) AS until, horizon.last
    FROM fleet.costs, horizon WHERE ChargeCategory IN ('Usage', 'Purchase')
), spans AS (
    SELECT *, greatest(1, date_diff('day', first, least(until, greatest(last, first + 1)))) AS days FROM charges
)
SELECT first + CAST(i AS INTEGER) AS day, vendor, service, CAST(sum(BilledCost / days) AS DOUBLE) AS cost
FROM spans, (SELECT unnest(range(CAST(max(days) AS BIGINT))) AS i FROM spans) AS spread
WHERE i < days
GROUP BY ALL ORDER BY day, vendor, service
"""
"""Charges per day: a daily charge on its day, a monthly one spread evenly over its month's days (so far)."""

MONTHS_PER_PROJECT = """
SELECT x_BillingMonth AS month, x_Vendor || ' · ' || coalesce(SubAccountName, x_Account) AS project,
       CAST(sum(BilledCost) AS DOUBLE) AS cost
FROM fleet.costs WHERE ChargeCategory IN ('Usage', 'Purchase')
GROUP BY ALL ORDER BY month, project
"""

TOP_CLUSTERS = """
SELECT coalesce(ResourceName, ResourceId) || ' (' || x_Vendor || ' · ' || x_Account
       || coalesce(' · ' || SubAccountName, '') || ')' AS cluster,
       CAST(sum(BilledCost) AS DOUBLE) AS cost
FROM fleet.costs WHERE coalesce(ResourceId, ResourceName) IS NOT NULL
GROUP BY x_Vendor, x_Account, SubAccountName, ResourceId, ResourceName ORDER BY cost DESC, cluster LIMIT 10
"""

CREDITS = """
SELECT x_BillingMonth AS month, x_Vendor || ' · ' || ChargeDescription AS credit,
       CAST(-sum(BilledCost) AS DOUBLE) AS amount
FROM fleet.costs WHERE ChargeCategory IN ('Credit', 'Adjustment')
GROUP BY ALL ORDER BY month, credit
"""

FLEET_STATES = """
SELECT vendor || ' · ' || account AS account, state, count(*) AS deployments
FROM fleet.clusters GROUP BY ALL ORDER BY account, state
"""

FLEET_REGIONS = """
SELECT coalesce(cloud_provider, 'unknown') || ' ' || coalesce(region, 'unknown') AS region,
       vendor || ' · ' || account AS account, count(*) AS deployments
FROM fleet.clusters GROUP BY ALL ORDER BY region, account
"""

CHANGES = """
WITH typed AS (
    SELECT CAST(seen_at AS DATE) AS day,
           CASE
               WHEN field = 'state' AND new_value = 'paused' THEN 'pause'
               WHEN field = 'state' AND old_value = 'paused' THEN 'resume'
               WHEN field = 'state' AND new_value = 'deleting' THEN 'deletion'
               WHEN field = 'state' THEN 'state change'
               WHEN field IN ('node_count', 'node_size', 'storage_gib') THEN 'resize'
               WHEN field = 'version' THEN 'upgrade'
               WHEN field = 'cluster' THEN 'deletion'
               ELSE 'tier change'
           END AS change
    FROM fleet.cluster_changes
    UNION ALL
    SELECT CAST(created_at AS DATE), 'creation' FROM fleet.clusters WHERE created_at IS NOT NULL
)
SELECT day, change, count(*) AS changes FROM typed GROUP BY ALL ORDER BY day, change
"""
"""Changes per day: the history's (pause, resize, upgrade, deletion) and each deployment's creation."""

LATEST_CLUSTER_CHANGES = """
SELECT seen_at, vendor, account, cluster_name, field, old_value, new_value FROM fleet.cluster_changes
ORDER BY seen_at DESC, vendor, account, cluster_name, field LIMIT 10
"""

AUDIT_DAYS = """
SELECT CAST(event_time AS DATE) AS day, action, count(*) AS events
FROM fleet.audit_events GROUP BY ALL ORDER BY day, action
"""

AUDIT_ACTORS = """
WITH actors AS (
    SELECT coalesce(actor_name, actor_id, actor_kind) || ' (' || vendor || ')' AS actor, action FROM fleet.audit_events
), top AS (
    SELECT actor, count(*) AS n FROM actors GROUP BY actor ORDER BY n DESC, actor LIMIT 10
)
SELECT actors.actor, action, count(*) AS events FROM actors JOIN top USING (actor) GROUP BY ALL
ORDER BY actor, action
"""

LATEST_AUDIT = """
SELECT event_time, vendor, account, coalesce(actor_name, actor_id) AS actor, action, vendor_event,
       resource_type, coalesce(resource_name, resource_id) AS resource, outcome
FROM fleet.audit_events WHERE NOT read_only ORDER BY event_time DESC, vendor_event_id LIMIT 15
"""

CATALOG = """
WITH resources AS (
    SELECT r.*, coalesce(i.name, '(no integration)') AS integration,
           EXISTS (SELECT 1 FROM secoda_data.resource_catalog__owners AS o WHERE o._dlt_parent_id = r._dlt_id) AS owned,
           trim(coalesce(r.description, '')) <> '' AS described
    FROM secoda_data.resource_catalog AS r
    LEFT JOIN secoda_data.integration AS i ON i.id = r.integration_id AND i.fleetlake_account = r.fleetlake_account
    WHERE NOT coalesce(r.archived, false)
)
"""

CATALOG_TYPES = (
    CATALOG
    + "SELECT integration, coalesce(entity_type, native_type, 'other') AS type, count(*) AS resources FROM resources "
    "GROUP BY ALL ORDER BY integration, type"
)

CATALOG_COVERAGE = (
    CATALOG
    + """SELECT type, measure, CAST(round(100.0 * avg(CAST(value AS INTEGER)), 1) AS DOUBLE) AS share FROM (
    SELECT coalesce(entity_type, native_type, 'other') AS type, 'with an owner' AS measure, owned AS value
    FROM resources
    UNION ALL
    SELECT coalesce(entity_type, native_type, 'other'), 'with a description', described FROM resources
) GROUP BY ALL ORDER BY type, measure"""
)

FINDINGS_BY_RULE = """
SELECT rule_id || ' ' || title AS rule, severity, count(*) AS findings FROM fleet.findings
GROUP BY ALL ORDER BY rule
"""

SEVERITY_ORDER = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"

TOP_FINDINGS = f"""
SELECT rule_id, severity, vendor, account, resource_type, coalesce(resource_name, resource_id) AS resource, detail
FROM fleet.findings ORDER BY {SEVERITY_ORDER}, rule_id, account, resource LIMIT 15
"""


# --- charts ----------------------------------------------------------------------------------------------

WIDTH = 760


def _data(rows: list[dict[str, Any]]) -> Any:
    """A chart's rows inline in its specification (the page and the PNG need nothing else)."""
    import altair as alt

    return alt.Data(values=rows)  # type: ignore[no-untyped-call]  # Altair's generated classes are untyped


def _chart(key: str, title: str, chart: Any) -> Chart:
    spec: dict[str, Any] = chart.properties(title=title).to_dict()
    return Chart(key, title, spec)


def _stacked_days(rows: list[dict[str, Any]], value: str, color: str, title: str, unit: str) -> Any:
    import altair as alt

    return (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            # days are UTC days: drawn as such wherever the page is opened (a local time unit shifts them)
            x=alt.X("day:T", title=None, timeUnit="utcyearmonthdate"),
            y=alt.Y(f"sum({value}):Q", title=unit),
            color=alt.Color(f"{color}:N", title=title, legend=alt.Legend(orient="bottom", columns=3, labelLimit=260)),
            tooltip=[
                alt.Tooltip("day:T", timeUnit="utcyearmonthdate"),
                alt.Tooltip(f"{color}:N"),
                alt.Tooltip(f"sum({value}):Q", format=",.2f"),
            ],
        )
        .properties(width=WIDTH, height=220)
    )


def _bars(rows: list[dict[str, Any]], category: str, value: str, color: str, unit: str, sort: Any = "-x") -> Any:
    import altair as alt

    return (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, sort=sort, axis=alt.Axis(labelLimit=320)),
            x=alt.X(f"sum({value}):Q", title=unit),
            color=alt.Color(f"{color}:N", legend=alt.Legend(orient="bottom", columns=3, labelLimit=260)),
            tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{color}:N"), alt.Tooltip(f"sum({value}):Q")],
        )
        .properties(width=WIDTH - 300)
    )


def _currency(connection: duckdb.DuckDBPyConnection) -> str:
    """The bills' currency (the one most rows carry: the vendors bill these accounts in one)."""
    value = _one(connection, "SELECT BillingCurrency FROM fleet.costs GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1")
    return str(value or "USD")


def spend(connection: duckdb.DuckDBPyConnection) -> Section:
    import altair as alt

    currency = _currency(connection)
    section = Section(
        "spend",
        "Spend",
        "What the vendors billed, from fleet.costs (FOCUS 1.2 BilledCost): charges per day by vendor and by "
        "service (SkySQL and bill-level charges come monthly and are spread evenly over their month), per "
        "project and month, the ten most expensive clusters, and the credits and discounts each bill took off.",
    )
    total = _one(connection, "SELECT sum(BilledCost) FROM fleet.costs")
    charges = _one(connection, "SELECT sum(BilledCost) FROM fleet.costs WHERE ChargeCategory IN ('Usage', 'Purchase')")
    credits = _one(
        connection, "SELECT -sum(BilledCost) FROM fleet.costs WHERE ChargeCategory IN ('Credit', 'Adjustment')"
    )
    months = _one(connection, "SELECT count(DISTINCT x_BillingMonth) FROM fleet.costs")
    section.figures = [
        Figure("billed_total", "billed in total", float(total or 0), _money(total, currency)),
        Figure("charges_total", "charges before credits", float(charges or 0), _money(charges, currency)),
        Figure("credits_total", "credits and discounts", float(credits or 0), _money(credits, currency)),
        Figure("months", "billing months", float(months or 0), _count(months)),
    ]
    days = _rows(connection, SPEND_DAYS)
    if not days:
        section.empty = "fleet.costs holds no charges: load TiDB Cloud's bills or SkySQL's to see spend here."
        return section
    unit = f"{currency} per day"
    section.charts = [
        _chart("spend_by_vendor", "Charges per day, by vendor", _stacked_days(days, "cost", "vendor", "vendor", unit)),
        _chart(
            "spend_by_service", "Charges per day, by service", _stacked_days(days, "cost", "service", "service", unit)
        ),
        _chart(
            "spend_per_project",
            "Charges per project and month",
            alt.Chart(_data(_rows(connection, MONTHS_PER_PROJECT)))
            .mark_line(point=True)
            .encode(
                x=alt.X("month:O", title=None),
                y=alt.Y("cost:Q", title=currency),
                color=alt.Color("project:N", legend=alt.Legend(orient="bottom", columns=3, labelLimit=260)),
                tooltip=["month:O", "project:N", alt.Tooltip("cost:Q", format=",.2f")],
            )
            .properties(width=WIDTH, height=240),
        ),
        _chart(
            "top_clusters",
            "The ten most expensive clusters",
            _bars(_rows(connection, TOP_CLUSTERS), "cluster", "cost", "cluster", currency).encode(
                color=alt.value("#4c78a8")
            ),
        ),
    ]
    credit_rows = _rows(connection, CREDITS)
    if credit_rows:
        section.charts.append(
            _chart(
                "credits",
                "Credits and discounts per month",
                alt.Chart(_data(credit_rows))
                .mark_bar()
                .encode(
                    x=alt.X("month:O", title=None),
                    y=alt.Y("sum(amount):Q", title=currency),
                    color=alt.Color("credit:N", legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)),
                    tooltip=["month:O", "credit:N", alt.Tooltip("sum(amount):Q", format=",.2f")],
                )
                .properties(width=WIDTH, height=220),
            )
        )
    return section


def fleet(connection: duckdb.DuckDBPyConnection) -> Section:
    section = Section(
        "fleet",
        "Fleet",
        "Every database deployment, TiDB Cloud's clusters and SkySQL's services, by state and by cloud "
        "provider and region, per vendor and account, from fleet.clusters.",
    )
    deployments = _one(connection, "SELECT count(*) FROM fleet.clusters")
    running = _one(connection, "SELECT count(*) FROM fleet.clusters WHERE state = 'running'")
    paused = _one(connection, "SELECT count(*) FROM fleet.clusters WHERE state = 'paused'")
    regions = _one(connection, "SELECT count(DISTINCT (cloud_provider, region)) FROM fleet.clusters")
    section.figures = [
        Figure("deployments", "deployments", float(deployments or 0), _count(deployments)),
        Figure("running", "running", float(running or 0), _count(running)),
        Figure("paused", "paused", float(paused or 0), _count(paused)),
        Figure("regions", "cloud regions", float(regions or 0), _count(regions)),
    ]
    if not deployments:
        section.empty = "fleet.clusters is empty: load TiDB Cloud's clusters or SkySQL's services to see the fleet."
        return section
    section.charts = [
        _chart(
            "fleet_by_state",
            "Deployments by state",
            _bars(_rows(connection, FLEET_STATES), "account", "deployments", "state", "deployments", sort="ascending"),
        ),
        _chart(
            "fleet_by_region",
            "Deployments by cloud provider and region",
            _bars(_rows(connection, FLEET_REGIONS), "region", "deployments", "account", "deployments"),
        ),
    ]
    return section


def changes(connection: duckdb.DuckDBPyConnection) -> Section:
    section = Section(
        "changes",
        "Changes",
        "Pauses, resumes, resizes, upgrades and deletions per day from fleet.cluster_changes (the history dlt "
        "keeps in fleet.cluster_history), and each deployment's creation from fleet.clusters.",
    )
    seen = _one(connection, "SELECT count(*) FROM fleet.cluster_changes")
    created = _one(connection, "SELECT count(*) FROM fleet.clusters WHERE created_at IS NOT NULL")
    section.figures = [
        Figure("changes_seen", "changes seen by the history", float(seen or 0), _count(seen)),
        Figure("creations", "deployments with a creation time", float(created or 0), _count(created)),
    ]
    rows = _rows(connection, CHANGES)
    if not rows:
        section.empty = "No deployment and no change yet: the history fills as `fleetlake run` loads again."
        return section
    import altair as alt

    timeline = (
        alt.Chart(_data(rows))
        .mark_circle(opacity=0.8)
        .encode(
            x=alt.X("day:T", title=None, timeUnit="utcyearmonthdate"),
            y=alt.Y("change:N", title=None),
            size=alt.Size("changes:Q", legend=None, scale=alt.Scale(range=[40, 400])),
            color=alt.Color("change:N", legend=None),
            tooltip=[alt.Tooltip("day:T", timeUnit="utcyearmonthdate"), "change:N", "changes:Q"],
        )
        .properties(width=WIDTH, height=180)
    )
    section.charts = [_chart("changes_per_day", "Changes per day", timeline)]
    section.table = _table(connection, LATEST_CLUSTER_CHANGES)
    section.table_title = "The latest changes the history saw"
    return section


def audit(connection: duckdb.DuckDBPyConnection) -> Section:
    section = Section(
        "audit",
        "Audit",
        "Who did what: events per day by action, the ten most active actors, and the latest changes, from "
        "fleet.audit_events (TiDB Cloud's console audit log and Secoda's).",
    )
    events = _one(connection, "SELECT count(*) FROM fleet.audit_events")
    writes = _one(connection, "SELECT count(*) FROM fleet.audit_events WHERE NOT read_only")
    actors = _one(
        connection, "SELECT count(DISTINCT (vendor, account, coalesce(actor_name, actor_id))) FROM fleet.audit_events"
    )
    section.figures = [
        Figure("audit_events", "audit events", float(events or 0), _count(events)),
        Figure("audit_changes", "of them changes (not reads or logins)", float(writes or 0), _count(writes)),
        Figure("actors", "actors", float(actors or 0), _count(actors)),
    ]
    if not events:
        section.empty = "fleet.audit_events is empty: load TiDB Cloud's audit_logs or Secoda's audit_log."
        return section
    section.charts = [
        _chart(
            "audit_per_day",
            "Audit events per day, by action",
            _stacked_days(_rows(connection, AUDIT_DAYS), "events", "action", "action", "events"),
        ),
        _chart(
            "audit_by_actor",
            "The ten most active actors",
            _bars(_rows(connection, AUDIT_ACTORS), "actor", "events", "action", "events"),
        ),
    ]
    section.table = _table(connection, LATEST_AUDIT)
    section.table_title = "The latest changes (reads and logins left out)"
    return section


def catalog(connection: duckdb.DuckDBPyConnection) -> Section:
    section = Section(
        "catalog",
        "Catalog",
        "Secoda's catalog: resources per integration and type, and the share of each type with an owner and "
        "with a description, from secoda_data.resource_catalog and secoda_data.integration (archived left out).",
    )
    total, owned, described = connection.execute(
        CATALOG + "SELECT count(*), count(*) FILTER (WHERE owned), count(*) FILTER (WHERE described) FROM resources"
    ).fetchone() or (0, 0, 0)
    owner_share, owner_text = _share(owned, total)
    description_share, description_text = _share(described, total)
    section.figures = [
        Figure("catalog_resources", "catalog resources", float(total or 0), _count(total)),
        Figure("owner_share", "with an owner", owner_share, owner_text),
        Figure("description_share", "with a description", description_share, description_text),
    ]
    if not total:
        section.empty = "secoda_data.resource_catalog is empty: load Secoda to see the catalog here."
        return section
    import altair as alt

    section.charts = [
        _chart(
            "catalog_by_integration",
            "Resources per integration and type",
            _bars(_rows(connection, CATALOG_TYPES), "integration", "resources", "type", "resources"),
        ),
        _chart(
            "catalog_coverage",
            "Share with an owner and with a description, per type",
            alt.Chart(_data(_rows(connection, CATALOG_COVERAGE)))
            .mark_bar()
            .encode(
                y=alt.Y("type:N", title=None),
                yOffset="measure:N",
                x=alt.X("share:Q", title="% of the type's resources", scale=alt.Scale(domain=[0, 100])),
                color=alt.Color("measure:N", legend=alt.Legend(orient="bottom")),
                tooltip=["type:N", "measure:N", alt.Tooltip("share:Q", format=".1f")],
            )
            .properties(width=WIDTH - 300),
        ),
    ]
    return section


def posture(connection: duckdb.DuckDBPyConnection) -> Section:
    import altair as alt

    section = Section(
        "posture",
        "Posture",
        "What the posture checks (`fleetlake checks`) find open, per rule and severity, from fleet.findings.",
    )
    found = _one(connection, "SELECT count(*) FROM fleet.findings")
    high = _one(connection, "SELECT count(*) FROM fleet.findings WHERE severity IN ('high', 'critical')")
    section.figures = [
        Figure("findings", "open findings", float(found or 0), _count(found)),
        Figure("findings_high", "of them high or critical", float(high or 0), _count(high)),
    ]
    if not found:
        section.empty = "No open findings."
        return section
    scale = alt.Scale(domain=["critical", "high", "medium", "low"], range=["#7b1e1e", "#d62728", "#ff9f1c", "#9ecae9"])
    section.charts = [
        _chart(
            "findings_by_rule",
            "Open findings per rule",
            _bars(
                _rows(connection, FINDINGS_BY_RULE), "rule", "findings", "severity", "findings", sort="ascending"
            ).encode(color=alt.Color("severity:N", scale=scale, legend=alt.Legend(orient="bottom"))),
        )
    ]
    section.table = _table(connection, TOP_FINDINGS)
    section.table_title = "The most severe findings (all of them in fleet.findings)"
    return section


SECTIONS: tuple[Callable[[duckdb.DuckDBPyConnection], Section], ...] = (spend, fleet, changes, audit, catalog, posture)


def gather(connection: duckdb.DuckDBPyConnection) -> list[Section]:
    """Every section of the report, from `connection` (a model build's DuckDB)."""
    return [make(connection) for make in SECTIONS]


# --- the page --------------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #dde2ea; --panel: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
header { padding: 28px 40px 18px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 12px; display: flex; gap: 16px; flex-wrap: wrap; }
nav a { color: #2457c5; text-decoration: none; font-weight: 600; }
main { padding: 8px 40px 48px; max-width: 1180px; }
section { padding: 20px 0 12px; border-bottom: 1px solid var(--line); }
section h2 { margin: 0 0 4px; font-size: 21px; }
p.what { margin: 0 0 14px; color: var(--muted); max-width: 900px; }
.figures { display: flex; gap: 14px; flex-wrap: wrap; margin-bottom: 14px; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
          min-width: 170px; }
.figure .value { display: block; font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .label { color: var(--muted); font-size: 13px; }
.chart { margin: 10px 0 18px; min-height: 120px; }
p.empty { font-style: italic; color: var(--muted); }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 14px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: var(--panel); }
h3 { font-size: 15px; margin: 14px 0 4px; }
footer { padding: 16px 40px; color: var(--muted); font-size: 13px; }
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `<` at all (`</script>` would end it, `<!--` change how the
    parser reads it); in JSON a `<` can only stand in a string, where `\\u003c` is the same character."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


DRAW = """
const specs = JSON.parse(document.getElementById('fleetlake-specs').textContent);
Promise.all(Object.entries(specs).map(([key, spec]) =>
  vegaEmbed('#chart-' + key, spec, {renderer: 'svg', actions: false})))
  .then(() => { document.body.dataset.charts = String(Object.keys(specs).length); })
  .catch((error) => { document.body.dataset.chartError = String(error); console.error(error); });
"""
"""Draws every chart of the page, then says so on <body> (`data-charts`: how many; the browser test waits
for it); bundled by vl-convert with Vega, Vega-Lite and vega-embed into one script."""


def render(sections: Sequence[Section], *, generated: str, location: str, bundle: str) -> str:
    """The page: every section's figures, charts and table; `bundle` is the script that draws the charts
    (vl-convert's bundle of `DRAW`)."""
    body: list[str] = []
    specs: dict[str, Any] = {}
    for section in sections:
        part = [f'<section id="{section.key}" data-section="{section.key}">', f"<h2>{html.escape(section.title)}</h2>"]
        part.append(f'<p class="what">{html.escape(section.what)}</p>')
        part.append('<div class="figures">')
        for figure in section.figures:
            part.append(
                f'<div class="figure" data-figure="{figure.key}" data-value="{figure.value!r}">'
                f'<span class="value">{html.escape(figure.text)}</span>'
                f'<span class="label">{html.escape(figure.label)}</span></div>'
            )
        part.append("</div>")
        if section.empty:
            part.append(f'<p class="empty">{html.escape(section.empty)}</p>')
        for chart in section.charts:
            specs[chart.key] = chart.spec
            part.append(
                f'<div class="chart" id="chart-{chart.key}" data-chart="{chart.key}" role="img" '
                f'aria-label="{html.escape(chart.title)}"></div>'
            )
        if section.table is not None:
            columns, rows = section.table
            part.append(f"<h3>{html.escape(section.table_title)}</h3>")
            part.append(f'<table data-table="{section.key}"><thead><tr>')
            part.extend(f"<th>{html.escape(str(c))}</th>" for c in columns)
            part.append("</tr></thead><tbody>")
            for row in rows:
                part.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>")
            part.append("</tbody></table>")
        part.append("</section>")
        body.append("\n".join(part))
    nav = " ".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing leaves the page: no fetch, no font, no image from anywhere but the page itself
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline' "
            "'unsafe-eval'; style-src 'unsafe-inline'; img-src data:\">",
            "<title>fleetlake report</title>",
            f"<style>{STYLE}</style></head><body>",
            "<header><h1>fleetlake report</h1>",
            f"<p>Built {html.escape(generated)} from {html.escape(location)}.</p>",
            f"<nav>{nav}</nav></header>",
            "<main>",
            *body,
            "</main>",
            "<footer>Written by fleetlake from the fleet model; charts by Vega-Lite (Altair, vl-convert).</footer>",
            f'<script type="application/json" id="fleetlake-specs">{_script_json(specs)}</script>',
            f"<script>{bundle}</script>",
            "</body></html>",
        ]
    )


def write(connection: duckdb.DuckDBPyConnection, out_dir: Path, *, generated: str, location: str) -> ReportResult:
    """Gather the sections from `connection`, write the page and one PNG per chart into `out_dir`."""
    import vl_convert

    started = time.perf_counter()
    sections = gather(connection)
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = []
    for section in sections:
        for chart in section.charts:
            path = out_dir / f"{chart.key}.png"
            path.write_bytes(vl_convert.vegalite_to_png(chart.spec, scale=1.5))
            pngs.append(path)
    page = out_dir / REPORT_FILE
    text = render(sections, generated=generated, location=location, bundle=vl_convert.javascript_bundle(DRAW))
    page.write_text(text, encoding="utf-8")
    return ReportResult(page, pngs, sections, time.perf_counter() - started)


def build_and_write(
    destination: Any,
    out_dir: Path,
    *,
    duckdb_path: Path | None,
    pipelines_dir: Path | None = None,
    now: datetime | None = None,
    rules: Sequence[Any] | None = None,
) -> tuple[Any, ReportResult]:
    """Rebuild the fleet model in `destination` (as `fleetlake model` does) and write the report from the
    build's own tables into `out_dir`: (the build's `ModelReport`, the `ReportResult`)."""
    from fleetlake.pipelines import build_model

    written: list[ReportResult] = []

    def then(connection: duckdb.DuckDBPyConnection, location: str) -> None:
        built = _one(connection, "SELECT strftime(fleet_now(), '%Y-%m-%d %H:%M UTC')")
        written.append(write(connection, out_dir, generated=str(built), location=location))

    model = build_model(
        destination, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir, now=now, rules=rules, then=then
    )
    return model, written[0]
