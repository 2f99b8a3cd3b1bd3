"""Secoda paging: follow `links.next` (or a top-level `next`) by its page number, never by its host."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from fleetlake.errors import PaginationLoopError

NULLS = (None, "", "None", "null")


def next_page_number(body: Any, current: int) -> int | None:
    """The page `links.next` (or `next`) points at, or None on the last page.

    The vendor's samples give next links on another host, without the `/api/v1` prefix and with a
    trailing slash, so only the `page` number is taken from them; the request stays on our base URL.
    """
    if not isinstance(body, dict):
        return None
    links = body.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    if link in NULLS:
        link = body.get("next")
    if link in NULLS:
        return None
    values = parse_qs(urlsplit(str(link)).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else current + 1


class NextLinkPaginator(BasePaginator):
    """Secoda's page-number paging, driven by the answer's next link; refuses to go backwards.

    `first_page` starts the list further on (its first pages already read); `last_page`, when the list's
    count says how many pages it can have, refuses a next link beyond it (a server that keeps pointing
    at a next page would be asked forever); with `stop_on_empty` an empty page ends the list whatever
    its next link says.
    """

    def __init__(
        self,
        where: str,
        *,
        first_page: int = 1,
        last_page: int | None = None,
        count: int = 0,
        stop_on_empty: bool = False,
    ) -> None:
        super().__init__()
        self.where = where
        self.page = first_page
        self.last_page = last_page
        self.count = count
        self.stop_on_empty = stop_on_empty

    def init_request(self, request: Request) -> None:
        if self.page != 1:
            request.params = {**(request.params or {}), "page": self.page}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        following = next_page_number(response.json(), self.page)
        if following is None or (self.stop_on_empty and not data):
            self._has_next_page = False
            return
        if following <= self.page:
            raise PaginationLoopError(
                f"{self.where} answered page {self.page} with a next link back to page {following}: the "
                "pagination loops, so the list was stopped before loading any page twice. Try again later; if "
                "it persists, report it to Secoda. This resource keeps its last complete load."
            )
        if self.last_page is not None and following > self.last_page:
            raise PaginationLoopError(
                f"{self.where} still has a next page after page {self.page}, past its count of {self.count}: "
                "the pagination loops, so the list was stopped. Try again later; if it persists, report it to "
                "Secoda. This resource keeps its last complete load."
            )
        self.page = following
        self._has_next_page = True

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page": self.page}
