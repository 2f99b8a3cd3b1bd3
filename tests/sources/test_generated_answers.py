"""Answers generated from the vendors' own response schemas, loaded by the real sources over a real socket.

For every list fleetlake reads, hypothesis (with hypothesis-jsonschema) draws an answer from the
response schema the vendor's file gives for that operation, and an emulator serves it, behind its real
authentication, to the real source. Whatever the answers hold, the run never crashes; every resource
ends loaded (its records all in the table, one row per key), failed with a one-paragraph reason (a
record without its key), skipped (its parent failed) or possibly incomplete; and no resource loses a
row because another one failed.

Why hypothesis-jsonschema rather than a mock server generated from the files: the test needs to know
what each answer held to check what landed, and to shrink a failing answer to its smallest form;
a mock server answers, but says nothing a test can compare. The drawn answers are realistic where the
files are loose on purpose: objects hold only their documented fields (a new field is the fault
suite's business), free-form maps get short identifier keys, lists hold up to four items, and the
paging fields say "last page" (paging is tested on its own). Values are drawn freely: empty strings,
odd numbers, times in the future, keys missing.

Secoda publishes no machine-readable file: its answers are drawn from the envelope and record shape
its reference pages document (secoda-api-endpoints.md), transcribed below.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fleetlake import pipelines
from fleetlake.emulators.secoda import SecodaEmulator
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from fleetlake.outcomes import Status
from fleetlake.sources import get_api
from fleetlake.sources.endpoints import Endpoint
from fleetlake.sources.secoda.settings import ENDPOINTS as SECODA_ENDPOINTS
from fleetlake.sources.skysql.settings import ENDPOINTS as SKYSQL_ENDPOINTS
from fleetlake.sources.tidb_cloud.settings import ENDPOINTS as TIDB_ENDPOINTS
from tests.sources.tidb_cloud.conftest import NOW
from tests.specs import SKYSQL_FILES, TIDB_FILES, described, operation, schema

EXAMPLES = settings(
    max_examples=int(os.environ.get("FLEETLAKE_GENERATED_EXAMPLES", "6")),
    deadline=None,
    derandomize=True,  # the same answers on every run: CI does not depend on luck
    database=None,
    suppress_health_check=list(HealthCheck),
    # each example is a whole pipeline run: shrinking a failure is for a developer's machine
    # (FLEETLAKE_GENERATED_SHRINK=1), not for CI's time budget
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([Phase.shrink] if os.environ.get("FLEETLAKE_GENERATED_SHRINK") else []),
)
TIDB_MOUNTS = {
    "base_url": "",
    "dedicated_base_url": "/dedicated/v1beta1",
    "serverless_base_url": "/serverless/v1beta1",
    "iam_base_url": "/iam/v1beta1",
    "billing_base_url": "/billing/v1beta1",
}


def realistic(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of a Swagger schema, its references inlined, drawing answers a real server could send
    (see the module's text). A definition met again inside itself (bills nest service costs in
    service costs) is cut there: an empty list, or an empty object."""
    if isinstance(node, list):
        return [realistic(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str):
        name = reference.rsplit("/", 1)[-1]
        if name in seen:
            return {"type": "object", "maxProperties": 0}
        return realistic(definitions[name], definitions, (*seen, name))
    out = {
        key: realistic(value, definitions, seen)
        for key, value in node.items()
        if key not in ("example", "definitions", "description", "title")
    }
    if out.get("type") == "array" and out.get("items") == {"type": "object", "maxProperties": 0}:
        out["maxItems"] = 0
    if out.get("type") == "object" or "properties" in out:
        if "properties" in out:
            out.setdefault("additionalProperties", False)
        elif not isinstance(out.get("additionalProperties"), dict):
            out["propertyNames"] = {"pattern": "^[a-z][a-z0-9_]{0,11}$"}
            out["maxProperties"] = 3
    if out.get("type") == "array":
        out["maxItems"] = min(int(out.get("maxItems", 4)), 4)
    return out


_STRATEGIES: dict[tuple[int, str], st.SearchStrategy[Any]] = {}


def _keyed(inlined: dict[str, Any], endpoint: Endpoint | None) -> dict[str, Any]:
    """The schema with the records' primary key fields required and non-empty, as real servers send them."""
    keyed = copy.deepcopy(inlined)
    if endpoint is None:
        return keyed
    lists = [keyed] if not endpoint.selectors else [keyed.get("properties", {}).get(k) for k in endpoint.selectors]
    for holder in lists:
        record = holder.get("items") if isinstance(holder, dict) else None
        if isinstance(record, dict) and "properties" in record:
            present = [key for key in endpoint.primary_key if key in record["properties"]]
            record["required"] = sorted({*record.get("required", []), *present})
            for key in present:
                record["properties"][key] = {"type": "string", "minLength": 1, "maxLength": 12}
        if isinstance(holder, dict) and endpoint.selectors:
            keyed.setdefault("required", [])
            keyed["required"] = sorted(
                {*keyed["required"], *(k for k in endpoint.selectors if k in keyed["properties"])}
            )
    return keyed


def strategy(wrapper: dict[str, Any], endpoint: Endpoint | None = None) -> st.SearchStrategy[Any]:
    """Answers drawn from a response schema (`tests.specs.schema`), built once per schema: half of them
    as the file allows (keys may be missing), half with every record's key present."""
    cached = (id(wrapper), endpoint.name if endpoint else "")
    if cached not in _STRATEGIES:
        inlined = realistic(wrapper, wrapper.get("definitions", {}))
        loose = from_schema(inlined, allow_x00=False, codec="utf-8")
        _STRATEGIES[cached] = st.one_of(from_schema(_keyed(inlined, endpoint), allow_x00=False, codec="utf-8"), loose)
    return _STRATEGIES[cached]


class GeneratedAnswers:
    """Answers the requests (that carry credentials) whose path matches a pattern with the current
    example's body; the others (a digest challenge, unmatched paths) go to the emulator."""

    def __init__(self, app: ASGIApp, answers: dict[str, Any], patterns: list[tuple[re.Pattern[str], str]]) -> None:
        self.app = app
        self.answers = answers
        self.patterns = patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = next((name for pattern, name in self.patterns if pattern.fullmatch(scope.get("path", ""))), None)
        has_credentials = any(key in (b"authorization", b"x-api-key") for key, _ in scope.get("headers", []))
        if scope["type"] != "http" or name is None or not has_credentials or name not in self.answers:
            await self.app(scope, receive, send)
            return
        body = json.dumps(self.answers[name]).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))


