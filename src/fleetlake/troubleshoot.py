"""Explains a failure in one paragraph: what went wrong, which setting, and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from dlt.common.configuration.exceptions import ConfigFieldMissingException, LookupTraces
from dlt.common.destination.client import DestinationClientConfiguration
from dlt.common.destination.exceptions import UnknownDestinationModule

from fleetlake.errors import ConfigurationError, FleetlakeError, UnreachableError
from fleetlake.sources import ApiSpec


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (dlt wraps source errors in pipeline step errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else (current.__cause__ or current.__context__)


def _missing_destination_settings(error: ConfigFieldMissingException) -> str:
    config = error.config
    name = str(getattr(config, "destination_type", "") or "the destination").rsplit(".", 1)[-1]
    return (
        f"Settings of destination {name} are missing ({_missing_leaves(error)}). Put them in "
        f"[destination.{name}.credentials] of .dlt/secrets.toml, or set "
        f"DESTINATION__{name.upper()}__CREDENTIALS to a connection string such as "
        "postgresql://user:password@host:5432/database."
    )


def _missing_leaves(error: ConfigFieldMissingException) -> str:
    """The innermost missing fields (`password`, not `credentials`)."""
    names: list[str] = []
    for field, traces in error.traces.items():
        nested = [trace for trace in traces if isinstance(trace, LookupTraces)]
        if nested:
            names.extend(key for trace in nested for key in trace.traces)
        else:
            names.append(field)
    return ", ".join(names)


def _missing_credentials(error: ConfigFieldMissingException, api: ApiSpec | None) -> str:
    if isinstance(error.config, DestinationClientConfiguration):
        return _missing_destination_settings(error)
    fields = ", ".join(error.fields)
    if api is None:
        return f"Required settings are missing: {fields}. Put them in .dlt/secrets.toml or the environment."
    section = api.section
    env = " and ".join(f"SOURCES__{section.upper()}__{field.upper()}" for field in error.fields)
    return (
        f"{api.title} credentials are missing ({fields}). Put them in .dlt/secrets.toml under "
        f"[sources.{section}] (see .dlt/example.secrets.toml), or set {env}. "
        f"To try fleetlake without credentials, run `fleetlake demo {api.name}`."
    )


def _unreachable(error: requests.RequestException) -> str:
    url = error.request.url if error.request is not None and error.request.url else ""
    host = urlsplit(url).netloc or "the API host"
    kind = "did not answer in time" if isinstance(error, requests.Timeout) else "could not be reached"
    return (
        f"{host} {kind} ({type(error).__name__}). Check the network connection and any proxy "
        "(HTTPS_PROXY), and the base URL settings; fleetlake retried before giving up. Tables keep their "
        "last complete load."
    )


def explain(error: BaseException, api: ApiSpec | None = None) -> tuple[str, int]:
    """A one-paragraph message and an exit code for any error a command can raise."""
    for cause in causes(error):
        if isinstance(cause, FleetlakeError):
            return cause.message, cause.exit_code
        if isinstance(cause, ConfigFieldMissingException):
            return _missing_credentials(cause, api), ConfigurationError.exit_code
        if isinstance(cause, UnknownDestinationModule):
            return (
                f"Unknown destination: {cause}. Use a dlt destination name such as duckdb, postgres, "
                "filesystem, bigquery or snowflake.",
                ConfigurationError.exit_code,
            )
        if isinstance(cause, requests.ConnectionError | requests.Timeout):
            return _unreachable(cause), UnreachableError.exit_code
        if isinstance(cause, requests.HTTPError):
            return str(cause), 4
        if isinstance(cause, PermissionError):
            return (
                f"Cannot write {cause.filename}: permission denied. Choose a folder you can write to "
                "(for example --dir or --pipelines-dir).",
                ConfigurationError.exit_code,
            )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}", 1
