"""HTTP Digest authentication (RFC 7616) as a dlt auth class.

The digest arithmetic is requests' own `HTTPDigestAuth`; this class only makes it fit dlt:
- it is a `@configspec`, so `public_key` / `private_key` resolve from `.dlt/secrets.toml` or the
  environment, and the private key is typed as a secret (never printed in config dumps or traces);
- requests' implementation keeps its nonce in a `threading.local`, which cannot be deep-copied, and
  dlt deep-copies auth objects (`cannot pickle '_thread._local'`), so the requests object is created
  lazily and left out of copies;
- a 429 answered during the handshake must not be mistaken for a failed login: quota waits happen in
  the transport adapter (`fleetlake.http.session.PacedAdapter`), below this auth's 401 handling, so
  requests' handshake only ever sees the final answer.
"""

from __future__ import annotations

import threading
from typing import Any

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from requests import PreparedRequest, Response
from requests.auth import HTTPDigestAuth

_IMPL = "_digest_impl"


def _shared_field(name: str, default: Any) -> Any:
    """A property reading and writing `name` in the instance's shared dict."""
    return property(
        lambda self: self.shared.get(name, default),
        lambda self, value: self.shared.__setitem__(name, value),
    )


class _DigestState(threading.local):
    """requests' per-thread digest state, except the server's challenge, which all threads share.

    requests keeps the nonce per thread, so every thread (dlt's workers, page prefetchers) paid its own
    401 handshake; sharing the challenge makes it one handshake for the run. The per-request fields
    (`pos`, `num_401_calls`) stay per thread.
    """

    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared

    chal = _shared_field("chal", {})
    last_nonce = _shared_field("last_nonce", "")
    nonce_count = _shared_field("nonce_count", 0)


class _SharedNonceDigestAuth(HTTPDigestAuth):
    # how long other threads wait for the first handshake before trying their own
    FIRST_HANDSHAKE_WAIT = 10.0

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        # requests keeps its digest state in `_thread_local` (private): replaced by one that shares the
        # challenge; `tests/http/test_digest.py::test_threads_starting_together_share_one_handshake` fails
        # if requests changes it
        self._thread_local = _DigestState({})
        self._first = threading.Lock()
        self._first_thread: int | None = None
        self._challenged = threading.Event()

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        # threads starting together would each meet the 401 challenge: one goes, the others wait for it
        if not self._challenged.is_set():
            if self._first.acquire(blocking=False):
                self._first_thread = threading.get_ident()
            elif self._first_thread == threading.get_ident():
                # the first request is being sent again without having had an answer (a refused
                # connection, retried): there is no handshake to wait for
                self._challenged.set()
            else:
                self._challenged.wait(self.FIRST_HANDSHAKE_WAIT)
        prepared: PreparedRequest = super().__call__(request)  # type: ignore[no-untyped-call]
        return prepared

    def handle_401(self, r: Response, **kwargs: Any) -> Response:
        if r.status_code == 401 and "Authorization" not in r.request.headers:
            # a bare challenge is always answered: a request resent by dlt's retry (after a 503) is the
            # original, unsigned one, and requests would count its challenge as a second failed login
            self._thread_local.num_401_calls = 1
        try:
            answered: Response = super().handle_401(r, **kwargs)  # type: ignore[no-untyped-call]
            return answered
        finally:
            # after any answer: a challenge to share, or none to wait for (a 404 from a wrong base URL)
            self._challenged.set()

    def init_per_thread_state(self) -> None:
        if not hasattr(self._thread_local, "init"):
            self._thread_local.init = True
            self._thread_local.pos = None
            self._thread_local.num_401_calls = None


@configspec
class DigestAuth(AuthConfigBase):
    """Digest auth with the public key as user name and the private key as password."""

    # both halves are kept as secrets: the seed pages store them together in secrets.toml
    public_key: TSecretStrValue = None  # type: ignore[assignment]  # dlt specs declare required fields as None
    private_key: TSecretStrValue = None  # type: ignore[assignment]

    def _impl(self) -> HTTPDigestAuth:
        impl: HTTPDigestAuth | None = self.__dict__.get(_IMPL)
        if impl is None:
            impl = _SharedNonceDigestAuth(self.public_key, self.private_key)
            self.__dict__[_IMPL] = impl
        return impl

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        prepared: PreparedRequest = self._impl()(request)
        return prepared

    def __getstate__(self) -> dict[str, Any]:
        # copies start with a fresh handshake state: the requests object holds a thread-local
        state = dict(self.__dict__)
        state.pop(_IMPL, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return "DigestAuth(public_key=***, private_key=***)"
