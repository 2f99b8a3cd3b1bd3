"""Each API's emulator accepting only a canary key, and the source settings pointing at it.

The suites that prove a key never leaks (the CLI canaries, the fault matrix, the crash trials) share these:
the key is the only secret the run has, so any copy of it found later is a leak. Every API in the registry
takes part through its emulator's contract (`Emulator.build`, `source_settings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fleetlake.emulators.base import Emulator, EmulatorSetup
from fleetlake.emulators.faults import Fault
from fleetlake.sources import get_api
from tests.sources.tidb_cloud.conftest import NOW


def canary_emulator(api: str, canary: str, *, seed: int = 0, faults: Sequence[Fault] = ()) -> Emulator:
    """The API's emulator at the tests' fixed clock, without a quota, whose one key is `canary`."""
    return get_api(api).emulator().build(EmulatorSetup(seed=seed, now=NOW, key=canary, faults=faults))


def canary_settings(api: str, emulator: Emulator, url: str, canary: str) -> dict[str, Any]:
    """The API's source settings for `emulator` served at `url`, with `canary` as the key."""
    settings = emulator.source_settings(url)
    assert canary in settings.values(), f"{api}'s emulator does not hand out the canary key"
    return settings
