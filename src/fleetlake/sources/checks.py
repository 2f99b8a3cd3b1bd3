"""`fleetlake check <api>`: one cheap request per server or area, and a plain verdict on each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from fleetlake.errors import FleetlakeError
from fleetlake.sources.endpoints import ApiClient


@dataclass(frozen=True)
class CheckResult:
    """What one cheap request to one server showed."""

    server: str
    url: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Probe:
    """A cheap request: which client, which table it stands for, which path and query."""

    server: str
    name: str
    path: str
    params: Mapping[str, Any]


def run_checks(client: ApiClient, probes: Mapping[str, Probe]) -> list[CheckResult]:
    """Make each probe's request once; a failure is explained, never raised."""
    results = []
    for label, probe in probes.items():
        url = f"{client.by_server[probe.server].base_url}/{probe.path}".split("?")[0]
        try:
            client.get_json(probe.server, probe.name, probe.path, params=dict(probe.params))
        except FleetlakeError as error:
            results.append(CheckResult(label, url, False, str(error)))
        except requests.ConnectionError:
            reason = f"cannot reach {url}: check the network, a proxy, or the base URL setting."
            results.append(CheckResult(label, url, False, reason))
        except requests.RequestException as error:
            results.append(CheckResult(label, url, False, f"request failed: {error}"))
        else:
            results.append(CheckResult(label, url, True, f"ok ({probe.name} readable)"))
    return results
