"""Digest logins and the per-key quota of the TiDB Cloud emulator, over a real socket."""

from __future__ import annotations

import requests

from fleetlake.emulators.tidb_cloud import DEFAULT_PUBLIC_KEY, ApiKey, TiDBCloudEmulator
from tests.emulators.conftest import NOW, FakeTime, Running, digest_header, digest_session

PROJECTS = "/api/v1beta/projects"


def _challenge(response: requests.Response) -> dict[str, str]:
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("Digest ")
    return dict(part.strip().split("=", 1) for part in header.removeprefix("Digest ").split(","))


def test_handshake_then_preemptive_digest(demo: Running, api: requests.Session) -> None:
    first = api.get(demo.server.url + PROJECTS)
    second = api.get(demo.server.url + PROJECTS, params={"page": 1, "page_size": 2})
    assert (first.status_code, second.status_code) == (200, 200)
    assert [r.status_code for r in first.history] == [401]
    challenge = _challenge(first.history[0])
    assert challenge["realm"] == '"tidb.cloud"'
    assert challenge["qop"] == '"auth"'
    assert challenge["algorithm"] == "MD5"
    assert "stale" not in challenge
    assert first.history[0].json() == {
        "code": 49900001,
        "message": "authentication required: use HTTP Digest with your public and private key",
        "details": [],
    }
    records = demo.emulator.requests.records()
    assert [(r.status, r.authorized, r.key_id, r.server) for r in records] == [
        (401, False, None, "v1beta"),
        (200, True, DEFAULT_PUBLIC_KEY, "v1beta"),
        (200, True, DEFAULT_PUBLIC_KEY, "v1beta"),
    ]
    assert records[2].query == {"page": ["1"], "page_size": ["2"]}


def test_wrong_private_key_and_unknown_public_key(demo: Running) -> None:
    with digest_session(private="not-the-key") as wrong:
        answer = wrong.get(demo.server.url + PROJECTS)
    assert answer.status_code == 401
    assert answer.json() == {"code": 49900001, "message": "wrong key", "details": []}
    assert "stale" not in _challenge(answer)
    with digest_session(public="nobody") as unknown:
        answer = unknown.get(demo.server.url + PROJECTS)
    assert answer.json() == {"code": 49900001, "message": "public_key not found", "details": []}
    rejected = [(r.key_id, r.authorized) for r in demo.emulator.requests.records()[-4:]]
    assert rejected == [(None, False), (DEFAULT_PUBLIC_KEY, True), (None, False), (None, True)]


def test_stale_nonce_is_renewed_without_sleeping(fake_time: FakeTime) -> None:
    emulator = TiDBCloudEmulator(now=NOW, nonce_ttl_seconds=5, time_source=fake_time)
    with emulator.serve() as server, digest_session() as api:
        assert api.get(server.url + PROJECTS).status_code == 200
        fake_time.advance(4)
        assert api.get(server.url + PROJECTS).history == []
        fake_time.advance(2)
        renewed = api.get(server.url + PROJECTS)
    assert renewed.status_code == 200
    stale = renewed.history[0]
    assert stale.status_code == 401
    assert _challenge(stale)["stale"] == "true"
    assert stale.json()["message"] == "stale nonce: retry with the new nonce"
    statuses = [(r.status, r.key_id) for r in emulator.requests.records()]
    assert statuses == [
        (401, None),
        (200, DEFAULT_PUBLIC_KEY),
        (200, DEFAULT_PUBLIC_KEY),
        (401, DEFAULT_PUBLIC_KEY),
        (200, DEFAULT_PUBLIC_KEY),
    ]
    # the stale answer named a known key, so it counted: 4 of 100 used
    assert renewed.headers["X-Ratelimit-Remaining-Minute"] == "96"


