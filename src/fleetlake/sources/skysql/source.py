"""SkySQL / MariaDB Cloud: services and their allow-lists, topologies, offerings, projects, users, backups,
restores, backup schedules and billing, over the `X-API-Key` header.

Lists are rows of `settings.ENDPOINTS` driven by dlt's `RESTClient`; bills (one request per month) are
written out. The service credentials endpoint is never called and passwords in answers are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from fleetlake.errors import ConfigurationError, env_variable
from fleetlake.http import QuotaLimiter, build_session, check_base_url, check_key
from fleetlake.sources.checks import CheckResult, Probe, read_organization, run_checks
from fleetlake.sources.endpoints import ApiClient, build_resources, sanitized
from fleetlake.sources.lists import Endpoint
from fleetlake.sources.months import load_closed_months_once, months_to_load
from fleetlake.sources.paging import SINGLE_PAGE, PagingStyle
from fleetlake.sources.skysql.helpers import RECORD_SHAPES, NextTokenOrShortPagePaginator
from fleetlake.sources.skysql.settings import (
    BASE_URL,
    BILLING_MONTHS,
    DATASET_NAME,
    ENDPOINTS,
    ORG_HEADERS,
    PAGE_SIZE,
    PIPELINE_NAME,
    SECTION,
    TITLE,
    TOKEN_HEADERS,
    resource_descriptions,
)

__all__ = [
    "DATASET_NAME",
    "PIPELINE_NAME",
    "SECTION",
    "check_skysql",
    "resource_descriptions",
    "skysql_source",
]

logger = logging.getLogger("fleetlake.sources.skysql")

API = TITLE
CREDENTIALS_HINT = (
    f"Check api_key in [sources.{SECTION}] of .dlt/secrets.toml (or {env_variable(f'sources.{SECTION}', 'api_key')}): "
    "create a key under User Profile > API Keys in the SkySQL console; a revoked key answers 401."
)


def _paging(page_size: int, token_headers: tuple[str, ...]) -> dict[str, PagingStyle]:
    return {
        # provisioning: page_size / page_token, the next token where the vendor puts it
        "token": PagingStyle(
            lambda size, where: NextTokenOrShortPagePaginator(size, token_headers, where), page_size, "page_size"
        ),
        # skybackup envelopes count pages: {backups: [...], backups_count, pages_count}
        "page": PagingStyle(
            lambda size, where: PageNumberPaginator(base_page=1, page=1, page_param="page", total_path="pages_count"),
            page_size,
            "page_size",
        ),
        "none": SINGLE_PAGE,
    }


@dataclass
class SkySQLClient(ApiClient):
    """The shared client, with the records of lists documented in more than one shape (`RECORD_SHAPES`)
    brought to one before they are shaped."""

    def pages(
        self, endpoint: Endpoint, path: str, params: Mapping[str, Any] | None = None, **options: Any
    ) -> Iterator[list[dict[str, Any]]]:
        pages = super().pages(endpoint, path, params, **options)
        reshape = RECORD_SHAPES.get(endpoint.name)
        return pages if reshape is None else (reshape(page) for page in pages)


def _client(
    api_key: str,
    base_url: str,
    org_id: str | None,
    page_size: int,
    token_headers: tuple[str, ...],
    *,
    max_attempts: int = 6,
    max_quota_wait_seconds: float = 900.0,
) -> ApiClient:
    api_key = check_key(api_key, setting="api_key", section=f"sources.{SECTION}")
    if not 1 <= page_size <= PAGE_SIZE:
        raise ConfigurationError(f"page_size in [sources.{SECTION}] is {page_size}; SkySQL accepts 1 to {PAGE_SIZE}.")
    url = check_base_url(base_url, setting="base_url", section=f"sources.{SECTION}")
    # this run's limiter of the key, with this source's own wait limit
    limiter = QuotaLimiter(f"{API} API key quota", max_wait_seconds=max_quota_wait_seconds)
    rest = RESTClient(
        base_url=url,
        # both names the documents give the organization header (settings.ORG_HEADER)
        headers=dict.fromkeys(ORG_HEADERS, org_id) if org_id else None,
        auth=APIKeyAuth(name="X-API-Key", api_key=api_key, location="header"),
        session=build_session(limiter, max_attempts=max_attempts),
    )
    return SkySQLClient(
        API,
        CREDENTIALS_HINT,
        {"base_url": rest},
        _paging(page_size, token_headers),
        SECTION,
    )


def _bills_resource(client: ApiClient, months: list[str]) -> DltResource:
    def bill(month: str) -> Iterator[dict[str, Any]]:
        body = client.get_json("base_url", "bills", "billing/v1/bills", params={"year": month[:4], "month": month[5:]})
        if body:
            record = dict(sanitized(body))
            record["billing_month"] = month
            yield record

    def bills() -> Iterator[dict[str, Any]]:
        yield from load_closed_months_once("bills", months, bill)

    return dlt.resource(
        client.guard("bills", bills), name="bills", primary_key="billing_month", write_disposition="merge"
    )


@dlt.source(name="skysql_source", section=SECTION, max_table_nesting=2)
def skysql_source(
    api_key: TSecretStrValue = dlt.secrets.value,
    base_url: str = BASE_URL,
    org_id: str | None = None,
    billing_months: int = BILLING_MONTHS - 1,
    billing_end_month: str | None = None,
    page_size: int = PAGE_SIZE,
    page_token_header: str | None = None,
    max_quota_wait_seconds: float = 900.0,
) -> Iterator[DltResource]:
    """Every SkySQL resource as a dlt resource (see `resource_descriptions()`).

    Args:
        api_key: the API key sent as `X-API-Key`; a secret.
        base_url: the API server, `https://api.skysql.com` by default; HTTPS only, except loopback.
        org_id: the organization to read, sent as the `X-MDB-Org` and `X-SkySQL-Org-ID` headers (default:
            the key's own).
        billing_months: how many months before the last one to load bills for.
        billing_end_month: the last month to load (`YYYY-MM`), by default the current one.
        page_size: items per request, at most 100 (the default).
        page_token_header: the response header carrying the next page token, if the API uses one
            that fleetlake does not already look for.
        max_quota_wait_seconds: how long one request may wait for the rate limit before failing.
    """
    headers = ((page_token_header,) if page_token_header else ()) + TOKEN_HEADERS
    # how far back bills go is undocumented: ten years is beyond any account
    months = months_to_load(billing_end_month, billing_months, section=SECTION, api=API, kept=120)
    client = _client(api_key, base_url, org_id, page_size, headers, max_quota_wait_seconds=max_quota_wait_seconds)
    yield from build_resources(client, ENDPOINTS).values()
    yield _bills_resource(client, months)


BILLING_ACCOUNT_PROBE = Probe("base_url", "billing_account", "billing/v1/account", {})


@with_config(sections=("sources", SECTION))
def skysql_organization(
    api_key: TSecretStrValue = dlt.secrets.value, base_url: str = BASE_URL, org_id: str | None = None
) -> str:
    """The organization the key answers for: the billing account's `organization_id` (one request)."""
    client = _client(api_key, base_url, org_id, 1, TOKEN_HEADERS)
    return read_organization(client, BILLING_ACCOUNT_PROBE, "organization_id", section=f"sources.{SECTION}")


@with_config(sections=("sources", SECTION))
def check_skysql(
    api_key: TSecretStrValue = dlt.secrets.value, base_url: str = BASE_URL, org_id: str | None = None
) -> list[CheckResult]:
    """One cheap request per API area; says plainly whether the key works."""
    # a check answers quickly: one retry, not the run's patient backoff
    client = _client(api_key, base_url, org_id, 1, TOKEN_HEADERS, max_attempts=2, max_quota_wait_seconds=120.0)
    probes = {
        "provisioning": Probe("base_url", "services", "provisioning/v1/services", {"page_size": 1}),
        "organization": Probe("base_url", "projects", "organization/v1/projects", {}),
        "skybackup": Probe("base_url", "backups", "skybackup/v1/backups", {"page_size": 1}),
        "billing": BILLING_ACCOUNT_PROBE,
    }
    return run_checks(client, probes, section=f"sources.{SECTION}")
