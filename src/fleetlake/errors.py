"""Errors that tell the user what went wrong and how to fix it.

Every error fleetlake raises on purpose is a `FleetlakeError`: its message is one paragraph that names
the API, the setting or endpoint involved and the fix. The CLI prints that paragraph and exits non-zero;
only `--debug` shows a traceback. Terminal errors (a wrong key, a missing endpoint) are never retried;
transient ones (a quota that stays exhausted, a server that keeps failing) may succeed on a later run.
"""

from __future__ import annotations

import requests


def env_variable(section: str, setting: str) -> str:
    """The environment variable dlt reads `setting` of config `section` from, for messages:
    `env_variable("sources.skysql_source", "api_key")` is SOURCES__SKYSQL_SOURCE__API_KEY."""
    return f"{section.replace('.', '__')}__{setting}".upper()


class FleetlakeError(Exception):
    """Base class: `str(error)` is a complete, user-facing paragraph."""

    exit_code = 1
    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(FleetlakeError):
    """A setting is missing or invalid (credentials, base URL, resource name, destination, month)."""

    exit_code = 2


class AuthenticationError(FleetlakeError):
    """The API rejected the credentials (401) or they lack a role the endpoint needs (403)."""

    exit_code = 3


class ApiError(FleetlakeError):
    """The API answered an error that retrying will not fix (400, 404 on a list, ...)."""

    exit_code = 4


class ServerError(ApiError, requests.HTTPError):
    """A 5xx answer: an `HTTPError` carrying the response, so dlt's retry sees the status and retries."""

    def __init__(self, message: str, response: requests.Response) -> None:
        ApiError.__init__(self, message)
        self.response = response
        self.request = response.request


class MalformedAnswerError(ApiError):
    """A 2xx answer whose body is not the JSON it should be (cut short, or a proxy's HTML page).

    Retried like a dropped connection; the message is the one left when the retries ran out.
    """

    transient = True


class MissingPrimaryKeyError(ApiError):
    """A record came without its primary key; the run stops before loading rather than merge on null."""


class PaginationLoopError(ApiError):
    """A list's paging came back to a page it had already read; the list is stopped, not looped."""


class QuotaExhaustedError(FleetlakeError):
    """The rate limit stayed exhausted for longer than fleetlake is willing to wait."""

    exit_code = 5
    transient = True


class UnreachableError(FleetlakeError):
    """The API host could not be reached (DNS, refused connection, TLS, timeout)."""

    exit_code = 6
    transient = True


class CheckFailedError(FleetlakeError):
    """`fleetlake check` found a server failing; carries the first failure's message and exit code."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
