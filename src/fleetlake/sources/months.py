"""Billing months: which to load, and loading each closed month only once."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import dlt

from fleetlake import clock
from fleetlake.errors import ConfigurationError

logger = logging.getLogger("fleetlake.sources")

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_shift(month: str, delta: int) -> str:
    """`YYYY-MM` moved by `delta` months."""
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_to_load(end_month: str | None, months_back: int, *, section: str, api: str, kept: int) -> list[str]:
    """The months to load, oldest first: `months_back` before `end_month` (default: this month) and it.

    `kept` is how many months before the current one the API keeps; settings are named as they appear
    in `[sources.<section>]`.
    """
    if not 0 <= months_back <= kept:
        raise ConfigurationError(
            f"billing_months in [sources.{section}] is {months_back}, but the {api} billing API keeps "
            f"the current month and at most {kept} before it. Set it between 0 and {kept}."
        )
    end = end_month or clock.this_month()
    # a pattern, not strptime, which takes 2026-1 and 26-11 (the year 26)
    if not MONTH.fullmatch(end):
        raise ConfigurationError(
            f"billing_end_month in [sources.{section}] is {end!r}, which is not a month. Use the form "
            "YYYY-MM, for example 2026-11, or leave it out to end at the current month."
        )
    return [month_shift(end, -k) for k in range(months_back, -1, -1)]


def load_closed_months_once(
    name: str, months: list[str], fetch: Callable[[str], Iterator[dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    """Yield `fetch(month)` for each month, skipping months an earlier run loaded after they closed.

    Runs inside a dlt resource: the closed months are kept in the resource's state, so a month is
    final once loaded a month after it ended: the last two months asked for load on every run.
    """
    state = dlt.current.resource_state()
    closed: list[str] = state.setdefault("closed_months", [])
    # the last month asked for is the current one unless billing_end_month pins an earlier one
    last = months[-1]
    for month in months:
        if month in closed:
            continue
        yield from fetch(month)
        # final once the month after it has ended too: adjustments and credits land early in a month
        if month < month_shift(last, -1):
            closed.append(month)
    logger.debug("%s: months already final and skipped: %s", name, closed)
