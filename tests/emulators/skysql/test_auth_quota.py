"""API keys, the organization header and the per-key quota of the SkySQL emulator, over a real socket."""

from __future__ import annotations

import json

import pytest
import requests

from fleetlake.emulators.skysql import DEFAULT_API_KEY, SkySQLEmulator
from tests.emulators.conftest import FakeTime
from tests.emulators.skysql.conftest import KEY_ID, NOW, ORG_ID, Sky, key_session

SERVICES = "/provisioning/v1/services"


def test_missing_key_is_401_in_the_provisioning_envelope(sky: Sky) -> None:
    sky.emulator.requests.clear()
    answer = requests.get(sky.url + SERVICES)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": 401,
        "errors": [
            {
                "error": "Unauthorized",
                "location": "header",
                "message": "API key is missing",
                "metadata": {},
                "solution": "send a valid API key in the X-API-Key header",
                "type": "error",
            }
        ],
        "exception": "UnauthorizedError",
        "metadata": {},
        "path": SERVICES,
        "timestamp": 1794744000,
        "trace_id": "cc7323dd4306d7db1652e0ab0d6a036d",
    }
    assert "Retry-After" not in answer.headers
    record = sky.emulator.requests.records()[-1]
    assert (record.status, record.key_id, record.authorized, record.server) == (401, None, False, "provisioning")


def test_wrong_key_is_401_in_each_hosts_envelope_and_never_echoed(sky: Sky) -> None:
    sky.emulator.requests.clear()
    secret = "sk-wrong-0123456789"
    with key_session(secret) as wrong:
        backups = wrong.get(sky.url + "/skybackup/v1/backups")
        account = wrong.get(sky.url + "/billing/v1/account")
        projects = wrong.get(sky.url + "/organization/v1/projects")
    assert backups.json() == {
        "code": 401,
        "errors": [{"error": "Unauthorized", "message": "invalid API key"}],
        "exception": "UnauthorizedError",
        "path": "/skybackup/v1/backups",
        "timestamp": 1794744000,
        "trace_id": "5ab651530a06b187b4606d6f9d76ecc1",
    }
    assert account.json() == {
        "code": 401,
        "err": "Unauthorized",
        "exception": "UnauthorizedError",
        "location": "header",
        "message": "invalid API key",
        "metadata": [{"key": "trace_id", "value": "44f9eeb35745fbcffbedcd9dedcdff3e"}],
        "solution": "send a valid API key in the X-API-Key header",
        "type": "error",
    }
    assert projects.json()["errors"][0]["message"] == "invalid API key"
    records = sky.emulator.requests.records()
    assert [(r.status, r.key_id, r.authorized, r.server) for r in records] == [
        (401, None, True, "skybackup"),
        (401, None, True, "billing"),
        (401, None, True, "organization"),
    ]
    log = json.dumps(sky.emulator.requests.summary())
    for text in (backups.text, account.text, projects.text, log):
        assert secret not in text
        assert DEFAULT_API_KEY not in text


def test_good_key_is_logged_by_its_fingerprint(sky: Sky, sky_api: requests.Session) -> None:
    answer = sky_api.get(sky.url + SERVICES, params={"page_size": 1})
    assert answer.status_code == 200
    record = sky.emulator.requests.records()[-1]
    assert (record.key_id, record.authorized, record.query) == (KEY_ID, True, {"page_size": ["1"]})
    assert DEFAULT_API_KEY not in json.dumps(sky.emulator.requests.summary())
    assert not [h for h in answer.headers if h.lower().startswith("x-ratelimit")]


def test_org_header_must_name_the_keys_org(sky: Sky) -> None:
    sky.emulator.requests.clear()
    with key_session(**{"X-MDB-Org": ORG_ID}) as right:
        assert right.get(sky.url + SERVICES).status_code == 200
    with key_session(**{"X-MDB-Org": "org-someone-else"}) as wrong:
        refused = wrong.get(sky.url + SERVICES)
    assert refused.status_code == 403
    assert refused.json() == {
        "code": 403,
        "errors": [
            {
                "error": "Forbidden",
                "location": "header",
                "message": "the organization in X-MDB-Org is not the organization of this API key",
                "metadata": {},
                "solution": "send the organization id of your API key in X-MDB-Org, or leave the header out",
                "type": "error",
            }
        ],
        "exception": "ForbiddenError",
        "metadata": {},
        "path": SERVICES,
        "timestamp": 1794744000,
        "trace_id": "fbb47dc823daa528cd5f1e3e02d4edb6",
    }
    assert [(r.status, r.key_id) for r in sky.emulator.requests.records()] == [(200, KEY_ID), (403, KEY_ID)]


