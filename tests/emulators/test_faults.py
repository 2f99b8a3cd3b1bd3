"""The emulators' fault injection, on the wire: what each fault answers, when it starts and stops,
and `fleetlake emulate --fault` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from fleetlake.emulators.faults import Fault, FaultSpecError, parse_fault
from fleetlake.emulators.secoda import SecodaEmulator
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.emulators.conftest import digest_session

KEY = "fault-test-key"
SERVICES = "/provisioning/v1/services"


def skysql(*faults: Fault) -> SkySQLEmulator:
    return SkySQLEmulator(keys={KEY: "org-faults"}, faults=faults)


def get(url: str, **params: object) -> requests.Response:
    return requests.get(url, params=params, headers={"X-API-Key": KEY}, timeout=10)


def test_the_command_line_form_reads_every_option():
    fault = parse_fault("503@/provisioning/v1/*,after=2,times=forever")
    assert (fault.kind, fault.path, fault.after, fault.times) == ("503", "/provisioning/v1/*", 2, None)
    assert parse_fault("html,status=200,seconds=0.5").status == 200
    assert parse_fault("no-pk@*/tag,field=uuid").field_name == "uuid"
    # bursts and storms have their own default length
    assert [parse_fault(kind).times for kind in ("500", "429", "reset", "revoke")] == [3, 5, 1, None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("teapot", "unknown fault kind 'teapot'"),
        ("503,after", "needs the form name=value"),
        ("503,after=two", "is not a number"),
        ("503,color=red", "unknown fault option 'color'"),
        ("503,times=0", "times must be 1 or more"),
    ],
)
def test_a_fault_that_cannot_be_read_says_why(text, message):
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(text)


def test_a_fault_starts_after_its_count_and_stops_after_its_times(serve):
    fault = parse_fault(f"503@{SERVICES},after=2,times=2")
    emulator = skysql(fault)
    server = serve(emulator)
    # unauthenticated requests are not API calls: they neither count nor play
    assert requests.get(server.url + SERVICES, timeout=10).status_code == 401
    statuses = [get(server.url + SERVICES).status_code for _ in range(5)]
    assert statuses == [200, 200, 503, 503, 200]
    # other paths never match
    assert get(server.url + "/provisioning/v1/regions").status_code == 200
    assert fault.fired == 2
    assert emulator.requests.count(path=SERVICES, status=503) == 2


def test_status_faults_answer_in_the_vendors_envelope(serve):
    server = serve(skysql(parse_fault("502")))
    answer = get(server.url + SERVICES)
    assert answer.status_code == 502
    assert answer.json()["errors"][0]["message"] == f"injected fault: {SERVICES}"


def test_a_429_storm_carries_the_vendors_headers_and_body(serve):
    emulator = TiDBCloudEmulator(faults=[parse_fault("429,times=2,seconds=7")])
    server = serve(emulator)
    session = digest_session()
    answers = [session.get(server.url + "/api/v1beta/projects", timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json()["code"] == 49900007
    assert answers[0].headers["X-Ratelimit-Remaining-Minute"] == "0"
    assert answers[0].headers["X-Ratelimit-Reset"] == "7"
    assert "Retry-After" not in answers[0].headers  # TiDB Cloud sends none


def test_a_skysql_429_says_retry_after(serve):
    server = serve(skysql(parse_fault("429,times=1,seconds=3")))
    answer = get(server.url + SERVICES)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")


def test_a_reset_drops_the_connection_halfway_through_the_body(serve):
    server = serve(skysql(parse_fault(f"reset@{SERVICES}")))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(server.url + SERVICES)
    assert get(server.url + SERVICES).status_code == 200


@pytest.mark.parametrize(("kind", "status", "content_type"), [("html", 502, "text/html"), ("truncate", 200, "json")])
def test_broken_bodies(serve, kind, status, content_type):
    server = serve(skysql(parse_fault(f"{kind}@{SERVICES}")))
    answer = get(server.url + SERVICES)
    assert answer.status_code == status
    assert content_type in answer.headers["Content-Type"]
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()
    clean = get(server.url + SERVICES)
    if kind == "truncate":
        assert answer.content == clean.content[: len(clean.content) // 2]


def test_drift_adds_a_field_and_changes_a_type(serve):
    server = serve(
        skysql(parse_fault(f"new-field@{SERVICES},field=tier2"), parse_fault(f"type-change@{SERVICES},field=nodes"))
    )
    services = get(server.url + SERVICES).json()
    assert [s["tier2"] for s in services][:2] == [
        "added by the API after the schema was first loaded (0)",
        "added by the API after the schema was first loaded (1)",
    ]
    regions = get(server.url + "/provisioning/v1/regions").json()
    assert "tier2" not in regions[0]
    # the first fault is spent: the next request to its path is the second fault's
    changed = get(server.url + SERVICES).json()
    assert changed[0]["nodes"] == f"{services[0]['nodes']} (was a number)"


def test_no_pk_removes_the_key_of_the_first_record_only(serve):
    server = serve(skysql(parse_fault(f"no-pk@{SERVICES}")))
    services = get(server.url + SERVICES).json()
    assert "id" not in services[0]
    assert all("id" in s for s in services[1:])


def test_a_revoked_key_is_refused_from_then_on(serve):
    server = serve(skysql(parse_fault("revoke,after=1")))
    statuses = [get(server.url + path).status_code for path in (SERVICES, SERVICES, "/provisioning/v1/regions")]
    assert statuses == [200, 401, 401]


def test_a_loop_answers_the_token_it_was_asked_with(serve):
    fault = parse_fault(f"loop@{SERVICES}")
    server = serve(skysql(fault))
    first = get(server.url + SERVICES, page_size=3)
    token = first.headers["X-Next-Page-Token"]
    # the first page has no token to repeat: the fault waits for a page that has one
    assert fault.fired == 0
    second = get(server.url + SERVICES, page_size=3, page_token=token)
    assert second.headers["X-Next-Page-Token"] == token
    assert fault.fired == 1


def test_an_empty_page_carries_a_fresh_token_that_resumes_where_it_was(serve):
    server = serve(skysql(parse_fault(f"empty-page@{SERVICES},after=1")))
    first = get(server.url + SERVICES, page_size=3)
    empty = get(server.url + SERVICES, page_size=3, page_token=first.headers["X-Next-Page-Token"])
    assert empty.json() == []
    assert empty.headers["X-Next-Page-Token"] != first.headers["X-Next-Page-Token"]
    resumed = get(server.url + SERVICES, page_size=3, page_token=empty.headers["X-Next-Page-Token"])
    clean = get(server.url + SERVICES, page_size=6).json()
    assert first.json() + resumed.json() == clean


def test_emulate_exposes_faults_on_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "fleetlake", "emulate", "skysql", "--port", "0", "-f", f"503@{SERVICES}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(11)]
        url = lines[0].split(" on ")[1].split(" ")[0]
        key = next(line.split('"')[1] for line in lines if "api_key = " in line)
        assert f"fault: 503 on {SERVICES}, after 0 request(s), 3 time(s)\n" in lines
        statuses = [requests.get(url + SERVICES, headers={"X-API-Key": key}, timeout=10).status_code for _ in range(4)]
        assert statuses == [503, 503, 503, 200]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_emulate_refuses_a_fault_it_cannot_read():
    result = subprocess.run(
        [sys.executable, "-m", "fleetlake", "emulate", "tidb", "-f", "503,after=x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--fault: fault option 'after=x' in '503,after=x' is not a number" in result.stderr
    assert "Traceback" not in result.stderr


def test_secoda_faults_answer_as_django_rest_framework_does(serve):
    faults = [parse_fault("503@*/tag"), parse_fault("429@*/user,seconds=2"), parse_fault("revoke@*/document/")]
    server = serve(SecodaEmulator(keys={KEY: "faults"}, faults=faults))
    headers = {"Authorization": f"Bearer {KEY}"}
    unavailable = requests.get(server.url + "/api/v1/tag", headers=headers, timeout=10)
    assert (unavailable.status_code, unavailable.json()) == (503, {"detail": "injected fault: /api/v1/tag"})
    throttled = requests.get(server.url + "/api/v1/user", headers=headers, timeout=10)
    assert throttled.status_code == 429
    assert throttled.json() == {"detail": "Request was throttled. Expected available in 2 seconds."}
    assert throttled.headers["Retry-After"] == "2"
    revoked = requests.get(server.url + "/api/v1/document/", headers=headers, timeout=10)
    assert (revoked.status_code, revoked.json()) == (401, {"detail": "Invalid token."})
    assert revoked.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_body_fault_waits_for_an_answer_it_can_change(serve):
    # regions have no `nodes`: the fault is not spent on them, and plays on the services list
    fault = parse_fault("type-change,field=nodes")
    server = serve(skysql(fault))
    regions = get(server.url + "/provisioning/v1/regions").json()
    assert fault.fired == 0
    assert all("nodes" not in region for region in regions)
    services = get(server.url + SERVICES).json()
    assert fault.fired == 1
    assert str(services[0]["nodes"]).endswith("(was a number)")


@pytest.mark.parametrize(("text", "message"), [("html,status=0", "status must be an HTTP status"),
                                               ("slow,seconds=inf", "seconds must be a number 0 or more")])  # fmt: skip
def test_a_fault_option_out_of_range_is_refused(text, message):
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(text)