def _records(endpoint: Endpoint, body: Any) -> list[Any]:
    if endpoint.selectors is None or not endpoint.selectors:
        return body if isinstance(body, list) else []
    for key in endpoint.selectors:
        if isinstance(body, dict) and key in body:
            value = body[key]
            return value if isinstance(value, list) else [value] if value is not None else []
    return []


def _key(record: Any, endpoint: Endpoint) -> tuple[str, ...] | None:
    """The record's primary key as fleetlake loads it, or None when a part is missing."""
    if not isinstance(record, dict):
        return None
    parts = []
    for name in endpoint.primary_key:
        value = record.get(name)
        if value is None or value == "":
            return None
        parts.append(str(value) if not isinstance(value, float) else repr(value))
    return tuple(parts)


def _rows(database: Path, dataset: str, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        exists = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [dataset, table]
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        counted = connection.execute(f'SELECT count(*) FROM {dataset}."{table}"').fetchone()
        return int(counted[0]) if counted else 0


def check_outcomes(report: Any, bodies: dict[str, Any], endpoints: tuple[Endpoint, ...], title: str) -> Counter[str]:
    """Every resource's outcome is one the answers explain, and every loaded list holds all its records.

    Returns what the lists came to ("rows" for a list that loaded some), so a test can show its
    examples reached every outcome and did not all draw empty answers.
    """
    seen: Counter[str] = Counter()
    outcomes = {outcome.resource: outcome for outcome in report.outcomes}
    database = Path(report.location)
    for outcome in report.outcomes:
        assert outcome.status in set(Status), outcome
        if outcome.status in (Status.FAILED, Status.INCOMPLETE):
            assert outcome.reason.startswith(f"{title} {outcome.resource}") or outcome.status is Status.INCOMPLETE
            assert "\n" not in outcome.reason
    for endpoint in endpoints:
        if endpoint.parent is not None or endpoint.name not in bodies:
            continue
        records = _records(endpoint, bodies[endpoint.name])
        keys = [_key(record, endpoint) for record in records]
        outcome = outcomes[endpoint.name]
        stated = bodies[endpoint.name].get("total") if isinstance(bodies[endpoint.name], dict) else None
        if any(key is None for key in keys):
            assert outcome.status is Status.FAILED, (endpoint.name, outcome)
            assert "without its primary key" in outcome.reason, outcome.reason
            assert _rows(database, report.pipeline.dataset_name, endpoint.name) == 0
            seen["failed"] += 1
        elif endpoint.paging == "page" and records and isinstance(stated, int) and stated > len(records):
            # every page answers the same records while `total` says more: a loop, stopped
            assert outcome.status is Status.FAILED, (endpoint.name, outcome)
            assert "the pagination loops" in outcome.reason, outcome.reason
            seen["failed"] += 1
        else:
            assert outcome.status in (Status.LOADED, Status.INCOMPLETE), (endpoint.name, outcome, records[:2])
            distinct = len(set(keys))
            assert _rows(database, report.pipeline.dataset_name, endpoint.name) == distinct, endpoint.name
            seen["rows" if distinct else "empty"] += 1
    seen.update(f"untyped {name}" for name, outcome in outcomes.items() if "kept as text" in outcome.reason)
    return seen


def _run(api: str, settings_: dict[str, Any], workdir: Path) -> Any:
    return pipelines.run(
        get_api(api),
        source_kwargs=settings_,
        pipelines_dir=workdir / "pipelines",
        duckdb_path=workdir / f"{api}.duckdb",
    )


class Fresh:
    """A new folder per example: each draw is a first load into an empty database."""

    def __init__(self, tmp_path_factory: Any, name: str) -> None:
        self.factory = tmp_path_factory
        self.name = name

    def __call__(self) -> Path:
        return Path(self.factory.mktemp(self.name))


# --- TiDB Cloud: every list of the five hosts, from the vendor's Swagger files ---------------------


TIDB_BY_NAME = {endpoint.name: endpoint for endpoint in TIDB_ENDPOINTS}
SKYSQL_BY_NAME = {endpoint.name: endpoint for endpoint in SKYSQL_ENDPOINTS}


def _tidb_lists() -> dict[str, tuple[str, str, dict[str, Any], Callable[[Any], Any]]]:
    """name -> (method, emulator path, response schema, how its paging says "last page")."""

    def last_token_page(body: Any) -> Any:
        if isinstance(body, dict):
            body["nextPageToken"] = ""
        return body

    out = {}
    for endpoint in TIDB_ENDPOINTS:
        mount = TIDB_MOUNTS[endpoint.server]
        path = f"{mount}/{endpoint.path}"
        host = next(m for m in TIDB_FILES if path.startswith(m + "/"))
        # `-` asks across every parent (`clusters/-/tidbNodeGroups/-/...`): the file names it as a placeholder
        spelled = re.sub(r"/-(?=/)", "/{any}", path[len(host) :])
        found = operation(TIDB_FILES[host], described(host, spelled), "get")
        assert found is not None, path
        paging = last_token_page if endpoint.paging == "token" else (lambda body: body)
        out[endpoint.name] = ("get", path, schema(*found), paging)
    special = {
        "audit_logs": ("get", "/iam/v1beta1/auditLogs"),
        "bills": ("get", "/billing/v1beta1/bills/{billedMonth}"),
        "bill_details": ("get", "/billing/v1beta1/billsDetails/{billedMonth}"),
        "cost_explorer": ("post", "/billing/v1beta1/billsCostExplorer"),
    }
    for name, (method, path) in special.items():
        host = next(m for m in TIDB_FILES if path.startswith(m + "/"))
        found = operation(TIDB_FILES[host], path[len(host) :], method)
        assert found is not None, path
        out[name] = (method, path, schema(*found), last_token_page)
    return out


TIDB_LISTS = _tidb_lists()


@pytest.fixture(scope="module")
def tidb_server() -> Iterator[tuple[TiDBCloudEmulator, Any, dict[str, Any]]]:
    answers: dict[str, Any] = {}
    patterns = [(_pattern(path), name) for name, (_, path, _, _) in TIDB_LISTS.items()]
    emulator = TiDBCloudEmulator(
        now=NOW, rate_limit=None, hooks=[Middleware(GeneratedAnswers, answers=answers, patterns=patterns)]
    )
    with emulator.serve() as server:
        yield emulator, server, answers


def test_tidb_loads_whatever_its_schemas_allow(tidb_server, tmp_path_factory) -> None:
    emulator, server, answers = tidb_server
    seen: Counter[str] = Counter()

    @EXAMPLES
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        answers.clear()
        for name, (_, _, wrapper, paging) in TIDB_LISTS.items():
            answers[name] = paging(data.draw(strategy(wrapper, TIDB_BY_NAME.get(name)), label=name))
        bodies = copy.deepcopy(answers)
        settings_ = {**emulator.source_settings(server.url), "billing_months": 1}
        report = _run("tidb", settings_, Fresh(tmp_path_factory, "generated-tidb")())
        seen.update(check_outcomes(report, bodies, TIDB_ENDPOINTS, "TiDB Cloud"))

    example()
    print(f"generated answers: {dict(sorted(seen.items()))}")
    assert seen["rows"] >= 10, seen
    assert seen["failed"] >= 1, seen


# --- SkySQL: the provisioning lists, from the vendor's DPS file ----------------------------------


def _skysql_lists() -> dict[str, tuple[str, dict[str, Any]]]:
    out = {}
    for endpoint in SKYSQL_ENDPOINTS:
        path = f"/{endpoint.path}"
        if not path.startswith("/provisioning/v1/") or endpoint.optional:
            continue
        found = operation(SKYSQL_FILES["/provisioning/v1"], path, "get")
        if found is None:
            # only the vendor's reference pages list it (availability zones): no schema to generate from
            assert endpoint.name == "availability_zones", path
            continue
        out[endpoint.name] = (path, schema(*found))
    return out


SKYSQL_LISTS = _skysql_lists()


@pytest.fixture(scope="module")
def skysql_server() -> Iterator[tuple[SkySQLEmulator, Any, dict[str, Any]]]:
    answers: dict[str, Any] = {}
    patterns = [(_pattern(path), name) for name, (path, _) in SKYSQL_LISTS.items()]
    emulator = SkySQLEmulator(now=NOW, hooks=[Middleware(GeneratedAnswers, answers=answers, patterns=patterns)])
    with emulator.serve() as server:
        yield emulator, server, answers


def test_skysql_loads_whatever_its_schemas_allow(skysql_server, tmp_path_factory) -> None:
    emulator, server, answers = skysql_server
    seen: Counter[str] = Counter()

    @EXAMPLES
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        answers.clear()
        for name, (_, wrapper) in SKYSQL_LISTS.items():
            answers[name] = data.draw(strategy(wrapper, SKYSQL_BY_NAME[name]), label=name)
        bodies = copy.deepcopy(answers)
        settings_ = {**emulator.source_settings(server.url), "billing_end_month": "2026-11", "billing_months": 0}
        report = _run("skysql", settings_, Fresh(tmp_path_factory, "generated-skysql")())
        seen.update(check_outcomes(report, bodies, SKYSQL_ENDPOINTS, "SkySQL"))

    example()
    print(f"generated answers: {dict(sorted(seen.items()))}")
    assert seen["rows"] >= 10, seen
    assert seen["failed"] >= 1, seen


# --- Secoda: every plain list, from the documented envelope and record shape ----------------------

SECODA_RECORD = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": ["string", "null"]},
        "owners": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "archived": {"type": "boolean"},
        "parent": {"type": ["string", "null"]},
        "integration": {"type": ["string", "null"]},
        "external_usage": {"type": ["integer", "null"]},
        "properties": {"type": "object"},
    },
    "required": ["created_at"],
}
SECODA_LIST = {
    "type": "object",
    "properties": {
        "links": {
            "type": "object",
            "properties": {"next": {"type": "null"}, "previous": {"type": ["string", "null"]}},
            "required": ["next", "previous"],
        },
        "meta": {"type": "object", "properties": {"page": {"type": "integer"}}},
        "results": {"type": "array", "items": SECODA_RECORD},
    },
    "required": ["links", "results"],
}


