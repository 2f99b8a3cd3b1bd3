"""The HTTP session every source uses: dlt's retrying client over a quota-pacing transport adapter."""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import dlt
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.requests.session import Session
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout

from fleetlake.errors import ConfigurationError, MalformedAnswerError
from fleetlake.http.quota import QuotaLimiter
from fleetlake.http.urls import error_chain

logger = logging.getLogger("fleetlake.http")

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

# a request answered 429 this many times in a row is given up, whatever the waits
MAX_THROTTLED_RESENDS = 100

# 429 is handled by the adapter below (it waits for the quota window); dlt's retry handles the rest
TRANSIENT_STATUS = (500, 502, 503, 504)


def _retry_connection_error(response: Response | None, error: BaseException | None) -> bool:
    """A connection that failed is tried again, unless the server's certificate was refused: that
    answer would be the same on every attempt (a TLS-inspecting proxy, a wrong host), and five backed-off
    retries only delayed the explanation by half a minute."""
    if not isinstance(error, ConnectionError):
        return False
    return not any(isinstance(part, ssl.SSLCertVerificationError) for part in error_chain(error))


class PacedAdapter(HTTPAdapter):
    """Sends every wire request through a `QuotaLimiter` and waits out 429 answers.

    Pacing sits at the transport so that it also covers the second leg of a digest handshake, which
    requests sends from a response hook straight to the adapter: a 429 there is waited out and
    resent instead of surfacing as a failed login.
    """

    def __init__(self, limiter: QuotaLimiter, pool_maxsize: int = 16) -> None:
        super().__init__(pool_connections=4, pool_maxsize=pool_maxsize)
        self.limiter = limiter
        self.abort: Callable[[], BaseException | None] | None = None
        """Asked while waiting for the quota: the run's stop, set by the API client using the session."""

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        waited = 0.0
        for _ in range(MAX_THROTTLED_RESENDS):
            waited += self.limiter.acquire(self.abort)
            try:
                response = super().send(
                    request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                )
            except BaseException:
                self.limiter.release()
                raise
            self.limiter.observe(response)
            if response.status_code != 429:
                return response
            wait = self.limiter.throttled(response)
            # free the connection for the resend
            _ = response.content
            response.close()
            if waited + wait > self.limiter.max_wait_seconds:
                raise self.limiter.exhausted()
        raise self.limiter.exhausted()


def _runtime(name: str, default: float) -> float:
    """A `[runtime]` request setting of dlt's (e.g. RUNTIME__REQUEST_TIMEOUT), or fleetlake's default."""
    raw: Any = dlt.config.get(f"runtime.{name}")
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 and not (name == "request_backoff_factor" and value == 0):
        raise ConfigurationError(
            f"The setting `{name}` in [runtime] (or RUNTIME__{name.upper()}) is {raw!r}, which is not a positive "
            f"number. Set it to a number of {'seconds' if 'timeout' in name or 'delay' in name else 'times'}, "
            f"or leave it out for fleetlake's default, {default:g}."
        )
    return value


def build_session(
    limiter: QuotaLimiter,
    *,
    timeout: float = 60.0,
    max_attempts: int = 6,
    backoff_factor: float = 1.0,
    max_retry_delay: float = 30.0,
    pool_maxsize: int = 16,
) -> Session:
    """A requests session that paces by quota, waits out 429s and retries 5xx, connection errors (but
    not a refused certificate), timeouts and answers whose body broke on the way (`MalformedAnswerError`).

    It never raises for status: dlt's REST client decides what an error means for each endpoint.
    dlt's own settings `request_timeout`, `request_max_attempts`, `request_backoff_factor` and
    `request_max_retry_delay` under `[runtime]` override the arguments, as they do for dlt's clients.
    """
    client = Client(
        request_timeout=_runtime("request_timeout", timeout),
        raise_for_status=False,
        status_codes=TRANSIENT_STATUS,
        # connection errors go through `_retry_connection_error`: a refused certificate is not retried
        exceptions=(Timeout, ChunkedEncodingError, MalformedAnswerError),
        retry_condition=_retry_connection_error,
        request_max_attempts=int(_runtime("request_max_attempts", max_attempts)),
        request_backoff_factor=_runtime("request_backoff_factor", backoff_factor),
        request_max_retry_delay=_runtime("request_max_retry_delay", max_retry_delay),
        respect_retry_after_header=True,
    )
    # the session of this thread, which every resource and thread of the source is handed; mounting the
    # pacing adapter on it (requests' public `mount`) puts the quota under dlt's retries
    session = client.session
    adapter = PacedAdapter(limiter, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # requests looks proxies up in the environment on every request (a tenth of a page's client time);
    # when no proxy is configured there is nothing to look up
    if not any(os.environ.get(name) for name in PROXY_VARIABLES):
        session.trust_env = False
        # what trust_env also read from the environment: a CA bundle (corporate TLS inspection)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    return session
