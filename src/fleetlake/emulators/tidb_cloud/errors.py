"""The TiDB Cloud hosts' error bodies: v1beta, the gRPC-style v1beta1 status, and IAM/billing's."""

from __future__ import annotations

from typing import Any

from fleetlake.emulators.digest import DigestOutcome

# the gateway's codes: 49900001 (key) and 49900007 (quota) are documented, the others follow the pattern
V1BETA_CODES = {400: 49900002, 401: 49900001, 403: 49900003, 404: 49900004, 405: 49900006, 429: 49900007}
RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 429: 8, 500: 13}
IAM_CODES = {
    400: ("InvalidArgument", "Bad Request"),
    401: ("Unauthenticated", "Unauthorized"),
    403: ("PermissionDenied", "Forbidden"),
    404: ("NotFound", "Not Found"),
    405: ("MethodNotAllowed", "Method Not Allowed"),
    429: ("ResourceExhausted", "Too Many Requests"),
}


def v1beta_error(status: int, message: str) -> dict[str, Any]:
    """`{code: int, message, details: []}` as api.tidbcloud.com answers."""
    return {"code": V1BETA_CODES.get(status, 49900005), "message": message, "details": []}


def rpc_error(status: int, message: str) -> dict[str, Any]:
    """`{code: gRPC code, message, details: []}` as the dedicated and serverless v1beta1 hosts answer."""
    return {"code": RPC_CODES.get(status, 2), "message": message, "details": []}


def iam_error(status: int, message: str) -> dict[str, Any]:
    """`{code: string, error, msgPrefix, status}` as the IAM and billing hosts answer."""
    code, prefix = IAM_CODES.get(status, ("Internal", "Internal Server Error"))
    return {"code": code, "error": message, "msgPrefix": prefix, "status": status}


def quota_body(limit: int) -> dict[str, Any]:
    """The gateway's 429 body, naming the configured limit."""
    return {
        "details": [],
        "code": 49900007,
        "message": (
            f"The request exceeded the limit of {limit} times per apikey per minute. "
            "For more information, see the API documentation."
        ),
    }


def unauthorized_body(outcome: DigestOutcome) -> dict[str, Any]:
    """The gateway's 401 body for each way a Digest login can fail."""
    messages = {
        DigestOutcome.MISSING: "authentication required: use HTTP Digest with your public and private key",
        DigestOutcome.MALFORMED: "malformed digest credentials",
        DigestOutcome.UNKNOWN_USER: "public_key not found",
        DigestOutcome.WRONG_RESPONSE: "wrong key",
        DigestOutcome.STALE: "stale nonce: retry with the new nonce",
    }
    return {"code": 49900001, "message": messages.get(outcome, "unauthorized"), "details": []}
