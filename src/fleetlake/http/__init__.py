"""What every API client shares: authentication, quota pacing, retries, URL checks and redaction."""

from fleetlake.http.digest import DigestAuth
from fleetlake.http.quota import QuotaLimiter, limiter_for
from fleetlake.http.session import build_session
from fleetlake.http.urls import check_base_url

__all__ = ["DigestAuth", "QuotaLimiter", "build_session", "check_base_url", "limiter_for"]
