"""The three error bodies of the SkySQL hosts: provisioning/organization, skybackup and billing.

Provisioning and organization answer `errr.ErrorResponse`, skybackup `web.ErrorResponse` and billing
`errr.SkySQLError`, as the vendor's reference pages declare them. Their `timestamp` is the data
clock in unix seconds and `trace_id` a hash of the request, so error bodies are byte-stable too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleetlake.emulators.core import RouteError

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
}
EXCEPTIONS = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    429: "TooManyRequestsError",
}
SOLUTIONS = {
    400: "check the request's query parameters against the API reference",
    401: "send a valid API key in the X-API-Key header",
    403: "send the organization id of your API key in X-MDB-Org, or leave the header out",
    404: "check the path and the id in it",
    405: "use one of the methods the API reference lists for this path",
    429: "wait for the number of seconds in the Retry-After header, then retry",
}
LOCATIONS = {400: "query", 401: "header", 403: "header", 404: "path", 405: "method", 429: "header"}


class ApiError(RouteError):
    """A route error with the detail the provisioning and billing envelopes carry."""

    def __init__(self, status: int, message: str, *, location: str = "", solution: str = "") -> None:
        super().__init__(status, message)
        self.location = location
        self.solution = solution


@dataclass(frozen=True)
class Problem:
    """Everything an error body may say."""

    status: int
    message: str
    path: str
    timestamp: int
    trace_id: str
    location: str = ""
    solution: str = ""

    @property
    def reason(self) -> str:
        """The HTTP reason phrase, `Not Found`."""
        return REASONS.get(self.status, "Internal Server Error")

    @property
    def exception(self) -> str:
        """A class-like name for the error, `NotFoundError`."""
        return EXCEPTIONS.get(self.status, "InternalServerError")

    @property
    def where(self) -> str:
        """Where the problem lies: the given location, else the usual one for the status."""
        return self.location or LOCATIONS.get(self.status, "")

    @property
    def hint(self) -> str:
        """How to fix it: the given solution, else the usual one for the status."""
        return self.solution or SOLUTIONS.get(self.status, "retry later")


def provisioning_error(p: Problem) -> dict[str, Any]:
    """`errr.ErrorResponse`, as /provisioning/v1 and /organization/v1 answer."""
    return {
        "code": p.status,
        "errors": [
            {
                "error": p.reason,
                "location": p.where,
                "message": p.message,
                "metadata": {},
                "solution": p.hint,
                "type": "error",
            }
        ],
        "exception": p.exception,
        "metadata": {},
        "path": p.path,
        "timestamp": p.timestamp,
        "trace_id": p.trace_id,
    }


def skybackup_error(p: Problem) -> dict[str, Any]:
    """`web.ErrorResponse`, as /skybackup/v1 answers."""
    return {
        "code": p.status,
        "errors": [{"error": p.reason, "message": p.message}],
        "exception": p.exception,
        "path": p.path,
        "timestamp": p.timestamp,
        "trace_id": p.trace_id,
    }


def billing_error(p: Problem) -> dict[str, Any]:
    """`errr.SkySQLError`, as /billing/v1 answers (it names no path)."""
    return {
        "code": p.status,
        "err": p.reason,
        "exception": p.exception,
        "location": p.where,
        "message": p.message,
        "metadata": [{"key": "trace_id", "value": p.trace_id}],
        "solution": p.hint,
        "type": "error",
    }


HOST_ENVELOPES: tuple[tuple[str, Callable[[Problem], dict[str, Any]]], ...] = (
    ("/skybackup/v1", skybackup_error),
    ("/billing/v1", billing_error),
)


def envelope_for(path: str) -> Callable[[Problem], dict[str, Any]]:
    """The envelope of the host serving `path`: provisioning's for every other path."""
    for prefix, envelope in HOST_ENVELOPES:
        if path == prefix or path.startswith(prefix + "/"):
            return envelope
    return provisioning_error
