"""Turning HTTP error answers into errors that say what to fix, per API and endpoint."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import orjson
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from requests import Response

from fleetlake.errors import ApiError, AuthenticationError, ForbiddenError, MalformedAnswerError, ServerError

logger = logging.getLogger("fleetlake.http")

ResponseHook = Callable[..., Any]


def error_detail(response: Response) -> str:
    """The server's own message from any of the vendors' error envelopes, shortened."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        if text[:1] == "<":
            # a web server's or proxy's page, not the API's envelope: its title says enough
            title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE)
            return f"an HTML page ({title.group(1).strip()[:80]})" if title else "an HTML page"
        return text[:200]
    if isinstance(body, dict):
        # the server's reason first: IAM and billing put it in `error` and only "Bad Request" in `msgPrefix`
        for key in ("message", "error", "detail", "errors", "msgPrefix"):
            value = body.get(key)
            if isinstance(value, list):
                # SkySQL: {"errors": [{"error", "message", ...}]}
                value = "; ".join(str(i.get("message", i)) if isinstance(i, dict) else str(i) for i in value)
            if value:
                return str(value)[:300]
    return str(body)[:200]


def parse_json_once(response: Response, api: str = "", endpoint: str = "") -> None:
    """Parse the body once, with orjson, however often `response.json()` is called afterwards.

    dlt's REST client reads the page data and its paginators read the cursor from `response.json()`,
    and requests parses the body again on every call; on list pages that was a third of extraction.
    A 2xx body that is not JSON raises `MalformedAnswerError`, which the session retries.
    """
    if response.status_code >= 400 or not response.content:
        return
    try:
        parsed = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise MalformedAnswerError(_malformed(response, f"{api} {endpoint}".strip(), str(error))) from None

    def cached(**_: Any) -> Any:
        return parsed

    # requests offers no hook for a response's parser, so the method is replaced on this one response;
    # `tests/http/test_responses.py::test_a_page_is_parsed_once_however_often_its_json_is_asked_for`
    # fails if requests or dlt's client stop allowing it
    response.json = cached  # type: ignore[method-assign]


def _where(response: Response, name: str) -> str:
    request = f"{response.request.method} {response.url.split('?')[0]}"
    return f"{name} ({request})" if name else request


def _malformed(response: Response, name: str, problem: str) -> str:
    content_type = response.headers.get("Content-Type", "no Content-Type")
    where = _where(response, name)
    if "html" in content_type.lower() or response.content.lstrip()[:1] == b"<":
        cause = (
            "an HTML page, not the API's JSON: a proxy, captive portal or load balancer answered instead of "
            "the API. Check the base URL and any HTTPS_PROXY setting, or try again when the proxy recovers"
        )
    else:
        cause = (
            f"a body that is not valid JSON ({problem}; {len(response.content)} bytes, {content_type}): it was "
            "cut short or corrupted on the way. Try again; if it persists, a proxy between you and the API is "
            "altering answers"
        )
    return f"{where} answered {response.status_code} with {cause}. This resource keeps its last complete load."


def raise_for_api_status(
    api: str,
    endpoint: str,
    *,
    credentials_hint: str,
    missing_ok: bool = False,
    missing_reason: str = "",
    base_url_setting: str = "the base URL setting of this server",
    on_missing: Callable[[str], None] | None = None,
) -> ResponseHook:
    """A requests response hook that turns 4xx/5xx answers into fleetlake errors and parses the others.

    With `missing_ok`, a 404 is logged as a warning and the list is skipped (a parent that vanished
    between listing it and fetching its children); `on_missing` is told the server's reason.
    """

    def hook(response: Response, *args: Any, **kwargs: Any) -> None:
        status = response.status_code
        if status == 204:
            # "no content" answers an empty list (SkySQL's organization users)
            raise IgnoreResponseException
        if status < 400:
            parse_json_once(response, api, endpoint)
            return
        detail = error_detail(response)
        where = _where(response, f"{api} {endpoint}")
        if status == 404 and missing_ok:
            logger.warning("%s answered 404 (%s); skipped. %s", where, detail, missing_reason)
            if on_missing is not None:
                on_missing(detail)
            raise IgnoreResponseException
        if status == 401:
            raise AuthenticationError(
                f"{where} answered 401 Unauthorized: {detail}. The credentials were rejected. {credentials_hint}"
            )
        if status == 403:
            raise ForbiddenError(
                f"{where} answered 403 Forbidden: {detail}. The key is valid but lacks the role this "
                f"endpoint needs; give it the role, or leave this resource out with --resources."
            )
        if status == 404:
            raise ApiError(
                f"{where} answered 404 Not Found: {detail}. Check {base_url_setting} (a path or host typo "
                f"answers 404; `fleetlake check` tries every server), or leave this resource out with --resources.",
                status=404,
            )
        if status == 429:
            raise ApiError(f"{where} answered 429 Too Many Requests after waiting for the quota: {detail}.", status=429)
        if status >= 500:
            # an HTTPError: dlt's retry reads its response and retries; this message is the last one
            raise ServerError(
                f"{where} kept answering {status} after retries: {detail}. The service is failing; "
                f"try again later. This resource keeps its last complete load.",
                response,
            )
        raise ApiError(
            f"{where} answered {status}: {detail}. The API refused the request as fleetlake made it; this "
            f"resource keeps its last complete load. If the API now requires something new, report it to "
            f"fleetlake; meanwhile leave this resource out with --resources.",
            status=status,
        )

    return hook
