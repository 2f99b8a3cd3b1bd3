"""fleetlake's digest auth and paced session against the TiDB emulator, request by request."""

import copy
import threading

import pytest
from dlt.sources.helpers.rest_client.client import RESTClient

from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from fleetlake.errors import AuthenticationError
from fleetlake.http import DigestAuth, QuotaLimiter, build_session
from fleetlake.http.responses import raise_for_api_status
from tests.emulators.conftest import FakeTime

MEMBERS = "/iam/v1beta1/members"


def _client(server, public=DEFAULT_PUBLIC_KEY, private=DEFAULT_PRIVATE_KEY):
    session = build_session(QuotaLimiter("test quota"))
    auth = DigestAuth(public_key=public, private_key=private)
    return RESTClient(base_url=server.url + "/iam/v1beta1", auth=auth, session=session)


def _get(client):
    hook = raise_for_api_status("TiDB Cloud", "members", credentials_hint="Check the keys.")
    return client.get("members", hooks={"response": [hook]})


def _statuses(emulator):
    return [(r.status, r.authorized) for r in emulator.requests.filter(path=MEMBERS)]


def test_one_handshake_then_every_request_is_signed_up_front():
    emulator = TiDBCloudEmulator(rate_limit=None)
    with emulator.serve() as server:
        client = _client(server)
        for _ in range(3):
            assert _get(client).status_code == 200
    # one challenge, then three signed requests: no further round trips
    assert _statuses(emulator) == [(401, False), (200, True), (200, True), (200, True)]


def test_a_wrong_private_key_fails_with_a_paragraph_naming_the_fix():
    emulator = TiDBCloudEmulator(rate_limit=None)
    with emulator.serve() as server, pytest.raises(AuthenticationError) as error:
        _get(_client(server, private="not-the-key"))
    message = str(error.value)
    assert message.startswith(f"TiDB Cloud members (GET {server.url}/iam/v1beta1/members) answered 401 Unauthorized")
    assert message.endswith("Check the keys.")
    assert "not-the-key" not in message
    assert _statuses(emulator) == [(401, False), (401, True)]


def test_a_stale_nonce_is_renewed_transparently():
    clock = FakeTime()
    emulator = TiDBCloudEmulator(rate_limit=None, nonce_ttl_seconds=30, time_source=clock)
    with emulator.serve() as server:
        client = _client(server)
        assert _get(client).status_code == 200
        clock.advance(31)
        assert _get(client).status_code == 200
    # the signed request with the expired nonce answers 401 stale=true, then a fresh signature passes
    assert _statuses(emulator) == [(401, False), (200, True), (401, True), (200, True)]


def test_a_429_inside_the_handshake_is_waited_out_not_taken_for_a_wrong_key():
    """requests' digest auth resends from a response hook; the 429 there must not become a 401."""
    emulator = TiDBCloudEmulator(rate_limit=1, rate_window_seconds=0.3)
    with emulator.serve() as server:
        client = _client(server)
        assert _get(client).status_code == 200  # spends the window's only request
        fresh = _client(server)  # a new client: its first request is a fresh handshake
        assert _get(fresh).status_code == 200
    statuses = _statuses(emulator)
    assert statuses[:2] == [(401, False), (200, True)]
    assert (429, True) in statuses[2:]
    assert statuses[-1] == (200, True)
    assert statuses.count((401, True)) == 0


def test_the_auth_object_survives_dlt_deep_copies_without_its_thread_state():
    auth = DigestAuth(public_key="pk", private_key="sk")
    emulator = TiDBCloudEmulator(rate_limit=None)
    with emulator.serve() as server:
        client = RESTClient(base_url=server.url + "/iam/v1beta1", auth=auth, session=build_session(QuotaLimiter("q")))
        client.get("members")  # creates requests' thread-local state inside the auth object
    clone = copy.deepcopy(auth)
    assert (clone.public_key, clone.private_key) == ("pk", "sk")
    assert "***" in repr(auth)
    assert "sk" not in repr(auth)


def test_threads_starting_together_share_one_handshake():
    """fleetlake drives requests' per-thread digest state (`HTTPDigestAuth._thread_local`) so that the
    server's challenge is shared: if requests renames or reshapes that state, each thread handshakes
    again and this count changes."""
    emulator = TiDBCloudEmulator(rate_limit=None)
    start = threading.Barrier(4)
    statuses: list[int] = []
    with emulator.serve() as server:
        client = _client(server)

        def one() -> None:
            start.wait()
            statuses.append(_get(client).status_code)

        threads = [threading.Thread(target=one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200, 200, 200, 200]
    # one challenge for the four threads, then four signed requests
    assert sorted(_statuses(emulator)) == [(200, True)] * 4 + [(401, False)]
