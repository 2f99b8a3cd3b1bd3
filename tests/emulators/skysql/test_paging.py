"""Page tokens in a header on /provisioning/v1, page numbers in envelopes on /skybackup/v1, and errors."""

from __future__ import annotations

import pytest
import requests

from fleetlake.emulators.skysql import PAGE_TOKEN_HEADER
from tests.emulators.skysql.conftest import KEY_ID, SERVICE_IDS, Sky, key_session

SERVICES = "/provisioning/v1/services"
BACKUPS = "/skybackup/v1/backups"


def test_services_page_tokens_come_in_a_header_until_the_last_page(sky: Sky, sky_api: requests.Session) -> None:
    pages, token = [], None
    while True:
        answer = sky_api.get(sky.url + SERVICES, params={"page_size": 3, **({"page_token": token} if token else {})})
        pages.append(answer)
        token = answer.headers.get(PAGE_TOKEN_HEADER)
        if token is None:
            break
    assert PAGE_TOKEN_HEADER == "X-Next-Page-Token"
    assert [p.headers.get(PAGE_TOKEN_HEADER) for p in pages] == ["AAAAAAADA6gShZgzPuLt", "AAAAAAAG3MdR3BTE1dSF", None]
    assert [[s["id"] for s in p.json()] for p in pages] == [SERVICE_IDS[:3], SERVICE_IDS[3:6], SERVICE_IDS[6:]]
    records = sky.emulator.requests.filter(path=SERVICES)
    assert [r.query for r in records] == [
        {"page_size": ["3"]},
        {"page_size": ["3"], "page_token": ["AAAAAAADA6gShZgzPuLt"]},
        {"page_size": ["3"], "page_token": ["AAAAAAAG3MdR3BTE1dSF"]},
    ]
    assert {r.key_id for r in records} == {KEY_ID}
    # a page size of 100 takes everything at once, with no token
    whole = sky_api.get(sky.url + SERVICES, params={"page_size": 100})
    assert ([s["id"] for s in whole.json()], whole.headers.get(PAGE_TOKEN_HEADER)) == (SERVICE_IDS, None)
    assert len(sky_api.get(sky.url + SERVICES).json()) == 8  # the default page size is 10


def test_descending_order_and_tokens_bound_to_it(sky: Sky, sky_api: requests.Session) -> None:
    first = sky_api.get(sky.url + SERVICES, params={"page_size": 5, "page_order": "desc"})
    token = first.headers[PAGE_TOKEN_HEADER]
    rest = sky_api.get(sky.url + SERVICES, params={"page_size": 5, "page_order": "desc", "page_token": token})
    assert [s["id"] for s in first.json() + rest.json()] == SERVICE_IDS[::-1]
    created = [s["created_on"] for s in first.json()]
    assert created == sorted(created, reverse=True)
    swapped = sky_api.get(sky.url + SERVICES, params={"page_size": 5, "page_order": "asc", "page_token": token})
    assert swapped.status_code == 400
    assert swapped.json()["errors"][0]["message"] == (
        "invalid page_token: it was not issued for this list and these parameters"
    )
    other_list = sky_api.get(sky.url + "/provisioning/v1/regions", params={"page_token": token})
    assert other_list.status_code == 400


