"""Start an emulator in its own process (so it never shares the client's GIL) and read its URL."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

NOW = "2026-11-15T12:00:00Z"


@contextmanager
def emulator_process(
    api: str, *options: str, scale: str = "demo", rate_limit: int = 0, window: float = 60.0, organizations: int = 1
) -> Iterator[str]:
    """`fleetlake emulate` on a free port; yields its URL and stops it afterwards."""
    command = [
        sys.executable,
        "-m",
        "fleetlake",
        "emulate",
        api,
        "--port",
        "0",
        "--scale",
        scale,
        "--now",
        NOW,
        "--rate-limit",
        str(rate_limit),
        "--rate-window",
        str(window),
        "--organizations",
        str(organizations),
    ]
    for option in options:
        command += ["-o", option]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "emulator on http" not in first:
            raise RuntimeError(
                f"the {api} emulator did not start: {first}{process.stderr.read() if process.stderr else ''}"
            )
        yield first.split()[first.split().index("on") + 1]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def tidb_settings(url: str, organization: int = 0, **extra: object) -> dict[str, object]:
    """The TiDB source's settings for an emulator at `url`: the demo key of its `organization`-th one."""
    suffix = f"-{organization}" if organization else ""
    return {
        "public_key": f"fleetlake-demo-public{suffix}",
        "private_key": f"fleetlake-demo-private{suffix}",
        "base_url": url,
        "dedicated_base_url": url + "/dedicated/v1beta1",
        "serverless_base_url": url + "/serverless/v1beta1",
        "iam_base_url": url + "/iam/v1beta1",
        "billing_base_url": url + "/billing/v1beta1",
        "billing_end_month": "2026-11",
        **extra,
    }
