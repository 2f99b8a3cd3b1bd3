"""SkySQL paging (the provisioning lists' undocumented next-page token), and the lists whose records come in
more than one documented shape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from fleetlake.sources.paging import LoopGuard, MayEndEarly

logger = logging.getLogger("fleetlake.sources.skysql")

# where an answer that is an object (not the documented bare array) may carry the next token
BODY_TOKEN_KEYS = ("next_page_token", "nextPageToken", "next_token", "page_token")


def next_token(response: Response, token_headers: tuple[str, ...]) -> str | None:
    """The next page's token from wherever this answer carries it: a known header, a `Link: rel="next"`
    header (its `page_token` value: the link itself is not followed, it could name another host), or a
    token field of an object body."""
    token = next((response.headers[h] for h in token_headers if response.headers.get(h)), None)
    if token:
        return token
    link = response.links.get("next", {}).get("url")
    values = parse_qs(urlsplit(link).query).get("page_token") if link else None
    if values:
        return values[0]
    body = response.json() if response.content else None
    if isinstance(body, dict):
        found = next((body[key] for key in BODY_TOKEN_KEYS if body.get(key)), None)
        return str(found) if found else None
    return None


class NextTokenOrShortPagePaginator(BasePaginator, MayEndEarly):
    """`page_size` / `page_token` paging over bare JSON arrays, where the next token is undocumented.

    When the answer carries a next-page token (`next_token` says where it looks), follow it (a token
    seen before is a loop and stops the list with an error). When it carries none, the list ends: after
    pages that carried tokens, that is its last page, whatever its length; a short first page is the
    whole list. A full first page without a token cannot be told from a server that hands out tokens
    where fleetlake does not look, so `incomplete` says why, which the run reports as "possibly
    incomplete" (in its outcome table and exit code), never silently.
    """

    def __init__(self, page_size: int, token_headers: tuple[str, ...], where: str) -> None:
        super().__init__()
        self.page_size = page_size
        self.token_headers = token_headers
        self.where = where
        self._token: str | None = None
        self.guard = LoopGuard(where, "SkySQL")
        self.incomplete: str | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        token = next_token(response, self.token_headers)
        count = len(data or [])
        if token:
            # an empty page may still carry a token (the list resumes further on): follow it
            self._token = token
            self._has_next_page = self.guard.check(token, count)
            return
        self._has_next_page = False
        if count >= self.page_size and self._token is None:
            self.incomplete = (
                f"a full page of {count} came back without a next-page token (looked for the headers "
                f'{", ".join(self.token_headers)}, a Link rel="next" header and a token in the body), so the '
                "list may go on beyond it. If your answers name the token another way, set page_token_header "
                "in [sources.skysql_source] to that header."
            )
            logger.warning("%s: %s", self.where, self.incomplete)

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page_token": self._token}


def allowlist_entries(records: list[Any]) -> list[Any]:
    """Allow-list entries as `{ip, comment}` rows: as they come (the vendor's Terraform provider), or
    flattened from the 2022 DPS file's `{name, allowList: [ip]}` per endpoint (the endpoint's name kept in
    `endpoint_name`; an address listed on two endpoints is one row, the first)."""
    out: list[Any] = []
    seen: set[str] = set()
    for record in records:
        if isinstance(record, dict) and "ip" not in record and isinstance(record.get("allowList"), list):
            for ip in record["allowList"]:
                if isinstance(ip, str) and ip not in seen:
                    seen.add(ip)
                    out.append({"ip": ip, "endpoint_name": record.get("name")})
        else:
            out.append(record)
    return out


def named(records: list[Any]) -> list[Any]:
    """Records of a list documented only as an array: a bare name (`"us-east-1a"`) becomes `{name}`."""
    return [{"name": record} if isinstance(record, str) else record for record in records]


def keyed_by(key: str, *alternatives: str) -> Callable[[list[Any]], list[Any]]:
    """Records of an undocumented shape keyed by `key`, taken when absent from the first of the dotted
    `alternatives` a record has."""

    def lift(records: list[Any]) -> list[Any]:
        out: list[Any] = []
        for record in records:
            if isinstance(record, dict) and record.get(key) in (None, ""):
                found = next((v for v in map(record_path(record), alternatives) if v not in (None, "")), None)
                record = {**record, key: found} if found is not None else record
            out.append(record)
        return out

    return lift


def record_path(record: Mapping[str, Any]) -> Callable[[str], Any]:
    """A reader of dotted paths (`service.service_id`) of `record`."""

    def read(dotted: str) -> Any:
        node: Any = record
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return node

    return read


RECORD_SHAPES: Mapping[str, Callable[[list[Any]], list[Any]]] = {
    "service_allowlists": allowlist_entries,
    "availability_zones": named,
    "invoices": keyed_by("id", "invoice_uid", "uid"),
    "service_usage": keyed_by("service_id", "service.service_id", "service.id"),
}
"""Per resource: its pages' records brought to the one shape its table keeps, before they are shaped."""
