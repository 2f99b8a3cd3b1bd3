"""Record shaping and paging for TiDB Cloud: what the endpoint table cannot say as data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Request, Response

AMOUNT_FIELDS = frozenset({"credits", "discounts", "runningTotal", "totalCost"})


class PageNumberTotalItemsPaginator(PageNumberPaginator):
    """`page` / `page_size` paging where `total` counts items, not pages (TiDB Cloud v1beta).

    dlt's `PageNumberPaginator` reads `total` as a page count; this one stops once `page * page_size`
    reaches the item total or a page comes back short, so no empty page is ever requested.
    """

    def __init__(self, page_size: int, total_path: str = "total") -> None:
        super().__init__(base_page=1, page=1, page_param="page", total_path=None, stop_after_empty_page=True)
        self.page_size = page_size
        self.items_seen = 0
        self.items_total_path = jsonpath.compile_path(total_path)

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page_size": self.page_size}
        self.items_seen = 0
        super().init_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if not self._has_next_page:
            return
        values = jsonpath.find_values(self.items_total_path, response.json())
        total = int(values[0]) if values and values[0] is not None else None
        self.items_seen += len(data or [])
        # `total` decides when the answer has it (a server may clamp page_size below ours);
        # without it, a short page ends the list
        done = self.items_seen >= total if total is not None else len(data or []) < self.page_size
        if done:
            self._has_next_page = False


def parse_date(value: Any) -> date | None:
    """A `YYYY-MM-DD` billing date; anything else is kept as None."""
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def parse_amount(value: Any) -> Decimal | None:
    """Billing amounts arrive as strings ("12.34"); they load as exact decimals."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def amounts_to_decimal(value: Any) -> Any:
    """Convert every amount field at any depth (bills nest them by project and service)."""
    if isinstance(value, dict):
        return {
            k: parse_amount(v) if k in AMOUNT_FIELDS and not isinstance(v, dict | list) else amounts_to_decimal(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [amounts_to_decimal(v) for v in value]
    return value