def _secoda_last_page(body: Any) -> Any:
    body["count"] = len(body["results"])
    body["total_pages"] = 1
    return body


@pytest.fixture(scope="module")
def secoda_server() -> Iterator[tuple[SecodaEmulator, Any, dict[str, Any]]]:
    answers: dict[str, Any] = {}
    patterns = [
        (_pattern(f"/api/v1/{endpoint.path}".rstrip("/") + "/?"), endpoint.name) for endpoint in SECODA_ENDPOINTS
    ]
    patterns = [(re.compile(pattern.pattern.replace("/\\?", "/?")), name) for pattern, name in patterns]
    emulator = SecodaEmulator(now=NOW, hooks=[Middleware(GeneratedAnswers, answers=answers, patterns=patterns)])
    with emulator.serve() as server:
        yield emulator, server, answers


def test_secoda_loads_whatever_its_documented_shapes_allow(secoda_server, tmp_path_factory) -> None:
    emulator, server, answers = secoda_server
    seen: Counter[str] = Counter()

    @EXAMPLES
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        answers.clear()
        for endpoint in SECODA_ENDPOINTS:
            drawn = data.draw(strategy(SECODA_LIST, endpoint), label=endpoint.name)
            answers[endpoint.name] = _secoda_last_page(drawn)
        bodies = copy.deepcopy(answers)
        report = _run("secoda", emulator.source_settings(server.url), Fresh(tmp_path_factory, "generated-secoda")())
        seen.update(check_outcomes(report, bodies, SECODA_ENDPOINTS, "Secoda"))

    example()
    print(f"generated answers: {dict(sorted(seen.items()))}")
    assert seen["rows"] >= 10, seen
    assert seen["failed"] >= 1, seen
