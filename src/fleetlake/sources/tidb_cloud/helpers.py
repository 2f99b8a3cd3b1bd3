"""Record shaping and paging for TiDB Cloud: what the endpoint table cannot say as data."""

from __future__ import annotations

import json
from typing import Any

from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Request, Response

from fleetlake.errors import PaginationLoopError
from fleetlake.sources.values import Typer, to_amount

AMOUNT_FIELDS = frozenset({"credits", "discounts", "runningTotal", "totalCost"})


class PageNumberTotalItemsPaginator(PageNumberPaginator):
    """`page` / `page_size` paging where `total` counts items, not pages (TiDB Cloud v1beta).

    dlt's `PageNumberPaginator` reads `total` as a page count; this one stops once `page * page_size`
    reaches the item total or a page comes back short, so no empty page is ever requested. A page that
    repeats the page before it, record for record, is a loop (a server whose `total` says more than it
    has, answering its last page again for every page number): the list stops with an error instead of
    asking forever.
    """

    def __init__(self, page_size: int, total_path: str = "total", where: str = "") -> None:
        super().__init__(base_page=1, page=1, page_param="page", total_path=None, stop_after_empty_page=True)
        self.page_size = page_size
        self.items_seen = 0
        self.items_total_path = jsonpath.compile_path(total_path)
        self.where = where
        self._previous: int | None = None

    def init_request(self, request: Request) -> None:
        self.items_seen = 0
        super().init_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if not self._has_next_page:
            return
        fingerprint = hash(json.dumps(data, sort_keys=True, default=str))
        if fingerprint == self._previous:
            raise PaginationLoopError(
                f"{self.where} answered page {self.current_value - 1} with the same records as the page before it, "
                "while its `total` says there are more: the pagination loops, so the list was stopped before asking "
                "forever. Try again later; if it persists, report it to TiDB Cloud. This resource keeps its "
                "last complete load."
            )
        self._previous = fingerprint
        values = jsonpath.find_values(self.items_total_path, response.json())
        total = int(values[0]) if values and values[0] is not None else None
        self.items_seen += len(data or [])
        # `total` decides when the answer has it (a server may clamp page_size below ours);
        # without it, a short page ends the list
        done = self.items_seen >= total if total is not None else len(data or []) < self.page_size
        if done:
            self._has_next_page = False


def amounts_to_decimal(value: Any, typer: Typer | None = None, path: str = "") -> Any:
    """Convert every amount field at any depth (bills nest them by project and service) to a decimal;
    an amount no number form fits is kept as text in `<field>__v_text` (`typer` says so once)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            dotted = f"{path}.{key}" if path else key
            if key in AMOUNT_FIELDS and not isinstance(item, dict | list):
                out[key] = item
                if typer is not None:
                    typer.convert(out, key, to_amount, named=dotted)
                else:
                    out[key] = to_amount(item)
            else:
                out[key] = amounts_to_decimal(item, typer, dotted)
        return out
    if isinstance(value, list):
        return [amounts_to_decimal(item, typer, path) for item in value]
    return value
