"""Server-side rate limiting: a fixed window of requests per API key, on real monotonic time."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class QuotaDecision:
    """The outcome of charging one request to a key."""

    allowed: bool
    limit: int
    remaining: int
    """Requests left in the current window after this one."""
    reset_seconds: float
    """Seconds until the window resets: whole seconds for windows of a minute or more, else 3 decimals."""

    def reset_header(self) -> str:
        """`reset_seconds` as a header value: "23", or "0.25" for a compressed window."""
        if self.reset_seconds == int(self.reset_seconds):
            return str(int(self.reset_seconds))
        return f"{self.reset_seconds:.3f}".rstrip("0").rstrip(".")


class QuotaLimiter:
    """`limit` requests per `window_seconds` for each key; `limit=None` turns limiting off.

    A key's window opens with its first request and lasts `window_seconds`; the next request after
    that opens a fresh one. Windows can be compressed (for example 100 per 0.5 s) so tests can reach
    and leave the limit quickly. `time_source` is injectable so tests need no sleeps.
    """

    def __init__(
        self,
        limit: int | None = 100,
        window_seconds: float = 60.0,
        *,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1 (or None to disable), got {limit}")
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._time = time_source
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all."""
        return self.limit is not None

    def hit(self, key_id: str) -> QuotaDecision | None:
        """Charge one request to `key_id`; None when limiting is off.

        A refused request does not use up quota: the count stays at the limit.
        """
        if self.limit is None:
            return None
        now = self._time()
        with self._lock:
            start, used = self._windows.get(key_id, (now, 0))
            if now - start >= self.window_seconds:
                start, used = now, 0
            allowed = used < self.limit
            if allowed:
                used += 1
            self._windows[key_id] = (start, used)
        return QuotaDecision(
            allowed=allowed,
            limit=self.limit,
            remaining=self.limit - used,
            reset_seconds=self._reset(start + self.window_seconds - now),
        )

    def reset(self) -> None:
        """Forget every key's window."""
        with self._lock:
            self._windows.clear()

    def _reset(self, seconds_left: float) -> float:
        if self.window_seconds >= 60:
            return float(max(1, math.ceil(seconds_left)))
        return max(0.001, round(seconds_left, 3))
