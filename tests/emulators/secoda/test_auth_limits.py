"""Bearer tokens, the open health check and the read and write rate limits, over a real socket."""

from __future__ import annotations

import requests

from fleetlake.emulators.secoda import DEFAULT_API_KEY, SecodaEmulator
from tests.emulators.conftest import FakeTime
from tests.emulators.secoda.conftest import NOW, Running, bearer_session

TAGS = "/tag"


def test_missing_wrong_and_malformed_tokens_are_401(demo: Running) -> None:
    url = demo.base + TAGS
    demo.emulator.requests.clear()
    answers = [
        requests.get(url),
        requests.get(url, headers={"Authorization": "Bearer not-a-token"}),
        requests.get(url, headers={"Authorization": f"Token {DEFAULT_API_KEY}"}),
        requests.get(url, headers={"Authorization": "Bearer "}),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert [a.json() for a in answers] == [
        {"detail": "Authentication credentials were not provided."},
        {"detail": "Invalid token."},
        {"detail": "Authentication credentials were not provided."},
        {"detail": "Authentication credentials were not provided."},
    ]
    assert answers[0].headers["WWW-Authenticate"] == 'Bearer realm="api"'
    records = demo.emulator.requests.records()
    assert [(r.status, r.key_id, r.authorized, r.server) for r in records] == [
        (401, None, False, "secoda"),
        (401, None, True, "secoda"),
        (401, None, True, "secoda"),
        (401, None, True, "secoda"),
    ]


def test_a_good_token_is_logged_by_key_id_never_by_token(demo: Running, api: requests.Session) -> None:
    answer = api.get(demo.base + TAGS, params={"page": 1})
    assert answer.status_code == 200
    [record] = demo.emulator.requests.records()
    assert (record.method, record.path, record.query, record.key_id) == (
        "GET",
        "/api/v1/tag",
        {"page": ["1"]},
        "fleetlake-demo",
    )
    assert DEFAULT_API_KEY not in str(demo.emulator.requests.summary())


def test_healthcheck_needs_no_token_and_unknown_paths_answer_in_the_envelope(
    demo: Running, api: requests.Session
) -> None:
    for url in (demo.server.url + "/healthcheck", demo.base + "/healthcheck", demo.base + "/healthcheck/"):
        answer = requests.get(url)
        assert (answer.status_code, answer.json()) == (200, {"status": "OK"})
    missing = api.get(demo.base + "/nothing/here/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    wrong_method = api.delete(demo.base + "/resource/catalog")
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"detail": "Method not allowed."})


def test_thirty_writes_a_minute_then_429_with_retry_after(fake_time: FakeTime) -> None:
    emulator = SecodaEmulator(now=NOW, time_source=fake_time)
    with emulator.serve() as server, bearer_session() as api:
        url = emulator.base_url(server.url) + "/tag/"
        created = [api.post(url, json={"name": f"tag {n}"}) for n in range(30)]
        fake_time.advance(20.5)
        refused = api.post(url, json={"name": "one too many"})
        # reads are not limited by default and do not use up the write quota
        reads = [api.get(url).status_code for _ in range(40)]
        fake_time.advance(39.5)
        again = api.post(url, json={"name": "next minute"})
    assert {a.status_code for a in created} == {201}
    assert created[0].json()["name"] == "tag 0"
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"
    assert refused.json() == {"detail": "Request was throttled. Expected available in 40 seconds."}
    assert set(reads) == {200}
    assert again.status_code == 201
    statuses = [(r.method, r.status) for r in emulator.requests.records() if r.method == "POST"]
    assert statuses == [("POST", 201)] * 30 + [("POST", 429), ("POST", 201)]


def test_patch_counts_as_a_write_and_is_echoed_not_stored(fake_time: FakeTime) -> None:
    emulator = SecodaEmulator(now=NOW, write_limit=2, time_source=fake_time)
    with emulator.serve() as server, bearer_session() as api:
        base = emulator.base_url(server.url)
        resource_id = api.get(base + "/resource/catalog").json()["results"][0]["id"]
        patched = api.patch(f"{base}/resource/all/{resource_id}/", json={"description": "new words"})
        rejected = api.patch(f"{base}/resource/all/{resource_id}", json={"colour": "red"})
        limited = api.patch(f"{base}/resource/all/{resource_id}", json={"description": "third"})
        after = api.get(f"{base}/resource/all/{resource_id}")
    assert patched.status_code == 200
    assert patched.json()["description"] == "new words"
    assert patched.json()["updated_at"] == "2026-11-15T12:00:00.000000Z"
    assert rejected.status_code == 400
    assert rejected.json()["detail"].startswith("unknown fields ['colour']")
    assert limited.status_code == 429
    assert after.json()["description"] == "Refund rate, by week."


def test_optional_read_limit_with_a_compressed_window(fake_time: FakeTime) -> None:
    emulator = SecodaEmulator(now=NOW, rate_limit=3, rate_window_seconds=0.5, time_source=fake_time)
    with emulator.serve() as server, bearer_session() as api:
        url = emulator.base_url(server.url) + "/user"
        first = [api.get(url).status_code for _ in range(3)]
        fake_time.advance(0.125)
        refused = api.get(url)
        unknown = requests.get(url, headers={"Authorization": "Bearer nobody"})
        fake_time.advance(0.375)
        renewed = api.get(url)
    assert first == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "0.375"
    assert refused.json() == {"detail": "Request was throttled. Expected available in 1 second."}
    # an unknown token is refused before any quota is charged
    assert unknown.status_code == 401
    assert renewed.status_code == 200


def test_configured_retry_after_and_keys(fake_time: FakeTime) -> None:
    emulator = SecodaEmulator(
        now=NOW,
        rate_limit=1,
        retry_after_seconds=2.5,
        keys={"token-a": "key-a", "token-b": "key-b"},
        time_source=fake_time,
    )
    assert emulator.source_settings("http://127.0.0.1:9") == {
        "api_key": "token-a",
        "base_url": "http://127.0.0.1:9/api/v1",
    }
    with emulator.serve() as server, bearer_session("token-a") as a, bearer_session("token-b") as b:
        url = emulator.base_url(server.url) + "/tag"
        answers = [
            a.get(url),
            a.get(url),
            b.get(url),
            requests.get(url, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}),
        ]
    assert [x.status_code for x in answers] == [200, 429, 200, 401]
    assert answers[1].headers["Retry-After"] == "2.5"
    assert answers[1].json() == {"detail": "Request was throttled. Expected available in 3 seconds."}
    assert [r.key_id for r in emulator.requests.records()] == ["key-a", "key-a", "key-b", None]
