"""SkySQL paging: the provisioning lists' undocumented next-page token."""

from __future__ import annotations

import logging
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from fleetlake.sources.paging import LoopGuard

logger = logging.getLogger("fleetlake.sources.skysql")


class NextTokenOrShortPagePaginator(BasePaginator):
    """`page_size` / `page_token` paging over bare JSON arrays, where the next token is undocumented.

    When the answer carries a next-page token header, follow it (a token seen before is a loop and
    stops the list with an error). When it carries none, a page shorter
    than `page_size` ends the list; a full page without a token cannot be continued, so it ends the list
    with a warning that the list may be truncated, never silently.
    """

    def __init__(self, page_size: int, token_headers: tuple[str, ...], where: str) -> None:
        super().__init__()
        self.page_size = page_size
        self.token_headers = token_headers
        self.where = where
        self._token: str | None = None
        self.guard = LoopGuard(where, "SkySQL")

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page_size": self.page_size}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        token = next((response.headers[h] for h in self.token_headers if response.headers.get(h)), None)
        count = len(data or [])
        if token:
            # an empty page may still carry a token (the list resumes further on): follow it
            self._token = token
            self._has_next_page = self.guard.check(token, count)
            return
        self._has_next_page = False
        if count >= self.page_size:
            self.truncated = True
            logger.warning(
                "%s: a full page of %d came back without a next-page token (looked for %s); the list "
                "may be truncated. If the API names the token another way, set page_token_header in "
                "[sources.skysql_source].",
                self.where,
                count,
                ", ".join(self.token_headers),
            )

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page_token": self._token}
