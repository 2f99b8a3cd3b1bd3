"""`fleetlake check <api>`: one cheap request per server or area, and a plain verdict on each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException

from fleetlake.errors import ApiError, CheckFailedError, FleetlakeError, UnreachableError
from fleetlake.http.responses import raise_for_api_status
from fleetlake.http.urls import connection_failure
from fleetlake.sources.endpoints import ApiClient


@dataclass(frozen=True)
class CheckResult:
    """What one cheap request to one server showed; a failure keeps its error (its message and exit code)."""

    server: str
    url: str
    ok: bool
    message: str
    error: FleetlakeError | None = None


@dataclass(frozen=True)
class Probe:
    """A cheap request: which client, which table it stands for, which path and query."""

    server: str
    name: str
    path: str
    params: Mapping[str, Any]


def _probe(client: ApiClient, probe: Probe, section: str) -> requests.Response:
    """Make the probe's request; raise a `FleetlakeError` saying what its answer means (requests' own
    error where the server could not be asked: `_unreachable` says it)."""
    rest = client.by_server[probe.server]
    where = _where(probe, section)
    response = rest.request(probe.path, params=dict(probe.params))
    if response.status_code == 404:
        # every probe asks for a list the API always has: a 404 means the address is not the API's
        raise ApiError(
            f"{where} is {rest.base_url!r}: a server answers there, but not as the {client.api} API "
            f"(GET {response.url.split('?')[0]} answered 404 Not Found). Set it to the {client.api} API's "
            "address, or remove it to use the default."
        )
    # an empty answer ("204 No Content") is a readable one
    with suppress(IgnoreResponseException):
        raise_for_api_status(client.api, probe.name, credentials_hint=client.credentials_hint)(response)
    return response


def _where(probe: Probe, section: str) -> str:
    return f"`{probe.server}` in [{section}]"


def _unreachable(client: ApiClient, probe: Probe, section: str, failure: requests.RequestException) -> UnreachableError:
    """The probe's server could not be asked: which setting names it, what happened and the fix."""
    base_url = client.by_server[probe.server].base_url
    what, fix = connection_failure(failure)
    host = urlsplit(base_url).netloc
    return UnreachableError(f"{_where(probe, section)} is {base_url!r}, and {host} {what}. {fix}")


def run_checks(client: ApiClient, probes: Mapping[str, Probe], *, section: str) -> list[CheckResult]:
    """Make each probe's request once; a failure is explained, never raised.

    `section` is where the servers' settings live (`sources.<name>`): a failure names the setting. A
    host that could not be reached is not asked again for the other probes.
    """
    results = []
    unreachable: dict[str, UnreachableError] = {}
    for label, probe in probes.items():
        url = f"{client.by_server[probe.server].base_url}/{probe.path}".split("?")[0]
        host = urlsplit(url).netloc
        try:
            if host in unreachable:
                raise unreachable[host]
            _probe(client, probe, section)
        except FleetlakeError as error:
            results.append(CheckResult(label, url, False, str(error), error))
        except requests.RequestException as failure:
            unreached = _unreachable(client, probe, section, failure)
            if isinstance(failure, requests.ConnectionError | requests.Timeout):
                unreachable[host] = unreached
            results.append(CheckResult(label, url, False, str(unreached), unreached))
        else:
            results.append(CheckResult(label, url, True, f"ok ({probe.name} readable)"))
    return results


def read_organization(client: ApiClient, probe: Probe, field: str, *, section: str) -> str:
    """The vendor's organization (or workspace) id that the probe's answer names in `field`, on the answer
    itself or on the first item of a list in it; "" when it names none (a workspace with nothing in it).
    A failure raises as a run's request would (a refused key, an unreachable host)."""
    try:
        response = _probe(client, probe, section)
    except requests.RequestException as failure:
        raise _unreachable(client, probe, section, failure) from None
    try:
        body = response.json()
    except ValueError:
        return ""
    found = _field_in(body, field)
    return "" if found is None else str(found)


def _field_in(body: Any, field: str) -> Any:
    if not isinstance(body, dict):
        return None
    if body.get(field) is not None:
        return body[field]
    for value in body.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and item.get(field) is not None:
                    return item[field]
    return None


def verdict(api: str, results: Sequence[CheckResult]) -> CheckFailedError | None:
    """None when every check passed, else one paragraph: the first failure, and how many failed."""
    failed = [result for result in results if not result.ok]
    if not failed:
        return None
    first = failed[0].error or FleetlakeError(failed[0].message)
    return CheckFailedError(
        f"{first.message} ({len(failed)} of {len(results)} {api} checks failed; each is listed above.)",
        exit_code=first.exit_code,
    )