def test_page_token_mode_none_gives_no_token_and_ignores_one(sky_factory) -> None:
    sky = sky_factory(page_token_mode="none")
    with key_session() as api:
        first = api.get(sky.url + SERVICES, params={"page_size": 3})
        again = api.get(sky.url + SERVICES, params={"page_size": 3, "page_token": "AAAAAAADA6gShZgzPuLt"})
        garbage = api.get(sky.url + SERVICES, params={"page_size": 3, "page_token": "not-a-token"})
    assert PAGE_TOKEN_HEADER not in first.headers
    assert [s["id"] for s in first.json()] == [s["id"] for s in again.json()] == SERVICE_IDS[:3]
    assert garbage.status_code == 200
    counts = sky.emulator.expected_counts(page_size=3)
    assert (counts["services"], counts["regions"], counts["backup_schedules"]) == (3, 3, 5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": 0}, "invalid page_size 0: must be between 1 and 100"),
        ({"page_size": 101}, "invalid page_size 101: must be between 1 and 100"),
        ({"page_size": "ten"}, "invalid page_size 'ten': must be an integer"),
        ({"page_order": "newest"}, "invalid page_order 'newest': use asc or desc"),
        ({"page_token": "bogus"}, "invalid page_token: it was not issued for this list and these parameters"),
    ],
)
def test_bad_provisioning_paging_is_400(
    sky: Sky, sky_api: requests.Session, params: dict[str, object], message: str
) -> None:
    answer = sky_api.get(sky.url + SERVICES, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["code"], body["exception"], body["path"]) == (400, "BadRequestError", SERVICES)
    assert body["errors"][0] | {"message": message} == body["errors"][0]
    assert (body["errors"][0]["location"], body["errors"][0]["type"]) == ("query", "error")


def test_small_lists_page_too(sky: Sky, sky_api: requests.Session) -> None:
    regions = sky_api.get(sky.url + "/provisioning/v1/regions", params={"page_size": 10})
    assert len(regions.json()) == 10
    rest = sky_api.get(
        sky.url + "/provisioning/v1/regions",
        params={"page_size": 10, "page_token": regions.headers[PAGE_TOKEN_HEADER]},
    )
    assert (len(rest.json()), rest.headers.get(PAGE_TOKEN_HEADER)) == (4, None)
    gcp = sky_api.get(sky.url + "/provisioning/v1/regions", params={"provider": "gcp"}).json()
    assert [r["name"] for r in gcp] == ["us-central1", "us-east4", "europe-west1", "europe-west4", "asia-southeast1"]
    sizes = sky_api.get(sky.url + "/provisioning/v1/sizes", params={"page_size": 100, "provider": "azure"}).json()
    assert (len(sizes), sizes[0]["created_on"], sizes[0]["name"]) == (20, "2022-12-12T14:40:00Z", "sky-2x8")
    assert len(sky_api.get(sky.url + "/provisioning/v1/versions", params={"topology": "xpand"}).json()) == 1
    analytical = sky_api.get(sky.url + "/provisioning/v1/topologies", params={"service_type": "analytical"})
    assert [t["name"] for t in analytical.json()] == ["csdw", "sa"]
    configs = sky_api.get(sky.url + "/provisioning/v1/configs").json()
    with_defaults = sky_api.get(sky.url + "/provisioning/v1/configs", params={"include_default": "true"}).json()
    assert (len(configs), len(with_defaults), [c["public"] for c in with_defaults[:5]]) == (3, 8, [True] * 5)
    assert sky_api.get(sky.url + "/provisioning/v1/configs", params={"include_default": "maybe"}).status_code == 400


