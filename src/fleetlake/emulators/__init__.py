"""Offline emulators of the vendors' APIs, served over real loopback sockets.

The shared core is API-agnostic: `core` (data clock, request log, gateway, app builder), `server`
(uvicorn on 127.0.0.1), `digest` (HTTP Digest, server side), `quota` (per-key fixed windows) and
`paging` (page numbers and page tokens). Each API has one package beside them, starting with
`tidb_cloud`.
"""

from fleetlake.emulators.core import AuthDecision, Clock, RequestLog, RequestRecord, RouteError
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.server import EmulatorServer

__all__ = [
    "AuthDecision",
    "Clock",
    "EmulatorServer",
    "QuotaDecision",
    "QuotaLimiter",
    "RequestLog",
    "RequestRecord",
    "RouteError",
]
