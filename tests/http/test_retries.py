"""Transient server errors are retried by dlt's retry over fleetlake's session; the last one is explained."""

import contextlib
import socket
import ssl
import subprocess
import threading

import pytest
import requests
from dlt.sources.helpers.rest_client.client import RESTClient
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from fleetlake.errors import ServerError
from fleetlake.http import DigestAuth, QuotaLimiter, build_session
from fleetlake.http.responses import raise_for_api_status
from fleetlake.http.urls import connection_failure

MEMBERS = "/iam/v1beta1/members"


class FailFirst:
    """Answers 503 to the first `times` authorized requests for members, then lets them through."""

    def __init__(self, app, times):
        self.app, self.left = app, times

    async def __call__(self, scope, receive, send):
        authorized = any(name == b"authorization" for name, _ in scope.get("headers", []))
        if scope["type"] == "http" and scope["path"] == MEMBERS and authorized and self.left > 0:
            self.left -= 1
            await JSONResponse({"code": 14, "message": "unavailable", "details": []}, status_code=503)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)


def _get(server, attempts):
    session = build_session(QuotaLimiter("q"), max_attempts=attempts, backoff_factor=0.01, max_retry_delay=0.05)
    client = RESTClient(
        base_url=server.url + "/iam/v1beta1",
        auth=DigestAuth(public_key=DEFAULT_PUBLIC_KEY, private_key=DEFAULT_PRIVATE_KEY),
        session=session,
    )
    hook = raise_for_api_status("TiDB Cloud", "members", credentials_hint="")
    return client.get("members", hooks={"response": [hook]})


def test_a_503_burst_is_retried_until_the_answer():
    emulator = TiDBCloudEmulator(rate_limit=None, hooks=[Middleware(FailFirst, times=3)])
    with emulator.serve() as server:
        assert _get(server, attempts=6).status_code == 200
    statuses = [r.status for r in emulator.requests.filter(path=MEMBERS, authorized=True)]
    assert statuses == [503, 503, 503, 200]


def test_a_server_that_keeps_failing_is_explained_after_the_last_attempt():
    emulator = TiDBCloudEmulator(rate_limit=None, hooks=[Middleware(FailFirst, times=10)])
    with emulator.serve() as server, pytest.raises(ServerError) as error:
        _get(server, attempts=3)
    assert str(error.value).startswith(f"TiDB Cloud members (GET {server.url}/iam/v1beta1/members) kept answering 503")
    assert len(emulator.requests.filter(path=MEMBERS, authorized=True)) == 3


class CountingTlsServer:
    """A loopback TLS server with a self-signed certificate that counts the handshakes it is offered."""

    def __init__(self, folder):
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.handshakes = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.handshakes += 1
            with connection, contextlib.suppress(OSError):
                self.context.wrap_socket(connection, server_side=True).close()

    def close(self):
        self.listener.close()


def test_a_refused_certificate_is_explained_without_retrying(tmp_path):
    server = CountingTlsServer(tmp_path)
    try:
        session = build_session(QuotaLimiter("tls"), max_attempts=6, backoff_factor=0.01, max_retry_delay=0.05)
        with pytest.raises(requests.exceptions.SSLError) as error:
            session.get(server.url + "/v1beta/projects", timeout=10)
    finally:
        server.close()
    assert server.handshakes == 1
    assert connection_failure(error.value)[0] == "failed the TLS handshake"


def test_a_connection_reset_is_still_retried(tmp_path):
    """The same server without a certificate problem: a connection closed mid-handshake is tried again."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            connection.close()  # closed before any TLS byte: a transient failure

    threading.Thread(target=serve, daemon=True).start()
    try:
        session = build_session(QuotaLimiter("reset"), max_attempts=3, backoff_factor=0.01, max_retry_delay=0.05)
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(f"https://127.0.0.1:{listener.getsockname()[1]}/v1beta/projects", timeout=10)
    finally:
        listener.close()
    assert len(accepted) == 3
