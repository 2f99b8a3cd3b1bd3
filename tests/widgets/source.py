"""The Widgets API as a dlt source: one token-paged list behind an `X-API-Key` header."""

from __future__ import annotations

from collections.abc import Iterator

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.client import RESTClient

from fleetlake.http import QuotaLimiter, build_session, check_base_url, check_key
from fleetlake.sources.checks import CheckResult, Probe, run_checks
from fleetlake.sources.endpoints import ApiClient, build_resources
from fleetlake.sources.paging import SINGLE_PAGE, GuardedCursorPaginator, PagingStyle
from tests.widgets.settings import BASE_URL, ENDPOINTS, PAGE_SIZE, SECTION, TITLE

HINT = f"Check api_key in [sources.{SECTION}] of .dlt/secrets.toml: the credentials of a Widgets key."


def _client(api_key: str, base_url: str, page_size: int, *, max_attempts: int = 6) -> ApiClient:
    api_key = check_key(api_key, setting="api_key", section=f"sources.{SECTION}")
    url = check_base_url(base_url, setting="base_url", section=f"sources.{SECTION}")
    rest = RESTClient(
        base_url=url,
        auth=APIKeyAuth(name="X-API-Key", api_key=api_key, location="header"),
        session=build_session(QuotaLimiter(f"{TITLE} API key quota"), max_attempts=max_attempts),
    )

    def tokens(size: int, where: str) -> GuardedCursorPaginator:
        return GuardedCursorPaginator(where, TITLE, "nextPageToken", "pageToken")

    paging = {"token": PagingStyle(tokens, page_size, "pageSize"), "none": SINGLE_PAGE}
    return ApiClient(TITLE, HINT, {"base_url": rest}, paging, SECTION)


@dlt.source(name="widgets_source", section=SECTION)
def widgets_source(
    api_key: TSecretStrValue = dlt.secrets.value, base_url: str = BASE_URL, page_size: int = PAGE_SIZE
) -> Iterator[DltResource]:
    """Every widget (see `resource_descriptions()`)."""
    yield from build_resources(_client(api_key, base_url, page_size), ENDPOINTS).values()


@with_config(sections=("sources", SECTION))
def check_widgets(api_key: TSecretStrValue = dlt.secrets.value, base_url: str = BASE_URL) -> list[CheckResult]:
    """One cheap request: says plainly whether the key works."""
    client = _client(api_key, base_url, 1, max_attempts=2)
    probes = {"widgets": Probe("base_url", "widgets", "v1/widgets", {"pageSize": 1})}
    return run_checks(client, probes, section=f"sources.{SECTION}")