def test_backups_page_numbers_in_an_envelope(sky: Sky, sky_api: requests.Session) -> None:
    pages = [sky_api.get(sky.url + BACKUPS, params={"page": n, "page_size": 20}).json() for n in (1, 2, 3, 4)]
    assert [(p["backups_count"], p["pages_count"], len(p["backups"])) for p in pages] == [
        (45, 3, 20),
        (45, 3, 20),
        (45, 3, 5),
        (45, 3, 0),
    ]
    last = pages[2]["backups"][-1]
    assert (last["id"], last["start_time"], last["status"]) == (
        "9d616b7f5808b384f1acccfa16b82394:dbtgf55292207:staging-catalog-3-xpand-0",
        "2026-11-15T05:49:11Z",
        "Succeeded",
    )
    ids = [b["id"] for p in pages for b in p["backups"]]
    starts = [b["start_time"] for p in pages for b in p["backups"]]
    assert (len(set(ids)), starts) == (45, sorted(starts))
    newest_first = sky_api.get(sky.url + BACKUPS, params={"page_size": 100, "order": "desc"}).json()
    assert [b["id"] for b in newest_first["backups"]] == ids[::-1]
    clamped = sky_api.get(sky.url + BACKUPS, params={"page_size": 500}).json()
    assert (clamped["pages_count"], len(clamped["backups"])) == (1, 45)
    default = sky_api.get(sky.url + BACKUPS).json()
    assert (default["pages_count"], len(default["backups"])) == (5, 10)
    one = sky_api.get(sky.url + BACKUPS, params={"service_id": SERVICE_IDS[2], "page_size": 100}).json()
    assert (one["backups_count"], {b["service_id"] for b in one["backups"]}) == (7, {SERVICE_IDS[2]})
    assert sky_api.get(sky.url + BACKUPS, params={"service_id": "dbtgf00000000"}).json()["backups_count"] == 0
    failed = sky_api.get(sky.url + BACKUPS, params={"status": "failed"}).json()
    assert (failed["backups_count"], failed["pages_count"]) == (3, 1)
    assert {b["status"] for b in failed["backups"]} == {"Failed"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "invalid page 0: pages are numbered from 1"),
        ({"page_size": 0}, "invalid page_size 0: must be at least 1"),
        ({"order": "up"}, "invalid order 'up': use asc or desc"),
    ],
)
def test_bad_backup_paging_is_400_in_the_skybackup_envelope(
    sky: Sky, sky_api: requests.Session, params: dict[str, object], message: str
) -> None:
    answer = sky_api.get(sky.url + BACKUPS, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["errors"], body["path"], body["code"]) == (
        [{"error": "Bad Request", "message": message}],
        BACKUPS,
        400,
    )
    assert sorted(body) == ["code", "errors", "exception", "path", "timestamp", "trace_id"]


def test_schedules_need_a_service_id(sky: Sky, sky_api: requests.Session) -> None:
    url = sky.url + "/skybackup/v1/backups/schedules"
    missing = sky_api.get(url)
    assert missing.status_code == 400
    assert missing.json() == {
        "code": 400,
        "errors": [{"error": "Bad Request", "message": "service_id is required"}],
        "exception": "BadRequestError",
        "path": "/skybackup/v1/backups/schedules",
        "timestamp": 1794744000,
        "trace_id": "8d459cc1c20d3b791aec4d11c1597b9f",
    }
    short = sky_api.get(url, params={"service_id": "db"})
    assert short.json()["errors"][0]["message"] == "invalid service_id 'db': must be at least 3 characters"
    nightly = sky_api.get(url, params={"service_id": SERVICE_IDS[4]}).json()
    assert nightly == {
        "pages_count": 1,
        "schedules": [
            {
                "cloud_provider": "azure",
                "created_at": "2026-05-15T00:55:59Z",
                "id": 299,
                "labels": {"origin": "system"},
                "message": "",
                "schedule": "26 3 * * *",
                "scheduled_at": "2026-05-16T03:26:05Z",
                "service_id": SERVICE_IDS[4],
                "service_name": "dev-orders-5",
                "status": "Scheduled",
                "suspended": False,
                "type": "full",
                "updated_at": "2026-05-15T00:55:59Z",
            }
        ],
        "schedules_count": 1,
    }
    serverless = sky_api.get(url, params={"service_id": SERVICE_IDS[3]}).json()
    assert serverless == {"pages_count": 0, "schedules": [], "schedules_count": 0}
    paged = [sky_api.get(url, params={"service_id": SERVICE_IDS[5], "page_size": 2, "page": n}).json() for n in (1, 2)]
    assert [(p["schedules_count"], p["pages_count"], [s["id"] for s in p["schedules"]]) for p in paged] == [
        (3, 2, [300, 301]),
        (3, 2, [302]),
    ]


