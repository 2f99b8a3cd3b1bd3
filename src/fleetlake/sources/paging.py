"""How lists page: one `PagingStyle` per style an API uses, and the guards every token-paged list shares.

A style owns its paginator and its page size, so a source says once, in one place, that (say) TiDB
Cloud's v1beta lists page by number with `page_size=100`. The guards: a token handed out twice after a
page of records, or empty pages that never end, stop the list with an error naming it, instead of
loading a page twice or requesting forever."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONResponseCursorPaginator, SinglePagePaginator
from requests import Response

from fleetlake.errors import PaginationLoopError

logger = logging.getLogger("fleetlake.sources")

MAX_EMPTY_PAGES = 50
"""Empty pages in a row that still carry a next token before the list is given up as looping."""


class MayEndEarly:
    """A paginator that can tell when a list may go on beyond its last page (no next token after a full
    page): `incomplete` says why, and the run reports the list as possibly incomplete, never silently."""

    incomplete: str | None = None


@dataclass(frozen=True)
class PagingStyle:
    """One way an API pages its lists: the paginator each list gets, and the page size it asks for.

    `build(page_size, where)` makes a fresh paginator per list (`where` names the list in errors); the
    page size goes out as the query parameter `size_param` on the first request, and the paginator gets
    the same number to tell a short last page. A style without `size_param` asks for no page size.
    """

    build: Callable[[int, str], BasePaginator]
    page_size: int = 0
    size_param: str | None = None

    def paginator(self, where: str) -> BasePaginator:
        return self.build(self.page_size, where)

    def params(self) -> dict[str, Any]:
        """The page-size parameter of every list of this style."""
        return {self.size_param: self.page_size} if self.size_param else {}


SINGLE_PAGE = PagingStyle(lambda page_size, where: SinglePagePaginator())
"""An answer that is the whole list."""


class LoopGuard:
    """Remembers a list's page tokens and decides whether the list goes on.

    A token handed out a second time after a page of records is a loop: following it would load that
    page again, so `check` raises. After an empty page it only says the list has ended (an empty last
    page that repeats its token has nothing to load twice). A long run of empty pages, each with a fresh
    token, raises too: it cannot be told from a loop, and ending quietly could leave rows behind.
    """

    def __init__(self, where: str, vendor: str) -> None:
        self.where = where
        self.vendor = vendor
        self._seen: set[str] = set()
        self._empty_run = 0

    def check(self, token: str, records: int) -> bool:
        """Whether to follow `token`, handed out by a page of `records` records; raises on a loop."""
        self._empty_run = self._empty_run + 1 if records == 0 else 0
        if token in self._seen:
            if records == 0:
                logger.warning(
                    "%s answered an empty page with a token it had handed out before: the list ends", self.where
                )
                return False
            raise PaginationLoopError(
                f"{self.where} handed out the page token {token[:16]}... a second time: the pagination loops, "
                f"so the list was stopped before loading any page twice. Try again later; if it persists, "
                f"report it to {self.vendor}. This resource keeps its last complete load."
            )
        self._seen.add(token)
        if self._empty_run >= MAX_EMPTY_PAGES:
            # an end or a loop: no way to tell, and stopping quietly could leave rows behind
            raise PaginationLoopError(
                f"{self.where} answered {MAX_EMPTY_PAGES} empty pages in a row, each with another next-page "
                f"token: the pagination does not end, so the list was stopped. Try again later; if it persists, "
                f"report it to {self.vendor}. This resource keeps its last complete load."
            )
        return True


class GuardedCursorPaginator(JSONResponseCursorPaginator):
    """dlt's body-cursor paginator that follows tokens over empty pages and refuses a repeated token."""

    def __init__(self, where: str, vendor: str, cursor_path: str, cursor_param: str) -> None:
        super().__init__(cursor_path=cursor_path, cursor_param=cursor_param, stop_after_empty_page=False)
        self.guard = LoopGuard(where, vendor)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if self._next_reference and not self.guard.check(str(self._next_reference), len(data or [])):
            self._has_next_page = False
