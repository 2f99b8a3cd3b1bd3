"""Record shaping and paging for TiDB Cloud: what the endpoint table cannot say as data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Request, Response

from fleetlake.sources.tidb_cloud.settings import CREDENTIAL_FIELDS, Endpoint

AMOUNT_FIELDS = frozenset({"credits", "discounts", "runningTotal", "totalCost"})


class PageNumberTotalItemsPaginator(PageNumberPaginator):
    """`page` / `page_size` paging where `total` counts items, not pages (TiDB Cloud v1beta).

    dlt's `PageNumberPaginator` reads `total` as a page count; this one stops once `page * page_size`
    reaches the item total or a page comes back short, so no empty page is ever requested.
    """

    def __init__(self, page_size: int, total_path: str = "total") -> None:
        super().__init__(base_page=1, page=1, page_param="page", total_path=None, stop_after_empty_page=True)
        self.page_size = page_size
        self.items_total_path = jsonpath.compile_path(total_path)

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page_size": self.page_size}
        super().init_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if not self._has_next_page:
            return
        values = jsonpath.find_values(self.items_total_path, response.json())
        total = int(values[0]) if values and values[0] is not None else None
        fetched = (self.current_value - 1) * self.page_size
        if len(data or []) < self.page_size or (total is not None and fetched >= total):
            self._has_next_page = False


def drop_credentials(value: Any) -> Any:
    """Remove credential fields (secret keys, passwords, tokens) at any depth."""
    if isinstance(value, dict):
        return {k: drop_credentials(v) for k, v in value.items() if k not in CREDENTIAL_FIELDS}
    if isinstance(value, list):
        return [drop_credentials(v) for v in value]
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string (with `Z`) as an aware UTC datetime; empty values become None."""
    if value in (None, "", "0001-01-01T00:00:00Z"):
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_epoch(value: Any) -> datetime | None:
    """Unix seconds (v1beta sends them as strings) as an aware UTC datetime; 0 and empty become None."""
    if value in (None, "", "0", 0):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


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
            k: parse_amount(v)
            if k in AMOUNT_FIELDS and not isinstance(v, dict | list)
            else amounts_to_decimal(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [amounts_to_decimal(v) for v in value]
    return value


def _convert_path(record: dict[str, Any], dotted: str, convert: Any) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = record
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and leaf in node:
        node[leaf] = convert(node[leaf])


def _get_path(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def shape_records(
    endpoint: Endpoint, records: Iterable[dict[str, Any]], parent: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Drop credentials, type timestamps, lift nested ids and copy the parent's keys onto each record."""
    out = []
    for raw in records:
        record = drop_credentials(raw)
        for path in endpoint.timestamps:
            _convert_path(record, path, parse_timestamp)
        for path in endpoint.epoch_timestamps:
            _convert_path(record, path, parse_epoch)
        if endpoint.lift_id and "id" not in record:
            record["id"] = _get_path(raw, endpoint.lift_id)
        if parent is not None:
            for column, parent_field in endpoint.parent_columns.items():
                record.setdefault(column, parent.get(parent_field))
        out.append(record)
    return out


def parent_has_children(endpoint: Endpoint, parent: Mapping[str, Any]) -> bool:
    """False for parents the endpoint does not apply to (backups of a Starter cluster)."""
    if endpoint.parent_filter is None:
        return True
    field, expected = endpoint.parent_filter
    return parent.get(field) == expected
