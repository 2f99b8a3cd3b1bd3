"""Errors that tell the user what went wrong and how to fix it.

Every error fleetlake raises on purpose is a `FleetlakeError`: its message is one paragraph that names
the API, the setting or endpoint involved and the fix. The CLI prints that paragraph and exits non-zero;
only `--debug` shows a traceback.

Errors are of two scopes. Most concern one list (`stops_run = False`: a 404 of an endpoint, a 400, a
role the key lacks, an answer that cannot be read, a server that keeps failing on one path): that
resource fails alone and the others load. A few concern every request of the run (`stops_run = True`:
a refused key, a quota that stays spent, a host that cannot be reached, a wrong setting): the run stops
at once and loads nothing.
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
    stops_run = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(FleetlakeError):
    """A setting is missing or invalid (credentials, base URL, resource name, destination, month)."""

    exit_code = 2


class OrganizationChangedError(ConfigurationError):
    """An account's key now answers for another organization than the one its pipeline loaded."""


class AuthenticationError(FleetlakeError):
    """The API rejected the credentials (401): every other request would be refused too."""

    exit_code = 3


class ForbiddenError(AuthenticationError):
    """The key is valid but lacks the role one endpoint needs (403): that resource fails alone."""

    stops_run = False


class ApiError(FleetlakeError):
    """The API answered an error that retrying will not fix (400, 404 on a list, ...)."""

    exit_code = 4
    stops_run = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status the API answered, when the error is an answer."""


class ServerError(ApiError, requests.HTTPError):
    """A 5xx answer: an `HTTPError` carrying the response, so dlt's retry sees the status and retries."""

    def __init__(self, message: str, response: requests.Response) -> None:
        ApiError.__init__(self, message, status=response.status_code)
        self.response = response
        self.request = response.request


class MalformedAnswerError(ApiError):
    """A 2xx answer whose body is not the JSON it should be (cut short, or a proxy's HTML page).

    Retried like a dropped connection; the message is the one left when the retries ran out.
    """


class MissingPrimaryKeyError(ApiError):
    """A record came without its primary key; the run stops before loading rather than merge on null."""


class PaginationLoopError(ApiError):
    """A list's paging came back to a page it had already read; the list is stopped, not looped."""


class QuotaExhaustedError(FleetlakeError):
    """The rate limit stayed exhausted for longer than fleetlake is willing to wait."""

    exit_code = 5


class UnreachableError(FleetlakeError):
    """The API host could not be reached (DNS, refused connection, TLS, timeout)."""

    exit_code = 6


class UnreadableAnswerError(ApiError):
    """An answer fleetlake could not turn into rows (a shape or a value no code path expected)."""


class RunAbortedError(FleetlakeError):
    """Another resource met an error that stops the run; this one stopped at its next request.

    It says what the original said, with its exit code, whichever of the two dlt reports.
    """

    def __init__(self, original: FleetlakeError) -> None:
        super().__init__(original.message)
        self.exit_code = original.exit_code
        self.original = original


class CheckFailedError(FleetlakeError):
    """`fleetlake check` found a server failing; carries the first failure's message and exit code."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
