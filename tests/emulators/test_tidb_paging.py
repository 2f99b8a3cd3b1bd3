"""Both paging styles and every host's error envelope, against the demo organization."""

from __future__ import annotations

import pytest
import requests

from tests.emulators.conftest import Running

DEDICATED_IDS = [
    "1306326926665830696",
    "1353050100898193893",
    "1303036355556290530",
    "1350605763769498762",
    "1306974464507659369",
    "1306250616920084070",
    "1336032693335043504",
]


def test_v1beta_page_numbers(demo: Running, api: requests.Session) -> None:
    url = demo.urls["base_url"] + "/api/v1beta/projects"
    pages = [api.get(url, params={"page": n, "page_size": 2}).json() for n in (1, 2, 3)]
    assert [[p["name"] for p in page["items"]] for page in pages] == [
        ["default_project", "Production"],
        ["Data Platform"],
        [],
    ]
    assert {page["total"] for page in pages} == {3}
    assert api.get(url).json()["items"][0] == {
        "id": "1324742256709536827",
        "org_id": "1331108323999242977",
        "name": "default_project",
        "cluster_count": 3,
        "user_count": 4,
        "create_timestamp": "1708341143",
        "aws_cmek_enabled": False,
        "type": "dedicated",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "invalid page 0: pages are numbered from 1"),
        ({"page_size": 101}, "invalid page_size 101: must be between 1 and 100"),
        ({"page_size": "ten"}, "invalid page_size 'ten': must be an integer"),
    ],
)
def test_v1beta_bad_paging_is_400(
    demo: Running, api: requests.Session, params: dict[str, object], message: str
) -> None:
    answer = api.get(demo.urls["base_url"] + "/api/v1beta/projects", params=params)
    assert answer.status_code == 400
    assert answer.json() == {"code": 49900002, "message": message, "details": []}


def test_v1beta1_page_tokens_end_with_an_empty_token(demo: Running, api: requests.Session) -> None:
    url = demo.urls["dedicated_base_url"] + "/clusters"
    seen, token, pages = [], None, []
    while token != "":
        params = {"pageSize": 3, **({"pageToken": token} if token else {})}
        page = api.get(url, params=params).json()
        pages.append(page)
        seen += [c["clusterId"] for c in page["clusters"]]
        token = page["nextPageToken"]
    assert [len(p["clusters"]) for p in pages] == [3, 3, 1]
    assert {p["totalSize"] for p in pages} == {7}
    assert seen == DEDICATED_IDS
    first = api.get(demo.urls["dedicated_base_url"] + "/regions", params={"pageSize": 2}).json()
    assert first["nextPageToken"] == "AAAAAAACfJ4L2ycHL1ai"
    logged = demo.emulator.requests.filter(path="/dedicated/v1beta1/clusters", authorized=True)
    assert [r.query.get("pageToken") is not None for r in logged] == [False, True, True]
    assert [r.query["pageSize"] for r in logged] == [["3"]] * 3


def test_v1beta1_page_size_clamps_and_skip(demo: Running, api: requests.Session) -> None:
    url = demo.urls["dedicated_base_url"] + "/regions/aws-us-east-1/nodeSpecs"
    clamped = api.get(url, params={"pageSize": 500}).json()
    assert (len(clamped["nodeSpecs"]), clamped["totalSize"], clamped["nextPageToken"]) == (16, 16, "")
    default = api.get(url).json()
    assert len(default["nodeSpecs"]) == 10
    assert default["nextPageToken"] != ""
    skipped = api.get(url, params={"skip": 14, "componentType": "TIKV"}).json()
    assert (skipped["nodeSpecs"], skipped["totalSize"], skipped["nextPageToken"]) == ([], 5, "")
    regions = api.get(demo.urls["dedicated_base_url"] + "/regions").json()
    assert len(regions["regions"]) == 6
    assert regions["nextPageToken"] == ""


def test_bad_or_replayed_token_is_400(demo: Running, api: requests.Session) -> None:
    url = demo.urls["dedicated_base_url"] + "/clusters"
    token = api.get(url, params={"pageSize": 2}).json()["nextPageToken"]
    for params in (
        {"pageToken": "bm90LWEtdG9rZW4"},
        {"pageToken": token, "regionIds": "aws-us-east-1"},
    ):
        answer = api.get(url, params=params)
        assert answer.status_code == 400
        assert answer.json() == {
            "code": 3,
            "message": "invalid pageToken: it was not issued for this list or these parameters",
            "details": [],
        }
    audit = api.get(demo.urls["iam_base_url"] + "/auditLogs", params={"pageToken": token})
    assert audit.json() == {
        "code": "InvalidArgument",
        "error": "invalid pageToken: it was not issued for this list or these parameters",
        "msgPrefix": "Bad Request",
        "status": 400,
    }


