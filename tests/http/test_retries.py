"""Transient server errors are retried by dlt's retry over fleetlake's session; the last one is explained."""

import pytest
from dlt.sources.helpers.rest_client.client import RESTClient
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from fleetlake.errors import ServerError
from fleetlake.http import DigestAuth, QuotaLimiter, build_session
from fleetlake.http.responses import raise_for_api_status

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
