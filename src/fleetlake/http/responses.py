"""Turning HTTP error answers into errors that say what to fix, per API and endpoint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from requests import Response

from fleetlake.errors import ApiError, AuthenticationError, ServerError

logger = logging.getLogger("fleetlake.http")

ResponseHook = Callable[..., Any]


def error_detail(response: Response) -> str:
    """The server's own message from any of the vendors' error envelopes, shortened."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return text[:200]
    if isinstance(body, dict):
        for key in ("message", "msgPrefix", "error", "detail", "errors"):
            value = body.get(key)
            if isinstance(value, list):
                # SkySQL: {"errors": [{"error", "message", ...}]}
                value = "; ".join(str(i.get("message", i)) if isinstance(i, dict) else str(i) for i in value)
            if value:
                return str(value)[:300]
    return str(body)[:200]


def parse_json_once(response: Response, *args: Any, **kwargs: Any) -> None:
    """A response hook: parse the body once, with orjson, however often `response.json()` is called.

    dlt's REST client reads the page data and its paginators read the cursor from `response.json()`,
    and requests parses the body again on every call; on list pages that was a third of extraction.
    """
    if response.status_code >= 400 or not response.content:
        return
    try:
        parsed = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return  # leave it to requests, which raises its own error with the body's context

    def cached(**_: Any) -> Any:
        return parsed

    response.json = cached  # type: ignore[method-assign]


def raise_for_api_status(
    api: str,
    endpoint: str,
    *,
    credentials_hint: str,
    missing_ok: bool = False,
    missing_reason: str = "",
) -> ResponseHook:
    """A requests response hook that turns 4xx/5xx answers into fleetlake errors.

    With `missing_ok`, a 404 is logged as a warning and the list is skipped (a parent that vanished
    between listing it and fetching its children).
    """

    def hook(response: Response, *args: Any, **kwargs: Any) -> None:
        status = response.status_code
        if status == 204:
            # "no content" answers an empty list (SkySQL's organization users)
            raise IgnoreResponseException
        if status < 400:
            return
        detail = error_detail(response)
        where = f"{api} {endpoint} ({response.request.method} {response.url.split('?')[0]})"
        if status == 404 and missing_ok:
            logger.warning("%s answered 404 (%s); skipped. %s", where, detail, missing_reason)
            raise IgnoreResponseException
        if status == 401:
            raise AuthenticationError(
                f"{where} answered 401 Unauthorized: {detail}. The credentials were rejected. {credentials_hint}"
            )
        if status == 403:
            raise AuthenticationError(
                f"{where} answered 403 Forbidden: {detail}. The key is valid but lacks the role this "
                f"endpoint needs; give it the role, or leave this resource out with --resources."
            )
        if status == 404:
            raise ApiError(
                f"{where} answered 404 Not Found: {detail}. Check the base URL setting for this server "
                f"(a path or host typo answers 404), or leave this resource out with --resources."
            )
        if status == 429:
            raise ApiError(f"{where} answered 429 Too Many Requests after waiting for the quota: {detail}.")
        if status >= 500:
            # an HTTPError: dlt's retry reads its response and retries; this message is the last one
            raise ServerError(
                f"{where} kept answering {status} after retries: {detail}. The service is failing; "
                f"try again later. Tables keep their last complete load.",
                response,
            )
        raise ApiError(f"{where} answered {status}: {detail}.")

    return hook
