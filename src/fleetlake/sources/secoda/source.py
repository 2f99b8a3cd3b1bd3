"""Secoda: the whole catalog (past its 10,000-per-query cap), documents, collections, integrations,
users, teams, tags, lineage, tables, columns, glossary terms, questions and the audit log, over a
bearer token.

Plain lists are rows of `settings.ENDPOINTS`; the catalog (`catalog.CatalogReader`), resource details
and the audit log (`audit`) are written out. Integration credentials are never loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.client import RESTClient

from fleetlake.errors import ConfigurationError, env_variable
from fleetlake.http import QuotaLimiter, build_session, check_base_url, check_key
from fleetlake.sources.checks import CheckResult, Probe, read_organization, run_checks
from fleetlake.sources.endpoints import ApiClient, build_resources, parse_timestamp
from fleetlake.sources.lists import Endpoint
from fleetlake.sources.paging import SINGLE_PAGE, PagingStyle
from fleetlake.sources.secoda.audit import audit_log_resource
from fleetlake.sources.secoda.catalog import EPOCH, CatalogReader, SplitReport, updated_at
from fleetlake.sources.secoda.helpers import NextLinkPaginator
from fleetlake.sources.secoda.settings import (
    AUDIT_LOG_DAYS,
    AUDIT_PAGE_SIZE,
    CATALOG_CAP,
    DATASET_NAME,
    ENDPOINTS,
    PIPELINE_NAME,
    REGIONS,
    SECTION,
    TIMESTAMPS,
    TITLE,
    resource_descriptions,
)

__all__ = ["DATASET_NAME", "PIPELINE_NAME", "SECTION", "check_secoda", "resource_descriptions", "secoda_source"]

logger = logging.getLogger("fleetlake.sources.secoda")

API = TITLE
CREDENTIALS_HINT = (
    f"Check api_key in [sources.{SECTION}] of .dlt/secrets.toml (or {env_variable(f'sources.{SECTION}', 'api_key')}), "
    'and the region: a workspace at eu.secoda.co needs region = "eu", apac.secoda.co region = "apac", a '
    'self-hosted one base_url = "https://<your host>/api/v1". Keys are created under Settings > API.'
)

CATALOG = Endpoint("resource_catalog", "base_url", "resource/catalog", ("results",), "next", ("id",), "catalog",
                   timestamps=TIMESTAMPS)  # fmt: skip
DETAIL = Endpoint("resource_detail", "base_url", "resource/all/{id}", (), "none", ("id",), "detail",
                  timestamps=TIMESTAMPS)  # fmt: skip


def _base_url(region: str, base_url: str | None) -> str:
    if base_url:
        return check_base_url(base_url, setting="base_url", section=f"sources.{SECTION}")
    try:
        return REGIONS[region]
    except KeyError:
        raise ConfigurationError(
            f"region in [sources.{SECTION}] is {region!r}; Secoda regions are {', '.join(REGIONS)}. For a "
            'self-hosted workspace set base_url = "https://<your host>/api/v1" instead.'
        ) from None


PAGING = {
    # page numbers, driven by the answer's next link; Secoda sets its own page size
    "next": PagingStyle(lambda size, where: NextLinkPaginator(where)),
    # the older audit log takes a page size (the others answer Secoda's own)
    "sized": PagingStyle(lambda size, where: NextLinkPaginator(where), AUDIT_PAGE_SIZE, "page_size"),
    "none": SINGLE_PAGE,
}


def _client(api_key: str, url: str, *, max_attempts: int = 6, max_quota_wait_seconds: float = 900.0) -> ApiClient:
    api_key = check_key(api_key, setting="api_key", section=f"sources.{SECTION}")
    # this run's limiter of the key, with this source's own wait limit
    limiter = QuotaLimiter(f"{API} API key quota", max_wait_seconds=max_quota_wait_seconds)
    rest = RESTClient(
        base_url=url,
        auth=BearerTokenAuth(token=api_key),
        session=build_session(limiter, max_attempts=max_attempts),
    )
    return ApiClient(API, CREDENTIALS_HINT, {"base_url": rest}, PAGING, SECTION)


def _catalog_resources(
    client: ApiClient, *, cap: int, full_refresh: bool, details: bool
) -> tuple[DltResource, DltResource]:
    # the cursor the catalog started from, for the details to know what is new or changed
    started_from: list[datetime | None] = [None]
    integration = next(e for e in ENDPOINTS if e.name == "integration")

    def resource_catalog() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        cursor: str | None = None if full_refresh else state.get("cursor")
        reader = CatalogReader(client, cap, CATALOG)
        at_cursor = set(state.get("ids_at_cursor", []))
        since = parse_timestamp(cursor) if cursor else None
        started_from[0] = since
        pages = reader.newest(since, at_cursor) if since else None
        report: SplitReport | None = None
        if pages is None:
            report = SplitReport()

            def integration_ids() -> list[str]:
                return [str(r["id"]) for page in client.pages(integration, integration.path) for r in page]

            pages = reader.everything(integration_ids, report)
        seen: set[str] = set()
        newest, duplicates = since or EPOCH, 0
        for page in pages:
            fresh = []
            for record in page:
                if record["id"] in seen:
                    duplicates += 1
                    continue
                seen.add(record["id"])
                updated = updated_at(record)
                if updated > newest:
                    newest, at_cursor = updated, set()
                if updated == newest:
                    at_cursor.add(str(record["id"]))
                fresh.append(record)
            yield client.shape(CATALOG, fresh)
        if report is not None:
            _log_split(report, len(seen), duplicates, reader.requests)
            if report.unreachable or report.covered < report.total:
                missing = report.total - report.covered
                client.outcomes.incomplete(
                    "resource_catalog",
                    f"the catalog counts {report.total} resources, but {missing} could not be reached by any "
                    f"filter of the {len(report.parts)} parts read under the {cap}-per-query cap. What loaded is "
                    "right; those may be missing. Report it to fleetlake with the run's log.",
                )
        else:
            logger.info(
                "resource_catalog: %d resources changed since %s (%d requests)", len(seen), cursor, reader.requests
            )
        if newest > EPOCH:
            # the ids already loaded at the cursor: a re-run skips them, as dlt's own incremental does
            state["cursor"], state["ids_at_cursor"] = newest.isoformat(), sorted(at_cursor)

    def resource_detail(records: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        since = started_from[0]
        for record in records:
            updated = record.get("updated_at")
            if since is not None and isinstance(updated, datetime) and updated < since:
                continue
            path = DETAIL.path.format(id=record["id"])
            for page in client.pages(
                DETAIL, path, missing_ok=True, missing_reason="It was deleted after the catalog listed it."
            ):
                yield client.shape(DETAIL, page)

    catalog = dlt.resource(
        client.guard("resource_catalog", resource_catalog),
        name="resource_catalog",
        primary_key="id",
        write_disposition="replace" if full_refresh else "merge",
    )
    detail = dlt.transformer(
        client.guard("resource_detail", resource_detail, parent="resource_catalog"),
        data_from=catalog,
        name="resource_detail",
        primary_key="id",
        write_disposition="merge",
        parallelized=True,
        selected=details,
    )
    return catalog, detail


def _log_split(report: SplitReport, loaded: int, duplicates: int, requests: int) -> None:
    adds_up = report.covered == report.total and not report.unreachable
    message = (
        f"resource_catalog: {loaded} resources in {len(report.parts)} part(s) of at most the cap; parts sum to "
        f"{report.covered}, the catalog counts {report.total}"
        f"{' (they add up)' if adds_up else ''}; {duplicates} duplicate(s) dropped; {requests} requests"
    )
    if adds_up:
        logger.info(message)
        for label, count in report.parts:
            logger.debug("resource_catalog part: %s: %d", label, count)
    else:
        logger.warning("%s. %d resource(s) could not be reached by any filter.", message, report.total - report.covered)


@dlt.source(name="secoda_source", section=SECTION, max_table_nesting=2)
def secoda_source(
    api_key: TSecretStrValue = dlt.secrets.value,
    region: str = "us",
    base_url: str | None = None,
    resource_detail: bool = False,
    full_refresh: bool = False,
    audit_log_days: int = AUDIT_LOG_DAYS,
    catalog_cap: int = CATALOG_CAP,
    max_quota_wait_seconds: float = 900.0,
) -> Iterator[DltResource]:
    """Every Secoda resource as a dlt resource (see `resource_descriptions()`).

    Args:
        api_key: the API key, sent as a bearer token; a secret.
        region: `us` (api.secoda.co), `eu` (eapi.secoda.co) or `apac` (aapi.secoda.co).
        base_url: a self-hosted workspace's API, `https://<host>/api/v1`; overrides `region`.
        resource_detail: also fetch each new or changed resource's detail (one request per resource).
        full_refresh: read the whole catalog and replace the table, so deleted resources disappear
            (schedule it, e.g. weekly; other runs read only what changed).
        audit_log_days: how many days of audit log the first run reads (the API keeps 90).
        catalog_cap: resources one catalog query returns across its pages (the API's 10,000).
        max_quota_wait_seconds: how long one request may wait for the rate limit before failing.
    """
    if not 1 <= audit_log_days <= AUDIT_LOG_DAYS:
        raise ConfigurationError(
            f"audit_log_days in [sources.{SECTION}] is {audit_log_days}; Secoda keeps 1 to {AUDIT_LOG_DAYS} days."
        )
    client = _client(api_key, _base_url(region, base_url), max_quota_wait_seconds=max_quota_wait_seconds)
    catalog, detail = _catalog_resources(client, cap=catalog_cap, full_refresh=full_refresh, details=resource_detail)
    yield catalog
    yield from build_resources(client, ENDPOINTS).values()
    yield detail
    yield audit_log_resource(client, audit_log_days)


CATALOG_PROBE = Probe("base_url", "resource_catalog", "resource/catalog", {"page": 1})


@with_config(sections=("sources", SECTION))
def secoda_organization(
    api_key: TSecretStrValue = dlt.secrets.value, region: str = "us", base_url: str | None = None
) -> str:
    """The workspace the key answers for: `workspace_id` of its catalog's first resource (one request)."""
    client = _client(api_key, _base_url(region, base_url))
    return read_organization(client, CATALOG_PROBE, "workspace_id", section=f"sources.{SECTION}")


@with_config(sections=("sources", SECTION))
def check_secoda(
    api_key: TSecretStrValue = dlt.secrets.value, region: str = "us", base_url: str | None = None
) -> list[CheckResult]:
    """A cheap request to the workspace's API: says plainly whether the key and the region work."""
    # a check answers quickly: one retry, not the run's patient backoff
    client = _client(api_key, _base_url(region, base_url), max_attempts=2, max_quota_wait_seconds=120.0)
    probes = {
        "catalog": CATALOG_PROBE,
        "integrations": Probe("base_url", "integration", "integration/integrations", {}),
    }
    return run_checks(client, probes, section=f"sources.{SECTION}")
