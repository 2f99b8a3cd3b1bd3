"""A quota wait says so, once per window, at info: a quiet run is not a hung one."""

import logging

from requests import Response

from fleetlake.http.quota import QuotaLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _answer(remaining: int, reset: int) -> Response:
    response = Response()
    response.status_code = 200
    response.headers["X-Ratelimit-Remaining"] = str(remaining)
    response.headers["X-Ratelimit-Reset"] = str(reset)
    return response


def test_a_spent_quota_logs_one_line_per_window_and_waits_it_out(caplog):
    clock = Clock()
    limiter = QuotaLimiter("TiDB Cloud API key quota", sleep=clock.sleep, monotonic=lambda: clock.now)
    limiter.acquire()
    limiter.observe(_answer(remaining=0, reset=28))
    with caplog.at_level(logging.INFO, logger="fleetlake.http"):
        assert limiter.acquire() == 28.0
        assert limiter.acquire() == 0.0  # a new window: the next answer will say its count
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert waits == ["waiting 28 s for the TiDB Cloud API key quota"]
    assert clock.slept == [28.0]


def test_a_quota_wait_shows_in_the_progress_line_with_the_quota(capsys):
    """`fleetlake run` shows dlt's progress lines: a wait is a counter of its own, with what it waits for."""
    import io

    from dlt.common.runtime.collector import LogCollector

    from fleetlake import pipelines
    from fleetlake.http import quota

    clock = Clock()
    limiter = QuotaLimiter("TiDB Cloud API key quota", sleep=clock.sleep, monotonic=lambda: clock.now)
    limiter.acquire()
    answer = _answer(remaining=0, reset=28)
    answer.headers["X-Ratelimit-Limit-Minute"] = "100"
    limiter.observe(answer)
    lines = io.StringIO()
    collector = LogCollector(log_period=0.0, logger=lines, dump_system_stats=False)
    with collector("Extract"), quota.watching(lambda text, s: pipelines.show_quota_wait(collector, text, s)):
        assert limiter.acquire() == 28.0
    shown = [line for line in lines.getvalue().splitlines() if line.startswith(pipelines.QUOTA_COUNTER)]
    assert len(shown) == 2  # when the wait starts, and when the step ends
    for line in shown:
        assert line.startswith("Quota wait (s): 28 ")
        assert line.endswith("[waiting 28 s for the TiDB Cloud API key quota (100 requests/min)]")
    assert quota._watchers == []