def test_each_key_answers_for_its_own_org(sky_factory) -> None:
    sky = sky_factory(keys={"key-a": "org-a", "key-b": "org-b"})
    with key_session("key-b", **{"X-MDB-Org": "org-b"}) as b, key_session("key-a") as a:
        assert b.get(sky.url + "/billing/v1/account").json()["organization_id"] == "org-b"
        assert a.get(sky.url + "/billing/v1/account").json()["organization_id"] == "org-a"
        assert b.get(sky.url + "/organization/v1/users").json()[0]["org_id"] == "org-b"
        assert a.get(sky.url + SERVICES, headers={"X-MDB-Org": "org-b"}).status_code == 403
    assert sky.emulator.source_settings(sky.server.url) == {
        "api_key": "key-a",
        "base_url": sky.server.url,
        "billing_end_month": "2026-11",
    }


def test_429_with_retry_after_until_the_window_resets(sky_factory, fake_time: FakeTime) -> None:
    sky = sky_factory(rate_limit=3, time_source=fake_time)
    with key_session() as api:
        answers = [api.get(sky.url + SERVICES) for _ in range(4)]
        assert requests.get(sky.url + SERVICES).status_code == 401  # unknown callers use no quota
        fake_time.advance(59.5)
        still = api.get(sky.url + "/skybackup/v1/backups")
        fake_time.advance(0.5)
        again = api.get(sky.url + SERVICES)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[3]
    assert refused.headers["Retry-After"] == "60"
    assert refused.json() == {
        "code": 429,
        "errors": [
            {
                "error": "Too Many Requests",
                "location": "header",
                "message": "rate limit exceeded: 3 requests per 60 seconds per API key",
                "metadata": {},
                "solution": "wait for the number of seconds in the Retry-After header, then retry",
                "type": "error",
            }
        ],
        "exception": "TooManyRequestsError",
        "metadata": {},
        "path": SERVICES,
        "timestamp": 1794744000,
        "trace_id": "24a2bfaad789bff8eb192d5f83553c98",
    }
    assert (still.status_code, still.headers["Retry-After"]) == (429, "1")
    assert still.json()["errors"] == [
        {"error": "Too Many Requests", "message": "rate limit exceeded: 3 requests per 60 seconds per API key"}
    ]
    assert again.status_code == 200
    assert not [h for a in (*answers, again) for h in a.headers if h.lower().startswith("x-ratelimit")]
    assert [r.status for r in sky.emulator.requests.records()] == [200, 200, 200, 429, 401, 429, 200]


def test_compressed_window_and_fixed_retry_after(sky_factory, fake_time: FakeTime) -> None:
    fast = sky_factory(rate_limit=2, rate_window_seconds=0.5, time_source=fake_time)
    fixed = sky_factory(rate_limit=1, retry_after_seconds=7, time_source=fake_time)
    with key_session() as api:
        [api.get(fast.url + SERVICES) for _ in range(2)]
        fake_time.advance(0.25)
        compressed = api.get(fast.url + SERVICES)
        api.get(fixed.url + SERVICES)
        constant = api.get(fixed.url + SERVICES)
    assert (compressed.status_code, compressed.headers["Retry-After"]) == (429, "0.25")
    assert compressed.json()["errors"][0]["message"] == ("rate limit exceeded: 2 requests per 0.5 seconds per API key")
    assert (constant.status_code, constant.headers["Retry-After"]) == (429, "7")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": "huge"}, "unknown scale 'huge'"),
        ({"page_token_mode": "cookie"}, "unknown page_token_mode 'cookie'"),
        ({"seed_only_endpoints": "yes"}, "unknown seed_only_endpoints 'yes'"),
        ({"keys": {}}, "at least one API key"),
        ({"retry_after_seconds": -1}, "must not be negative"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SkySQLEmulator(now=NOW, **options)