def test_digest_fields_are_checked(demo: Running) -> None:
    url = demo.server.url + PROJECTS
    challenge = requests.get(url).headers["WWW-Authenticate"]
    good = digest_header(challenge, method="GET", uri=PROJECTS + "?page=1", password="fleetlake-demo-private")
    assert requests.get(url, params={"page": 1}, headers={"Authorization": good}).status_code == 200
    # the same credentials may be sent again: the nonce count need not grow
    assert requests.get(url, params={"page": 1}, headers={"Authorization": good}).status_code == 200
    other_uri = digest_header(challenge, method="GET", uri="/api/v1beta/projects?page=2")
    assert requests.get(url, params={"page": 1}, headers={"Authorization": other_uri}).status_code == 401
    no_count = digest_header(challenge, method="GET", uri=PROJECTS, omit=("nc", "cnonce"))
    rejected = requests.get(url, headers={"Authorization": no_count})
    assert (rejected.status_code, rejected.json()["message"]) == (401, "malformed digest credentials")
    forged = digest_header(challenge.replace('nonce="', 'nonce="x'), method="GET", uri=PROJECTS)
    assert requests.get(url, headers={"Authorization": forged}).json()["message"] == "wrong key"
    wrong_method = digest_header(challenge, method="POST", uri=PROJECTS)
    assert requests.get(url, headers={"Authorization": wrong_method}).status_code == 401


def test_quota_headers_and_exact_429(fake_time: FakeTime) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_window_seconds=0.5, time_source=fake_time)
    with emulator.serve() as server, digest_session() as api:
        answers = [api.get(server.url + PROJECTS) for _ in range(101)]
        fake_time.advance(0.5)
        after = api.get(server.url + "/iam/v1beta1/members")
    first, last_ok, refused = answers[0], answers[99], answers[100]
    assert first.history[0].status_code == 401
    assert "X-Ratelimit-Limit-Minute" not in first.history[0].headers
    assert [first.headers[h] for h in ("X-Ratelimit-Limit-Minute", "X-Ratelimit-Remaining-Minute")] == [
        "100",
        "99",
    ]
    assert first.headers["X-Ratelimit-Reset"] == "0.5"
    assert (last_ok.status_code, last_ok.headers["X-Ratelimit-Remaining-Minute"]) == (200, "0")
    assert refused.status_code == 429
    assert refused.content == (
        b'{"details":[],"code":49900007,"message":"The request exceeded the limit of 100 times per apikey '
        b'per minute. For more information, see the API documentation."}'
    )
    assert refused.headers["X-Ratelimit-Remaining-Minute"] == "0"
    assert "Retry-After" not in refused.headers
    # one quota for all hosts: a new window opens after 0.5 s of the fake clock
    assert (after.status_code, after.headers["X-Ratelimit-Remaining-Minute"]) == (200, "99")
    assert emulator.requests.count(status=429) == 1
    assert emulator.requests.count(status=401) == 1


def test_quota_body_names_the_configured_limit(fake_time: FakeTime) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=2, time_source=fake_time)
    with emulator.serve() as server, digest_session() as api:
        statuses = [api.get(server.url + "/dedicated/v1beta1/regions").status_code for _ in range(3)]
        refused = api.get(server.url + "/billing/v1beta1/bills/2025-06")
    assert statuses == [200, 200, 429]
    assert refused.json()["message"].startswith("The request exceeded the limit of 2 times per apikey per minute.")
    assert refused.headers["X-Ratelimit-Reset"] == "60"


def test_billing_needs_a_billing_role() -> None:
    keys = {
        "viewer": ApiKey("viewer-secret", ("org:billing_viewer",)),
        "member": ApiKey("member-secret", ("org:member", "project:readonly")),
    }
    emulator = TiDBCloudEmulator(now=NOW, keys=keys, rate_limit=None)
    with emulator.serve() as server:
        url = server.url + "/billing/v1beta1/bills/2025-06"
        with digest_session("viewer", "viewer-secret") as viewer:
            assert viewer.get(url).status_code == 200
        with digest_session("member", "member-secret") as member:
            denied = member.get(url)
            assert member.get(server.url + PROJECTS).status_code == 200
    assert denied.status_code == 403
    assert denied.json() == {
        "code": "PermissionDenied",
        "error": "the API key needs the Organization Owner, Billing Admin or Billing Viewer role to read billing",
        "msgPrefix": "Forbidden",
        "status": 403,
    }
