"""What time fleetlake believes it is.

Every "now" in fleetlake (the billing month to end at, the audit log's time windows, the emulators'
default data clock) comes from `now()`: the wall clock, unless `FLEETLAKE_NOW` names an ISO-8601 time.
That setting rehearses a run as of another day, and it is how the test suite runs the same on any date.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fleetlake.errors import ConfigurationError

VARIABLE = "FLEETLAKE_NOW"


def now() -> datetime:
    """The current time, timezone-aware in UTC (`FLEETLAKE_NOW` when set)."""
    pinned = os.environ.get(VARIABLE, "").strip()
    if not pinned:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(pinned)
    except ValueError:
        raise ConfigurationError(
            f"{VARIABLE} is {pinned!r}, which is not an ISO-8601 time. Set it to e.g. 2026-11-01T12:00:00Z, "
            "or unset it to use the wall clock."
        ) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def this_month() -> str:
    """The current month as `YYYY-MM`."""
    return now().strftime("%Y-%m")
