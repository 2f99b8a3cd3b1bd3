"""Secoda's error answers: Django REST framework's `{"detail": ...}` bodies.

The vendor documents the statuses (401, 404, 429) but not their bodies; Secoda runs on Django, so
the emulator answers as Django REST framework does, with its stock messages.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import Response

from fleetlake.emulators.core import json_response
from fleetlake.emulators.keyauth import Rejection

MISSING_CREDENTIALS = "Authentication credentials were not provided."
INVALID_CREDENTIALS = "Invalid token."
NOT_FOUND = "Not found."


def detail(message: str) -> dict[str, Any]:
    """The error body every Secoda answer uses."""
    return {"detail": message}


def unauthorized(reason: Rejection) -> Response:
    """401 for a missing or unknown bearer token, with the challenge DRF sends."""
    message = MISSING_CREDENTIALS if reason == "missing" else INVALID_CREDENTIALS
    return json_response(detail(message), status=401, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def throttled(retry_after: float) -> Response:
    """429 with `Retry-After`: whole seconds, or up to 3 decimals for a compressed window."""
    whole = retry_after == int(retry_after)
    header = str(int(retry_after)) if whole else f"{retry_after:.3f}".rstrip("0").rstrip(".")
    wait = max(1, math.ceil(retry_after))
    message = f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."
    return json_response(detail(message), status=429, headers={"Retry-After": header})


def unmatched(path: str, status: int, message: str) -> Response:
    """Unknown paths and methods, and any other error status (injected faults), in the same envelope."""
    if status == 405:
        return json_response(detail("Method not allowed."), status=405)
    if status == 404:
        return json_response(detail(NOT_FOUND), status=404)
    if status == 401:
        return unauthorized("invalid")
    # DRF's stock text for a server error; a gateway's 502-504 carry the message given
    text = "A server error occurred." if status == 500 else f"{message}: {path}"
    return json_response(detail(text), status=status)