def test_restores_envelope(sky: Sky, sky_api: requests.Session) -> None:
    body = sky_api.get(sky.url + "/skybackup/v1/restores", params={"page_size": 2, "page": 2}).json()
    assert (body["restores_count"], body["pages_count"], [r["id"] for r in body["restores"]]) == (3, 2, [288])
    assert body["restores"][0] == {
        "backup_id": "dda1f7bb40cb62d41cbdc55818991434:dbtgf37828608:qa-events-6-mdb-ms-0",
        "bucket": "s3://skysql-backups-ap-southeast-1/org-6a6d5aa70fcf",
        "created_at": "2026-11-13T11:38:41Z",
        "id": 288,
        "message": "",
        "service_id": "dbtgf37828608",
        "service_name": "qa-events-6",
        "status": "Succeeded",
        "type": "physical",
    }


def test_details_credentials_unknown_paths_and_methods(sky: Sky, sky_api: requests.Session) -> None:
    detail = sky_api.get(sky.url + f"{SERVICES}/{SERVICE_IDS[0]}").json()
    assert detail == sky_api.get(sky.url + SERVICES, params={"page_size": 1}).json()[0]
    credentials = sky_api.get(sky.url + f"{SERVICES}/{SERVICE_IDS[0]}/security/credentials").json()
    assert credentials == {
        "host": "dbtgf33601273.sysp0001.db1.skysql.com",
        "password": "Flbee6e2de02ab5948487a",
        "username": "dbtgf33601273",
    }
    unknown = sky_api.get(sky.url + f"{SERVICES}/dbtgf00000000")
    assert (unknown.status_code, unknown.json()["errors"][0]["message"]) == (404, "service 'dbtgf00000000' not found")
    nowhere = sky_api.get(sky.url + "/provisioning/v2/things")
    assert (nowhere.status_code, nowhere.json()["errors"][0]["message"]) == (
        404,
        "no such endpoint: /provisioning/v2/things",
    )
    assert nowhere.json()["exception"] == "NotFoundError"
    posted = sky_api.post(sky.url + SERVICES, json={})
    assert (posted.status_code, posted.json()["code"]) == (405, 405)


def test_seed_only_endpoints_are_404_unless_served(sky: Sky, sky_api: requests.Session, sky_factory) -> None:
    for path in ("/provisioning/v1/databases", "/provisioning/v1/users"):
        answer = sky_api.get(sky.url + path)
        assert (answer.status_code, answer.json()["path"]) == (404, path)
        assert answer.json()["errors"][0]["message"] == f"no such endpoint: {path}"
    served = sky_factory(seed_only_endpoints="serve")
    with key_session() as api:
        databases = api.get(served.url + "/provisioning/v1/databases", params={"page_size": 4})
        users = api.get(served.url + "/provisioning/v1/users", params={"page_size": 100})
        one = api.get(served.url + "/provisioning/v1/databases", params={"service_id": SERVICE_IDS[1]})
    assert databases.headers[PAGE_TOKEN_HEADER] == "AAAAAAAECgOMYOlhaaqn"
    assert databases.json()[0] == {
        "id": "c9ed93f7-c826-4110-8cbb-b29d8ae96696",
        "name": "reporting",
        "service_id": SERVICE_IDS[0],
        "created_on": 1760023218,
    }
    assert users.json()[0] == {
        "id": "1c6669df-272d-4ffb-8b6f-c43e92fb5f8d",
        "username": "app_rw",
        "service_id": SERVICE_IDS[0],
        "host": "%",
        "password": "Fl5ff2bf61e07fa9c7cb19",
        "created_on": 1760026946,
    }
    assert (len(users.json()), [d["name"] for d in one.json()]) == (12, ["orders", "analytics", "audit"])
    counts = served.emulator.expected_counts()
    assert (counts["databases"], counts["users"]) == (15, 12)
