"""Values typed tolerantly: times, dates and amounts in any form the vendors document, or kept as text.

The vendors' files disagree with themselves (TiDB's v1beta sends `create_timestamp` as unix seconds
in a string on projects and as ISO-8601 on restores), and servers disagree with their files. So every
parser here accepts every form a vendor documents anywhere: ISO-8601 with or without zone and fraction,
a date alone, unix seconds or milliseconds as numbers or strings. A value that fits none is not an
error: `Typer` moves it to `<field>__v_text` (the name dlt gives a variant column), keeps the typed
column clean, says so once per table and column, and counts it in the run's outcomes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dlt.common.normalizers.naming.snake_case import NamingConvention

from fleetlake.outcomes import RunOutcomes

logger = logging.getLogger("fleetlake.sources")

VARIANT_SUFFIX = "__v_text"
# Go's zero time, which Go servers send for "never"
ZERO_TIMES = frozenset({"", "0", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "0000-00-00 00:00:00"})
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_NAMING = NamingConvention()


class UntypableValueError(ValueError):
    """A value that no form of the wanted type fits."""


def _from_epoch(number: float) -> datetime:
    # seconds until the year 5138; beyond that the number is milliseconds, then micro-, then nanoseconds
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(number) < 1e11 * scale:
            try:
                return datetime.fromtimestamp(number / scale, tz=UTC)
            except (OverflowError, OSError, ValueError):
                break
    raise UntypableValueError(f"{number!r} is no unix time in seconds or milliseconds")


def to_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 (any zone, any fraction, or a date alone) or unix seconds or
    milliseconds (number or string); None for empty and zero values. Raises `UntypableValueError`."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise UntypableValueError(f"{value!r} is not a time")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return None if value == 0 else _from_epoch(float(value))
    text = str(value).strip()
    if text in ZERO_TIMES:
        return None
    if NUMBER.fullmatch(text):
        number = float(text)
        return None if number == 0 else _from_epoch(number)
    try:
        # Python 3.11 reads ISO-8601 with Z or offsets, any fraction, a space for T, and dates alone
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise UntypableValueError(f"{text[:60]!r} is neither ISO-8601 nor a unix time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_date(value: Any) -> date | None:
    """A calendar date from `YYYY-MM-DD`, a full ISO-8601 time or a unix time; None when empty."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) >= 10:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    moment = to_timestamp(value)
    return moment.date() if moment is not None else None


def to_amount(value: Any) -> Decimal | None:
    """An exact decimal from a number or a numeric string (`"12.34"`, `"1,234.50"`); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise UntypableValueError(f"{value!r} is not an amount")
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace(",", "") if isinstance(value, str) else repr(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise UntypableValueError(f"{str(value)[:60]!r} is not a number") from None
    if not amount.is_finite():
        raise UntypableValueError(f"{str(value)[:60]!r} is not a finite number")
    return amount


def column_name(dotted: str) -> str:
    """The column a dotted field path lands in, named as dlt names it (`pausePlan.scheduledResumeTime`
    is `pause_plan__scheduled_resume_time`)."""
    return "__".join(_NAMING.normalize_identifier(part) for part in dotted.split("."))


class Typer:
    """Converts fields of one resource's records; a value no parser fits goes to `<field>__v_text`.

    The count of such values lives in the run's outcomes, so the warning is said once per column and run.
    """

    def __init__(self, api: str, resource: str, outcomes: RunOutcomes | None) -> None:
        self.api = api
        self.resource = resource
        self.outcomes = outcomes

    def convert(
        self, record: dict[str, Any], dotted: str, parse: Callable[[Any], Any], *, named: str | None = None
    ) -> None:
        """Replace the value at `dotted` (a path of keys) in place with `parse(value)`; `named` is the
        field's whole path when `record` is itself nested in the row, for the warning."""
        *parents, leaf = dotted.split(".")
        node: Any = record
        for key in parents:
            node = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(node, dict) or leaf not in node:
            return
        try:
            node[leaf] = parse(node[leaf])
        except UntypableValueError as problem:
            self.keep_as_text(node, leaf, named or dotted, problem)

    def keep_as_text(self, node: dict[str, Any], leaf: str, dotted: str, problem: Exception) -> None:
        """Move `node[leaf]` to its variant column, once warned per column."""
        value = node.pop(leaf)
        node[leaf + VARIANT_SUFFIX] = value if isinstance(value, str) else str(value)
        column = column_name(dotted)
        seen = self.outcomes.untyped(self.resource, column) if self.outcomes is not None else 1
        if seen == 1:  # once per table and column in a run
            logger.warning(
                "%s %s: a value of %s fits no form fleetlake reads (%s); it is kept as text in %s%s and the "
                "run goes on. If the API now sends this field in a new form, report it to fleetlake.",
                self.api,
                self.resource,
                column,
                problem,
                column,
                VARIANT_SUFFIX,
            )