def test_unknown_ids_answer_404_in_each_envelope(demo: Running, api: requests.Session) -> None:
    base, project = demo.urls["base_url"], "1324742256709536827"
    serverless_id, dedicated_id = "1320471856793885566", DEDICATED_IDS[0]
    cases = [
        (
            f"{base}/api/v1beta/projects/42/clusters",
            404,
            {"code": 49900004, "message": "project 42 not found", "details": []},
        ),
        (
            f"{base}/api/v1beta/projects/{project}/clusters/{DEDICATED_IDS[-1]}",
            404,
            {
                "code": 49900004,
                "message": f"cluster {DEDICATED_IDS[-1]} not found in project {project}",
                "details": [],
            },
        ),
        (
            f"{base}/api/v1beta/projects/abc/restores",
            400,
            {"code": 49900002, "message": "invalid project_id 'abc': must be a uint64", "details": []},
        ),
        (
            f"{demo.urls['dedicated_base_url']}/clusters/{serverless_id}",
            404,
            {"code": 5, "message": f"cluster {serverless_id} not found", "details": []},
        ),
        (
            f"{demo.urls['serverless_base_url']}/clusters/{dedicated_id}/branches",
            404,
            {"code": 5, "message": f"cluster {dedicated_id} not found", "details": []},
        ),
        (
            f"{demo.urls['dedicated_base_url']}/regions/aws-mars-1/nodeSpecs",
            404,
            {"code": 5, "message": "region aws-mars-1 not found", "details": []},
        ),
        (
            f"{demo.urls['iam_base_url']}/roles",
            404,
            {
                "code": "NotFound",
                "error": "no such endpoint: /iam/v1beta1/roles",
                "msgPrefix": "Not Found",
                "status": 404,
            },
        ),
    ]
    for url, status, body in cases:
        answer = api.get(url)
        assert (answer.status_code, answer.json()) == (status, body), url


def test_backups_of_a_starter_cluster_are_400(demo: Running, api: requests.Session) -> None:
    project, starter = "1324742256709536827", "1320471856793885566"
    answer = api.get(f"{demo.urls['base_url']}/api/v1beta/projects/{project}/clusters/{starter}/backups")
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 49900002,
        "message": "backups are not supported for TiDB Cloud Starter clusters",
        "details": [],
    }


def test_filters(demo: Running, api: requests.Session) -> None:
    dedicated = demo.urls["dedicated_base_url"] + "/clusters"
    by_region = api.get(dedicated, params=[("regionIds", "aws-eu-central-1"), ("regionIds", "aws-us-west-2")]).json()
    assert [c["displayName"] for c in by_region["clusters"]] == [
        "prod-events-1",
        "dev-inventory-3",
        "analytics-catalog-5",
    ]
    by_project = api.get(dedicated, params={"projectId": "1356459594630751775", "clusterStates": "ACTIVE"}).json()
    assert by_project["totalSize"] == 3
    bad_state = api.get(dedicated, params={"clusterStates": "SLEEPING"})
    assert bad_state.status_code == 400
    assert bad_state.json()["code"] == 3
    serverless = demo.urls["serverless_base_url"] + "/clusters"
    filtered = api.get(serverless, params={"filter": 'region.name="regions/aws-eu-central-1" AND state=ACTIVE'}).json()
    assert [c["displayName"] for c in filtered["clusters"]] == ["dev-shipping-3"]
    assert api.get(serverless, params={"filter": "color=blue"}).status_code == 400
    audit = demo.urls["iam_base_url"] + "/auditLogs"
    window = api.get(audit, params={"startTime": "2025-06-14T00:00:00Z", "endTime": "2025-06-15T12:00:00Z"}).json()
    times = [entry["endTime"] for entry in window["auditLogs"]]
    assert window["totalSize"] == 21
    assert times[0] == "2025-06-14T00:00:00Z"
    assert times[-1] == "2025-06-15T12:00:00Z"
    assert times == sorted(times)
    logins = api.get(audit, params={"auditEventTypes": "Login,Logout", "pageSize": 100}).json()
    assert {e["eventType"] for e in logins["auditLogs"]} == {"Login", "Logout"}
    assert (logins["totalSize"], len(logins["auditLogs"])) == (137, 100)
    members = api.get(demo.urls["iam_base_url"] + "/members", params={"roles": "org:owner"}).json()
    assert [m["email"] for m in members["users"]] == ["fatima.anders@bluefin.dev", "dana.dubois@bluefin.dev"]
