"""Client-side quota pacing: one limiter per API key and run, shared by every thread and resource of it.

The vendors publish a quota (TiDB Cloud: 100 requests per minute per key) and report it on every
answer (`X-Ratelimit-Remaining-Minute`, `X-Ratelimit-Reset`) or on a 429 (`Retry-After`). The limiter
trusts those headers over its own count, so another client spending the same key slows us down instead
of making us fail. No library paces from these vendor headers, hence this small class.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from requests import Response

from fleetlake.errors import QuotaExhaustedError

logger = logging.getLogger("fleetlake.http")

REMAINING_HEADERS = ("X-Ratelimit-Remaining-Minute", "X-RateLimit-Remaining")
MIN_THROTTLE_WAIT = 0.05
RESET_HEADERS = ("X-Ratelimit-Reset", "X-RateLimit-Reset")
LIMIT_HEADERS = ("X-Ratelimit-Limit-Minute", "X-RateLimit-Limit")


@dataclass
class QuotaStats:
    """What the limiter did during a run; shown in summaries and asserted by tests."""

    requests: int = 0
    throttled: int = 0  # 429 answers met
    waited_seconds: float = 0.0


def _header_number(response: Response, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return float(value)
        except ValueError:
            return None
    return None


def retry_after_seconds(response: Response) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), if present."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class QuotaLimiter:
    """Blocks before a request when the key's quota is known to be spent, until the window resets.

    Args:
        name: what the quota belongs to, for messages (never the key itself).
        window_seconds: the quota window, used when the server gives no reset hint.
        max_wait_seconds: give up (with `QuotaExhaustedError`) when one request has waited this long.
    """

    def __init__(
        self,
        name: str,
        *,
        window_seconds: float = 60.0,
        max_wait_seconds: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.window_seconds = window_seconds
        self.max_wait_seconds = max_wait_seconds
        self.stats = QuotaStats()
        self._sleep = sleep
        self._now = monotonic
        self._lock = threading.Lock()
        self._remaining: float | None = None
        self._reset_at: float | None = None
        self._in_flight = 0
        self._window_estimate = 0.0
        self._announced: float | None = None  # the reset time a wait was last logged for
        self.limit: float | None = None  # requests per window, as the server last said

    def describe(self) -> str:
        """The quota in words: "the TiDB Cloud API key quota (100 requests/min)"."""
        if self.limit is None:
            return f"the {self.name}"
        per = "min" if self.window_seconds == 60 else f"{self.window_seconds:g} s"
        return f"the {self.name} ({self.limit:g} requests/{per})"

    def acquire(self, abort: Callable[[], BaseException | None] | None = None) -> float:
        """Wait until a request may be sent; returns the seconds waited. `abort` is asked every quarter
        of a second of waiting: an exception it returns is raised (the run is stopping)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._now()
                if self._reset_at is not None and now >= self._reset_at:
                    # a new window: the server will tell us the new count on the next answer
                    self._remaining, self._reset_at = None, None
                if self._remaining is None or self._remaining > 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    self._in_flight += 1
                    self.stats.requests += 1
                    return waited
                if self._reset_at is None:  # a count without a reset time: assume a window
                    self._reset_at = now + self.window_seconds
                delay = self._reset_at - now
                if delay >= 1.0 and self._announced != self._reset_at:
                    # once per window, whichever thread meets it first: a quiet run is not a hung one
                    self._announced = self._reset_at
                    text = f"waiting {delay:.0f} s for {self.describe()}"
                    logger.info("%s", text)
                    _tell_watchers(text, delay)
            if waited + delay > self.max_wait_seconds:
                raise self.exhausted()
            if abort is not None:
                stopped = abort()
                if stopped is not None:
                    raise stopped
                delay = min(delay, 0.25)
            self._sleep(delay)
            waited += delay
            with self._lock:
                self.stats.waited_seconds += delay

    def exhausted(self) -> QuotaExhaustedError:
        """The error for a quota that stays spent longer than `max_wait_seconds` allows."""
        return QuotaExhaustedError(
            f"The {self.name} rate limit would keep one request waiting more than {self.max_wait_seconds:.0f} s "
            "(max_quota_wait_seconds). Another client is probably spending the same API key's quota; stop it, "
            "use a separate key for fleetlake, or raise max_quota_wait_seconds, then run again."
        )

    def release(self) -> None:
        """A request ended without an answer (connection error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def observe(self, response: Response) -> None:
        """Correct the local count from the quota headers of an answer.

        Answers arrive out of order when threads share the key, so within one window the count only
        goes down; a reset time that jumps forward by a good part of a window starts a new one.
        """
        remaining = _header_number(response, REMAINING_HEADERS)
        reset = _header_number(response, RESET_HEADERS)
        limit = _header_number(response, LIMIT_HEADERS)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if limit is not None:
                self.limit = limit
            if remaining is None:
                return
            # the server's count includes this request but not the ones still in flight
            left = remaining - self._in_flight
            if reset is None:
                self._remaining = left if self._remaining is None else min(self._remaining, left)
                return
            reset_at = self._now() + reset
            self._window_estimate = max(self._window_estimate, reset)
            same_window = (
                self._reset_at is not None
                and self._remaining is not None
                and reset_at < self._reset_at + max(0.01, 0.25 * self._window_estimate)
            )
            if same_window:
                assert self._remaining is not None
                self._remaining = min(self._remaining, left)
            else:
                self._remaining, self._reset_at = left, reset_at

    def throttled(self, response: Response) -> float:
        """Record a 429 and return how long to wait: Retry-After, else the quota reset, else a window."""
        wait = retry_after_seconds(response)
        if wait is None:
            wait = _header_number(response, RESET_HEADERS)
        if wait is None:
            wait = self.window_seconds
        # "Retry-After: 0" on a 429 would otherwise resend at once, in a loop
        wait = max(wait, MIN_THROTTLE_WAIT)
        with self._lock:
            self.stats.throttled += 1
            self._remaining = 0
            self._reset_at = self._now() + wait
        text = f"waiting {wait:.0f} s for {self.describe()} (answered 429)"
        logger.info("%s", text)
        _tell_watchers(text, wait)
        return wait


_watchers: list[Callable[[str, float], None]] = []


def _tell_watchers(text: str, seconds: float) -> None:
    for watcher in list(_watchers):
        watcher(text, seconds)


@contextlib.contextmanager
def watching(watcher: Callable[[str, float], None]) -> Iterator[None]:
    """Within the block, `watcher(text, seconds)` hears of every quota wait as it starts (a progress
    line shows it: a quiet run is not a hung one)."""
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)
