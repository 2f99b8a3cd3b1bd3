"""Guards every token-paged list shares: a token handed out twice is a loop, and so is a run of empty
pages that never ends. Both stop the list with an error naming it, instead of loading pages twice or
requesting forever."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import Response

from fleetlake.errors import PaginationLoopError

MAX_EMPTY_PAGES = 50
"""Empty pages in a row that still carry a next token before the list is given up as looping."""


class LoopGuard:
    """Remembers a list's page tokens; `check` raises when one comes back or empty pages never end."""

    def __init__(self, where: str, vendor: str) -> None:
        self.where = where
        self.vendor = vendor
        self._seen: set[str] = set()
        self._empty_run = 0

    def check(self, token: str, records: int) -> None:
        """Accept the next page's `token`, handed out by a page of `records` records."""
        if token in self._seen:
            raise PaginationLoopError(
                f"{self.where} handed out the page token {token[:16]}... a second time: the pagination loops, "
                f"so the list was stopped before loading any page twice. Try again later; if it persists, "
                f"report it to {self.vendor}. Tables keep their last complete load."
            )
        self._seen.add(token)
        self._empty_run = self._empty_run + 1 if records == 0 else 0
        if self._empty_run >= MAX_EMPTY_PAGES:
            raise PaginationLoopError(
                f"{self.where} answered {MAX_EMPTY_PAGES} empty pages in a row, each with another next-page "
                f"token: the pagination does not end, so the list was stopped. Try again later; if it persists, "
                f"report it to {self.vendor}. Tables keep their last complete load."
            )


class GuardedCursorPaginator(JSONResponseCursorPaginator):
    """dlt's body-cursor paginator that follows tokens over empty pages and refuses a repeated token."""

    def __init__(self, where: str, vendor: str, cursor_path: str, cursor_param: str) -> None:
        super().__init__(cursor_path=cursor_path, cursor_param=cursor_param, stop_after_empty_page=False)
        self.guard = LoopGuard(where, vendor)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if self._next_reference:
            self.guard.check(str(self._next_reference), len(data or []))
