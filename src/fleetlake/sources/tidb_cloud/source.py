"""TiDB Cloud: projects, clusters, backups, restores, imports, regions, node specs, API keys, members,
audit logs and bills, from the v1beta API and the five v1beta1 servers, over HTTP Digest auth.

The plain lists are rows of `settings.ENDPOINTS`, driven by dlt's `RESTClient` and paginators. We do not
use `rest_api_source` for them because it cannot restrict which parents a child resolves from (backups
exist only for Dedicated clusters) and treats a vanished parent's 404 as a failure; audit logs (an
incremental cursor), bills (one request per month) and the cost explorer (a POST query) are written out.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.rest_api.config_setup import register_auth

from fleetlake import clock
from fleetlake.errors import ApiError, ConfigurationError, env_variable
from fleetlake.http import DigestAuth, QuotaLimiter, build_session, check_base_url, check_key
from fleetlake.http.prefetch import prefetched
from fleetlake.sources.checks import CheckResult, Probe, read_organization, run_checks
from fleetlake.sources.endpoints import (
    ApiClient,
    build_resources,
    incremental,
    parse_timestamp,
    sanitized,
    shape_records,
)
from fleetlake.sources.lists import Endpoint
from fleetlake.sources.months import load_closed_months_once, month_shift
from fleetlake.sources.months import months_to_load as load_months
from fleetlake.sources.paging import SINGLE_PAGE, GuardedCursorPaginator, PagingStyle
from fleetlake.sources.tidb_cloud import extras
from fleetlake.sources.tidb_cloud.helpers import PageNumberTotalItemsPaginator, amounts_to_decimal
from fleetlake.sources.tidb_cloud.settings import (
    BILLING_MONTHS_KEPT,
    DATASET_NAME,
    DROPPED_FIELDS,
    ENDPOINTS,
    OFF_BY_DEFAULT,
    PAGE_SIZE,
    PIPELINE_NAME,
    SECTION,
    SERVERS,
    TITLE,
    resource_descriptions,
)
from fleetlake.sources.values import Typer, UntypableValueError, to_date, to_timestamp

__all__ = [
    "DATASET_NAME",
    "PIPELINE_NAME",
    "SECTION",
    "CheckResult",
    "check_tidb_cloud",
    "resource_descriptions",
    "tidb_instance_source",
]

logger = logging.getLogger("fleetlake.sources.tidb_cloud")

API = TITLE
CREDENTIALS_HINT = (
    f"Check public_key and private_key in [sources.{SECTION}] of .dlt/secrets.toml (or "
    f"{env_variable(f'sources.{SECTION}', 'public_key')} / {env_variable(f'sources.{SECTION}', 'private_key')}): "
    "the public key is the user name and the private key the password of an API key created under "
    "Organization Settings > API Keys; a deleted key answers 401."
)

register_auth("digest", DigestAuth)

# audit logs go to dlt as Arrow tables of this many rows: dlt's per-item costs (schema hints, cursor
# checks) are then paid per batch, not per page, and normalizing Arrow is nearly free (measured on
# 172,223 rows: 18 s as lists of dicts, 12 s as a table per page)
ARROW_BATCH_ROWS = 5000
# time windows of the audit log read side by side when the run has a start (a cursor or audit_logs_since)
AUDIT_STREAMS = 4


def months_to_load(end_month: str | None, months_back: int) -> list[str]:
    """The billing months to load, oldest first (the API keeps the current month and six before)."""
    return load_months(end_month, months_back, section=SECTION, api=API, kept=BILLING_MONTHS_KEPT)


def _paging(page_size: int) -> dict[str, PagingStyle]:
    return {
        # v1beta: page / page_size, `total` counting items
        "page": PagingStyle(
            lambda size, where: PageNumberTotalItemsPaginator(size, where=where), page_size, "page_size"
        ),
        # v1beta1: pageToken / pageSize, `nextPageToken` in the body
        "token": PagingStyle(
            lambda size, where: GuardedCursorPaginator(where, API, "nextPageToken", "pageToken"), page_size, "pageSize"
        ),
        "none": SINGLE_PAGE,
    }


def _audit_record(raw: dict[str, Any]) -> dict[str, Any]:
    if not raw.get("id"):
        # servers answering in the seed OpenAPI file's shape send no `id`: derive a stable one
        raw["id"] = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:24]
    # ... and `timestamp` for `endTime`
    if "endTime" not in raw and "timestamp" in raw:
        raw["endTime"] = raw.pop("timestamp")
    return dict(sanitized(raw))


def _audit_table(rows: list[dict[str, Any]], typer: Typer) -> Any:
    """Audit log rows as an Arrow table with `endTime` typed, parsed by Arrow rather than row by row.

    Rows Arrow cannot put in one table (a field that changes type), and pages with an `endTime` no
    time format fits (kept as text by `typer`), go to dlt as they are; fields some rows lack are
    columns all the same.
    """

    def as_rows() -> list[dict[str, Any]]:
        for row in rows:
            typer.convert(row, "endTime", to_timestamp)
        return rows

    try:
        first = rows[0].keys()
        if all(row.keys() == first for row in rows):
            table = pa.Table.from_pylist(rows)
        else:
            # from_pylist takes its columns from the first row only: a field that appears later (the API
            # added one) would be dropped without a word, so name every row's fields
            names = dict.fromkeys(name for row in rows for name in row)
            table = pa.Table.from_pydict({name: [row.get(name) for row in rows] for name in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return as_rows()
    position = table.schema.get_field_index("endTime")
    if position < 0:
        # dlt's incremental needs its cursor column in an Arrow table: a page without any event time
        # gets an empty one (its rows load; "include" is the incremental's setting for such rows)
        return table.append_column(pa.field("endTime", pa.timestamp("s", tz="UTC")), pa.nulls(len(table)))
    column = table.column(position)
    try:
        typed = pc.strptime(column, format="%Y-%m-%dT%H:%M:%SZ", unit="s").cast(pa.timestamp("s", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        # another form (fractions, offsets, unix seconds): parsed one by one, kept as text if none fits
        try:
            typed = pa.array([to_timestamp(v) for v in column.to_pylist()], pa.timestamp("us", tz="UTC"))
        except UntypableValueError:
            return as_rows()
    return table.set_column(position, "endTime", typed)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_windows(start: datetime | None, count: int) -> list[dict[str, str]]:
    """startTime/endTime filters splitting [start, now) into `count` windows read side by side.

    Both bounds are inclusive and times have whole seconds, so a window ends one second before the
    next begins; the last is open-ended so events arriving during the run are read too. Without a
    start (a first run reading everything the API keeps) there is one window.
    """
    if start is None:
        return [{}]
    if count == 1:
        return [{"startTime": _iso(start)}]
    now = clock.now()
    span = (now - start).total_seconds()
    if span < count * 3600:
        return [{"startTime": _iso(start)}]
    step = timedelta(seconds=int(span // count))
    windows = []
    for k in range(count):
        window = {"startTime": _iso(start + k * step)}
        if k < count - 1:
            window["endTime"] = _iso(start + (k + 1) * step - timedelta(seconds=1))
        windows.append(window)
    return windows


def _audit_logs_resource(clients: ApiClient, since: datetime | None) -> DltResource:
    endpoint = Endpoint(
        "audit_logs", "iam_base_url", "auditLogs", ("auditLogs",), "token", ("id",), "audit log", total="totalSize"
    )

    def audit_logs(
        event_time: dlt.sources.incremental[datetime] = incremental("endTime", initial_value=since),  # noqa: B008
    ) -> Iterator[Any]:
        # the API's startTime is inclusive: the last loaded events come back and dlt drops them by id
        start = event_time.last_value
        # a first load from audit_logs_since reads time windows side by side; a re-run reads one stream
        # from its cursor, so a run with nothing new costs one request
        windows = _time_windows(start, AUDIT_STREAMS if start is not None and start == since else 1)
        streams = [clients.pages(endpoint, endpoint.path, window) for window in windows]
        typer = Typer(API, "audit_logs", clients.outcomes)
        batch: list[dict[str, Any]] = []
        for page in prefetched(*streams, abort=clients.stopped):
            batch.extend(_audit_record(raw) for raw in page)
            if len(batch) >= ARROW_BATCH_ROWS:
                yield _audit_table(batch, typer)
                batch = []
        if batch:
            yield _audit_table(batch, typer)

    return dlt.resource(
        clients.guard("audit_logs", audit_logs),
        name="audit_logs",
        primary_key="id",
        write_disposition="append",
        parallelized=True,
    )


def _keyed(record: dict[str, Any], keys: tuple[str, ...], resource: str, path: str) -> dict[str, Any]:
    """The record, or `MissingPrimaryKeyError` when a key field is missing or fitted no type."""
    endpoint = Endpoint(resource, "billing_base_url", path, (), "none", keys, resource)
    return shape_records(endpoint, [record], api=API)[0]


def _cost_query(months: list[str], *, seed_shape: bool) -> dict[str, Any]:
    # the last day of the last month; the API answers up to its today
    end = date.fromisoformat(f"{month_shift(months[-1], 1)}-01") - timedelta(days=1)
    time_range = {"timeRange": {"startDate": f"{months[0]}-01", "endDate": end.isoformat()}}
    if seed_shape:
        # the seed OpenAPI file's request: `groups` a list of dimension names
        return {"filter": time_range, "groups": ["service"]}
    return {"filter": time_range, "groups": {"groupBy": ["service"], "timeGranularity": "day"}}


def _billing_resources(clients: ApiClient, months: list[str]) -> list[DltResource]:
    outcomes = clients.outcomes
    detail_keys = ("billedDate", "projectName", "clusterName", "servicePathName")

    def bill(month: str) -> Iterator[dict[str, Any]]:
        body = sanitized(clients.get_json("billing_base_url", "bills", f"bills/{month}"))
        record = amounts_to_decimal(body, Typer(API, "bills", outcomes))
        record["billedMonth"] = month
        yield record

    def details(month: str) -> Iterator[dict[str, Any]]:
        path = f"billsDetails/{month}"
        body = clients.get_json("billing_base_url", "bill_details", path)
        rows = body.get("details", body.get("billsDetails")) or []
        typer = Typer(API, "bill_details", outcomes)
        for raw in rows:
            record = amounts_to_decimal(sanitized(raw), typer)
            typer.convert(record, "billedDate", to_date)
            record["billedMonth"] = month
            yield _keyed(record, detail_keys, "bill_details", path)

    def bills() -> Iterator[dict[str, Any]]:
        yield from load_closed_months_once("bills", months, bill)

    def bill_details() -> Iterator[dict[str, Any]]:
        yield from load_closed_months_once("bill_details", months, details)

    def cost_explorer() -> Iterator[dict[str, Any]]:
        typer = Typer(API, "cost_explorer", outcomes)

        def ask(seed_shape: bool) -> Any:
            query = _cost_query(months, seed_shape=seed_shape)
            return clients.get_json("billing_base_url", "cost_explorer", "billsCostExplorer", method="POST", json=query)

        try:
            body = ask(seed_shape=False)
        except ApiError as refused:
            if refused.status != 400:
                raise
            # a server describing the query as the seed OpenAPI file does refuses the vendor's shape: ask
            # that way once; if it refuses that too, the vendor shape's reason is the one to report
            logger.info("cost_explorer: the vendor's query shape was refused (400); trying the seed file's shape")
            try:
                body = ask(seed_shape=True)
            except ApiError:
                raise refused from None
        for element in body.get("elements") or []:
            for row in element.get("breakdown") or [{**element, "detailKey": "total", "detailName": "total"}]:
                record = amounts_to_decimal(sanitized(row), typer)
                record["billedDate"] = row.get("billedDate") or element.get("billedDate")
                typer.convert(record, "billedDate", to_date)
                record["groupBy"] = "service"
                yield _keyed(record, ("billedDate", "detailKey"), "cost_explorer", "billsCostExplorer")
        # the seed OpenAPI file's shape: {"trends": [{"date", "cost"}]}
        for trend in body.get("trends") or []:
            record = {"billedDate": trend.get("date"), "detailKey": "total", "detailName": "total"}
            record["totalCost"] = trend.get("cost")
            record = amounts_to_decimal(record, typer)
            typer.convert(record, "billedDate", to_date)
            record["groupBy"] = "total"
            yield _keyed(record, ("billedDate", "detailKey"), "cost_explorer", "billsCostExplorer")

    return [
        dlt.resource(
            clients.guard("bills", bills),
            name="bills",
            primary_key="billedMonth",
            write_disposition="merge",
            parallelized=True,
        ),
        dlt.resource(
            clients.guard("bill_details", bill_details),
            name="bill_details",
            primary_key=list(detail_keys),
            write_disposition="merge",
            parallelized=True,
        ),
        dlt.resource(
            clients.guard("cost_explorer", cost_explorer),
            name="cost_explorer",
            primary_key=["billedDate", "detailKey"],
            write_disposition="merge",
            parallelized=True,
        ),
    ]


def _without(fields: tuple[str, ...]) -> Any:
    def drop(item: Any) -> Any:
        rows = item if isinstance(item, list) else [item]
        for row in rows:
            for name in fields:
                row.pop(name, None)
        return item

    return drop


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ConfigurationError(
            f"audit_logs_since in [sources.{SECTION}] is {value!r}, which is not an ISO-8601 time. Use for "
            "example 2026-10-01T00:00:00Z, or leave it out to load every event the API keeps."
        ) from None


def _clients(
    public_key: str,
    private_key: str,
    urls: Mapping[str, str],
    page_size: int,
    max_quota_wait_seconds: float,
    max_attempts: int = 6,
) -> ApiClient:
    public_key = check_key(public_key, setting="public_key", section=f"sources.{SECTION}")
    private_key = check_key(private_key, setting="private_key", section=f"sources.{SECTION}")
    if not 1 <= page_size <= PAGE_SIZE:
        raise ConfigurationError(
            f"page_size in [sources.{SECTION}] is {page_size}; TiDB Cloud lists accept 1 to {PAGE_SIZE}."
        )
    # this run's limiter of the key: one quota across the five servers, and this source's own wait limit
    limiter = QuotaLimiter(f"{API} API key quota", max_wait_seconds=max_quota_wait_seconds)
    session = build_session(limiter, max_attempts=max_attempts)
    auth = DigestAuth(public_key=public_key, private_key=private_key)
    by_server = {
        name: RESTClient(
            base_url=check_base_url(url, setting=name, section=f"sources.{SECTION}"),
            auth=auth,
            session=session,
        )
        for name, url in urls.items()
    }
    return ApiClient(API, CREDENTIALS_HINT, by_server, _paging(page_size), SECTION)


@dlt.source(name="tidb_instance_source", section=SECTION, max_table_nesting=2)
def tidb_instance_source(
    public_key: TSecretStrValue = dlt.secrets.value,
    private_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = SERVERS["base_url"],
    dedicated_base_url: str = SERVERS["dedicated_base_url"],
    serverless_base_url: str = SERVERS["serverless_base_url"],
    iam_base_url: str = SERVERS["iam_base_url"],
    billing_base_url: str = SERVERS["billing_base_url"],
    billing_months: int = BILLING_MONTHS_KEPT,
    billing_end_month: str | None = None,
    audit_logs_since: str | None = None,
    page_size: int = PAGE_SIZE,
    max_quota_wait_seconds: float = 900.0,
    extra_resources: bool = False,
) -> Iterator[DltResource]:
    """Every TiDB Cloud resource as a dlt resource (see `resource_descriptions()`).

    Args:
        public_key: the API key's public key (the digest user name).
        private_key: the API key's private key (the digest password); a secret.
        base_url, dedicated_base_url, serverless_base_url, iam_base_url, billing_base_url: the five
            servers; HTTPS only, except loopback hosts.
        billing_months: how many months before the last one to load bills for (0 to 6, the API's limit).
        billing_end_month: the last month to load (`YYYY-MM`), by default the current one.
        audit_logs_since: where the first audit log load starts (ISO-8601), by default all kept events.
        page_size: items per request, at most 100 (the default, to spend the fewest requests).
        max_quota_wait_seconds: how long one request may wait for an exhausted quota before failing.
        extra_resources: also load the tables left out by default (`settings.OFF_BY_DEFAULT`: per-cluster
            settings and v1beta's view of private endpoints), a request per cluster each; naming one in
            --resources loads it too.
    """
    # the five base URL arguments, by their setting names
    urls = {name: value for name, value in locals().items() if name in SERVERS}
    months = months_to_load(billing_end_month, billing_months)
    since = _since(audit_logs_since)
    clients = _clients(public_key, private_key, urls, page_size, max_quota_wait_seconds)

    built = build_resources(clients, ENDPOINTS)
    built[extras.CLOUD_PROVIDERS.name] = extras.cloud_providers(clients)
    built[extras.LINK_SERVICES.name] = extras.private_link_services(clients, built["dedicated_clusters"])
    built[extras.CMEK.name] = extras.aws_cmek_keys(clients, built["projects"])
    for name, fields in DROPPED_FIELDS.items():
        built[name].add_map(_without(fields))
    for name in OFF_BY_DEFAULT:
        built[name].selected = extra_resources
    yield from built.values()
    yield _audit_logs_resource(clients, since)
    yield from _billing_resources(clients, months)


PROJECTS_PROBE = Probe("base_url", "projects", "api/v1beta/projects", {"page": 1, "page_size": 1})


@with_config(sections=("sources", SECTION))
def tidb_cloud_organization(
    public_key: TSecretStrValue = dlt.secrets.value,
    private_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = SERVERS["base_url"],
) -> str:
    """The organization the key answers for: `org_id` of its first project (one request)."""
    clients = _clients(public_key, private_key, {"base_url": base_url}, 1, max_quota_wait_seconds=900.0)
    return read_organization(clients, PROJECTS_PROBE, "org_id", section=f"sources.{SECTION}")


@with_config(sections=("sources", SECTION))
def check_tidb_cloud(
    public_key: TSecretStrValue = dlt.secrets.value,
    private_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = SERVERS["base_url"],
    dedicated_base_url: str = SERVERS["dedicated_base_url"],
    serverless_base_url: str = SERVERS["serverless_base_url"],
    iam_base_url: str = SERVERS["iam_base_url"],
    billing_base_url: str = SERVERS["billing_base_url"],
    billing_end_month: str | None = None,
) -> list[CheckResult]:
    """One cheap request per server; says plainly which work and why the others do not."""
    # the five base URL arguments, by their setting names
    urls = {name: value for name, value in locals().items() if name in SERVERS}
    month = months_to_load(billing_end_month, 0)[-1]
    # a check answers quickly: one retry, not the run's patient backoff
    clients = _clients(public_key, private_key, urls, 1, max_quota_wait_seconds=120.0, max_attempts=2)
    probes = {
        "base_url": PROJECTS_PROBE,
        "dedicated_base_url": Probe("dedicated_base_url", "dedicated_regions", "regions", {"pageSize": 1}),
        "serverless_base_url": Probe("serverless_base_url", "serverless_clusters", "clusters", {"pageSize": 1}),
        "iam_base_url": Probe("iam_base_url", "api_keys", "apikeys", {"pageSize": 1}),
        "billing_base_url": Probe("billing_base_url", "bills", f"bills/{month}", {}),
    }
    return run_checks(clients, probes, section=f"sources.{SECTION}")
