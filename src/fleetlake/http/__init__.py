"""What every API client shares: authentication, quota pacing, retries, URL and key checks and redaction."""

from fleetlake.http.digest import DigestAuth
from fleetlake.http.keys import check_key
from fleetlake.http.quota import QuotaLimiter
from fleetlake.http.session import build_session
from fleetlake.http.urls import check_base_url, connection_failure

__all__ = [
    "DigestAuth",
    "QuotaLimiter",
    "build_session",
    "check_base_url",
    "check_key",
    "connection_failure",
]
