"""Each API's emulator accepting only a canary key, and the source settings pointing at it.

The suites that prove a key never leaks (the CLI canaries, the fault matrix, the crash trials) share these:
the key is the only secret the run has, so any copy of it found later is a leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fleetlake.emulators.faults import Fault
from fleetlake.emulators.secoda import SecodaEmulator
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.emulators.tidb_cloud import ApiKey, TiDBCloudEmulator
from tests.sources.tidb_cloud.conftest import NOW

TIDB_PUBLIC_KEY = "canary-public"
"""TiDB Cloud's public key (the digest user name, not a secret); the private key is the canary."""


def canary_emulator(api: str, canary: str, *, seed: int = 0, faults: Sequence[Fault] = ()) -> Any:
    """The API's emulator at the tests' fixed clock, whose one key is `canary`; no rate limit on TiDB."""
    if api == "tidb":
        keys = {TIDB_PUBLIC_KEY: ApiKey(canary, ("org:owner",))}
        return TiDBCloudEmulator(seed=seed, now=NOW, rate_limit=None, keys=keys, faults=faults)
    if api == "skysql":
        return SkySQLEmulator(seed=seed, now=NOW, keys={canary: "org-canary"}, faults=faults)
    if api == "secoda":
        return SecodaEmulator(seed=seed, now=NOW, keys={canary: "canary"}, faults=faults)
    raise ValueError(f"unknown API {api!r}")


def canary_settings(api: str, emulator: Any, url: str, canary: str) -> dict[str, Any]:
    """The API's source settings for `emulator` served at `url`, with `canary` as the key."""
    if api == "tidb":
        keys = {"public_key": TIDB_PUBLIC_KEY, "private_key": canary}
        return {**keys, **emulator.base_urls(url), "billing_end_month": "2026-11"}
    if api == "skysql":
        return {
            "api_key": canary,
            "base_url": emulator.base_url(url),
            "billing_end_month": "2026-11",
            "billing_months": 11,
        }
    return {"api_key": canary, "base_url": emulator.base_url(url)}
