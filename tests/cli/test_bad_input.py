"""Every bad input answers one paragraph naming the setting and the fix, an exact exit code, no traceback
and no secret, from `fleetlake run`, `check` and `demo` of each API, each in its own process.

Nothing here leaves the machine: base URLs that are not under test point at a closed loopback port, a
"wrong base URL" is a loopback server answering 404 to everything, and an unresolvable host is under
`.invalid` (RFC 6761: it never resolves, and fails at once offline).

Forty fresh `python -m fleetlake` processes would spend some 100 s importing dlt, pandas and pyarrow. A
runner process imports fleetlake once and forks one child per case, all at once: each child is its own
process with its own environment, working folder, stdout, stderr and exit code, as `python -m fleetlake`
would be (`test_a_forked_case_answers_as_a_fresh_process` holds the two to the same output).
"""

import functools
import json
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import REGISTRY, get_api
from tests.cli.test_end_to_end import fleetlake
from tests.conftest import clean_environ

HINT = "(run with --debug for the full traceback)"

T, S, C = "SOURCES__TIDB_INSTANCE_SOURCE__", "SOURCES__SKYSQL_SOURCE__", "SOURCES__SECODA_SOURCE__"
TITLES = {name: api.title for name, api in REGISTRY.items()}


def _env_name(api: str, setting: str) -> str:
    return f"SOURCES__{get_api(api).section.upper()}__{setting.upper()}"


# well-formed keys for every secret of every API; the tokens after the prefix must never be printed,
# whole or malformed
KEYS = {
    _env_name(name, secret): f"fl-{name}-{index}-Tok{index}x{number}"
    for number, (name, api) in enumerate(REGISTRY.items())
    for index, secret in enumerate(api.secret_settings)
}
SECRET_TOKENS = (*(key.rsplit("-", 1)[1] for key in KEYS.values()), "Q7xK2m", "W9rT4v", "H3nB8c", "J5dL1p")
NO_BACKOFF = {"RUNTIME__REQUEST_BACKOFF_FACTOR": "0"}  # `run` retries 6 times: without waits between them

RUNNER = r"""
import json, os, sys, traceback

from fleetlake.cli import main
from fleetlake.sources import REGISTRY

# what a fresh process would import on its way to the error, imported once for every child
for api in REGISTRY.values():
    api.source(), api.emulator()

jobs = json.load(sys.stdin)
sys.stdout.flush(), sys.stderr.flush()
children = {}
for name, job in jobs.items():
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
                os.close(target)
            try:
                main(job["args"])
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)
    children[pid] = name
codes = {}
for _ in children:
    pid, status = os.wait()
    codes[children[pid]] = os.waitstatus_to_exitcode(status)
print(json.dumps(codes))
"""


@dataclass(frozen=True)
class Case:
    """One bad input: the command line, the settings, and the answer expected.

    Text may hold `{served}` (the 404 server's URL), `{closed}` / `{closed_host}` (the closed port) and
    `{file}` (a regular file); `None` in `env` removes a setting.
    """

    kind: str
    api: str
    args: tuple[str, ...]
    env: dict[str, str | None]
    code: int
    start: str  # the paragraph's first words, as the README's troubleshooting table shows them
    setting: str
    fix: str
    cwd: str | None = None
    probes: bool = False  # `check` prints a FAIL line for each of its probes before the paragraph

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.api}-{self.args[0]}"


def _urls(api: str, url: str) -> dict[str, str | None]:
    return {_env_name(api, name): url for name in get_api(api).url_settings}


def _key_case(api: str, command: str, setting: str, value: str, wrong: str) -> Case:
    section = get_api(api).section
    env_name = f"SOURCES__{section.upper()}__{setting.upper()}"
    where = f"`{setting}` in [sources.{section}] (or {env_name})"
    if value:
        start, fix = f"{where} contains {wrong} ({len(value)} characters in all);", "Copy the key again"
    else:
        start, fix = f"{where} is empty.", "Set it to the API key"
    return Case("malformed_key", api, (command, api), {env_name: value}, 2, start, env_name, fix)


def _not_the_api(api: str) -> Case:
    title, section = TITLES[api], get_api(api).section
    start = f"`base_url` in [sources.{section}] is '{{served}}': a server answers there, but not as the {title} API"
    fix = f"Set it to the {title} API's address"
    return Case("wrong_base_url", api, ("check", api), _urls(api, "{served}"), 4, start, "`base_url`", fix, probes=True)


def _refused_check(api: str) -> Case:
    start = (
        f"`base_url` in [sources.{get_api(api).section}] is '{{closed}}', and {{closed_host}} refused the connection "
        "(nothing listens on that port)."
    )
    return Case("unreachable", api, ("check", api), _urls(api, "{closed}"), 6, start, "`base_url`",
                "Check the host and port", probes=True)  # fmt: skip


def _every_api() -> list[Case]:
    """The bad inputs every API answers the same way, for every API in the registry."""
    cases = []
    for number, (name, api) in enumerate(REGISTRY.items()):
        section, secrets = api.section, api.secret_settings
        command = ("check", "run")[number % 2]
        cases += [
            Case("missing_credentials", name, (command, name), {_env_name(name, s): None for s in secrets}, 2,
                 f"{api.title} credentials are missing ({', '.join(secrets)}).", _env_name(name, secrets[0]),
                 ".dlt/secrets.toml"),
            _not_the_api(name),
            Case("not_a_url", name, ("check", name), {_env_name(name, "base_url"): "htp:/x"}, 2,
                 f"`base_url` in [sources.{section}] is 'htp:/x', which is not an http(s) URL.", "`base_url`",
                 "Set it to the API's address"),
            Case("plain_http", name, ("run", name), {_env_name(name, "base_url"): f"http://{name}.example.com/v1"}, 2,
                 f"`base_url` in [sources.{section}] is 'http://{name}.example.com/v1': plain http:// is only "
                 "allowed for loopback hosts", "`base_url`", f"Use https://{name}.example.com/v1 instead"),
            Case("unknown_resource", name, ("run", name, "-r", "nosuch"), {}, 2,
                 f"Unknown {api.title} resource(s): nosuch. Known resources: {next(iter(api.resource_descriptions()))}",
                 "--resources", f"`fleetlake resources {name}` describes each"),
            Case("unknown_destination", name, ("run", name, "-d", "nosuch"), {}, 2,
                 "Destination 'nosuch' could not be set up: dlt knows no destination of that name.", "--destination",
                 "such as duckdb, postgres"),
            _refused_check(name),
        ]  # fmt: skip
    return cases


CASES = [
    # 2. a malformed key
    _key_case("tidb", "run", "public_key", "fl-pub Q7xK2m", "a space or tab"),
    _key_case("tidb", "check", "private_key", "fl-priv-W9rT4v\n", "a line break at its end"),
    _key_case("skysql", "check", "api_key", "fl-sky-\x07H3nB8c", "a non-printable (control) character"),
    _key_case("skysql", "run", "api_key", "", ""),
    _key_case("secoda", "run", "api_key", "fl-sec-J5dL1p\t", "a space or tab at its start or end"),
    _key_case("secoda", "check", "api_key", "fl-sec-J5dL1p\u201d", "a character outside ASCII"),
    # 3. a wrong base URL: not a URL at all (every API also gets the generic cases of `_every_api`)
    Case("not_a_url", "tidb", ("run", "tidb"), {f"{T}DEDICATED_BASE_URL": "htp:/x"}, 2,
         "`dedicated_base_url` in [sources.tidb_instance_source] is 'htp:/x', which is not an http(s) URL.",
         "`dedicated_base_url`", "Set it to the API's address"),
    Case("not_a_url", "secoda", ("run", "secoda"), {f"{C}BASE_URL": "https://secoda example.com/api/v1"}, 2,
         "`base_url` in [sources.secoda_source] is 'https://secoda example.com/api/v1', which contains a space",
         "`base_url`", "Set it to the API's address without them"),
    # 4. http:// to a host that is not this machine
    Case("plain_http", "tidb", ("check", "tidb"), {f"{T}IAM_BASE_URL": "http://iam.tidbapi.com/v1beta1"}, 2,
         "`iam_base_url` in [sources.tidb_instance_source] is 'http://iam.tidbapi.com/v1beta1': plain http:// is "
         "only allowed for loopback hosts", "`iam_base_url`", "Use https://iam.tidbapi.com/v1beta1 instead"),
    # 7. a malformed billing month (Secoda has none)
    Case("malformed_month", "tidb", ("run", "tidb"), {f"{T}BILLING_END_MONTH": "2026-13"}, 2,
         "billing_end_month in [sources.tidb_instance_source] is '2026-13', which is not a month.",
         "billing_end_month", "Use the form YYYY-MM"),
    Case("malformed_month", "skysql", ("run", "skysql"), {f"{S}BILLING_END_MONTH": "nov"}, 2,
         "billing_end_month in [sources.skysql_source] is 'nov', which is not a month.",
         "billing_end_month", "Use the form YYYY-MM"),
    Case("malformed_months", "tidb", ("run", "tidb"), {f"{T}BILLING_MONTHS": "six"}, 2,
         "The setting `billing_months` is 'six', which is not a whole number.", f"{T}BILLING_MONTHS",
         "to a whole number, or remove it"),
    # 8. an output path that cannot be written
    Case("unwritable", "all", ("demo", "--dir", "/proc/x"), {}, 2,
         "--dir /proc/x cannot be created or written (No such file or directory).", "--dir",
         "Set --dir to a folder you can write to"),
    Case("unwritable", "secoda", ("demo", "secoda", "--dir", "{file}/demo"), {}, 2,
         "--dir {file}/demo cannot be created or written (Not a directory).", "--dir",
         "Set --dir to a folder you can write to"),
    Case("unwritable", "tidb", ("run", "tidb", "--pipelines-dir", "/proc/x"), {}, 2,
         "--pipelines-dir /proc/x cannot be created or written", "--pipelines-dir",
         "Set --pipelines-dir to a folder you can write to"),
    Case("unwritable", "skysql", ("run", "skysql"), {}, 2,
         "The current folder /proc, where run writes skysql_pipeline.duckdb, cannot be created or written",
         "skysql_pipeline.duckdb", "Run fleetlake from a folder you can write to", cwd="/proc"),
    Case("unwritable", "secoda", ("run", "secoda", "--pipelines-dir", "{file}"), {}, 2,
         "--pipelines-dir {file} is a file, not a folder.", "--pipelines-dir",
         "Set --pipelines-dir to a folder you can write to"),
    # 9. an unreachable host: a closed loopback port, a name that does not resolve
    Case("unreachable", "skysql", ("run", "skysql", "-r", "services"), {**_urls("skysql", "{closed}"), **NO_BACKOFF},
         6, "{closed_host} refused the connection (nothing listens on that port). `base_url` in "
         "[sources.skysql_source] points there.", "`base_url`", "Check the host and port"),
    Case("unresolvable", "tidb", ("run", "tidb", "-r", "projects"),
         {f"{T}BASE_URL": "https://tidb.fleetlake-test.invalid", **NO_BACKOFF}, 6,
         "tidb.fleetlake-test.invalid is a host name that does not resolve (DNS). `base_url` in "
         "[sources.tidb_instance_source] points there.", "`base_url`", "Check the host name's spelling"),
    Case("unresolvable", "skysql", ("check", "skysql"), {f"{S}BASE_URL": "https://skysql.fleetlake-test.invalid"}, 6,
         "`base_url` in [sources.skysql_source] is 'https://skysql.fleetlake-test.invalid', and "
         "skysql.fleetlake-test.invalid is a host name that does not resolve (DNS).", "`base_url`",
         "Check the host name's spelling", probes=True),
    Case("unresolvable", "secoda", ("run", "secoda", "-r", "document"),
         {f"{C}BASE_URL": "https://secoda.fleetlake-test.invalid/api/v1", **NO_BACKOFF}, 6,
         "secoda.fleetlake-test.invalid is a host name that does not resolve (DNS). `base_url` in "
         "[sources.secoda_source] points there.", "`base_url`", "Check the host name's spelling"),
]  # fmt: skip
CASES += _every_api()

DEBUG = Case("debug", "tidb", ("--debug", "run", "tidb", "-r", "nosuch"), {}, 2,
             "Unknown TiDB Cloud resource(s): nosuch.", "--resources", "describes each")  # fmt: skip
FRESH = next(c for c in CASES if c.id == "missing_credentials-skysql-run")  # also run in a fresh process


@functools.cache
def check_probes(api: str) -> int:
    """How many requests `fleetlake check <api>` makes: its check run once against the API's emulator."""
    contract = get_api(api)
    emulator = contract.emulator().build(EmulatorSetup())
    with emulator.serve() as server, pytest.MonkeyPatch.context() as patch:
        for setting, value in emulator.source_settings(server.url).items():
            patch.setenv(_env_name(api, setting), str(value))
        results = contract.check()
    assert all(result.ok for result in results), [result.message for result in results]
    return len(results)


@dataclass
class Answers:
    places: dict[str, str]
    codes: dict[str, int]
    folders: dict[str, Path] = field(default_factory=dict)

    def of(self, case: Case) -> tuple[int, str, str]:
        folder = self.folders[case.id]
        return self.codes[case.id], (folder / "stdout").read_text(), (folder / "stderr").read_text()


class NotTheApi(BaseHTTPRequestHandler):
    """A web server, not the API: 404 and an HTML page for every path."""

    def _answer(self):
        body = b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815  # the names http.server dispatches to

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def not_the_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotTheApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def closed_port():
    """A loopback port bound but not listening: connecting is refused, and nothing else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _environment(case: Case, folder: Path, places: dict[str, str]) -> dict[str, str]:
    # every server not under test is the closed port: a case that got past its check would fail as
    # unreachable (exit 6), never reach the internet
    env = {**clean_environ(folder), **KEYS}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(proxy, None)  # loopback and .invalid are asked directly, as offline
    for api in REGISTRY:
        env.update({name: str(url).format(**places) for name, url in _urls(api, "{closed}").items()})
    for name, value in case.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value.format(**places)
    return env


@pytest.fixture(scope="module")
def answers(tmp_path_factory, not_the_api, closed_port):
    root = tmp_path_factory.mktemp("bad-input")
    (root / "a-file").write_text("not a folder\n")
    places = {
        "served": not_the_api,
        "closed": f"http://127.0.0.1:{closed_port}",
        "closed_host": f"127.0.0.1:{closed_port}",
        "file": str(root / "a-file"),
    }
    jobs, folders = {}, {}
    for case in [*CASES, DEBUG]:
        folder = folders[case.id] = root / case.id
        folder.mkdir()
        jobs[case.id] = {
            "args": [arg.format(**places) for arg in case.args],
            "env": _environment(case, folder, places),
            "cwd": case.cwd or str(folder),
            "stdout": str(folder / "stdout"),
            "stderr": str(folder / "stderr"),
        }
    runner = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=clean_environ(root),
        cwd=root,
        timeout=120,
    )
    assert runner.returncode == 0, runner.stderr
    return Answers(places, json.loads(runner.stdout), folders)


def test_the_cases_cover_every_bad_input_for_every_api():
    covered = {(case.kind, case.api, case.args[0]) for case in CASES}
    assert len(covered) == len(CASES)  # no case twice
    kinds = {case.kind for case in CASES}
    assert kinds == {
        "missing_credentials", "malformed_key", "wrong_base_url", "not_a_url", "plain_http", "unknown_resource",
        "unknown_destination", "malformed_month", "malformed_months", "unwritable", "unreachable", "unresolvable",
    }  # fmt: skip
    for kind in kinds - {"malformed_key", "malformed_month", "malformed_months", "unwritable", "unresolvable"}:
        assert {case.api for case in CASES if case.kind == kind} == set(REGISTRY), kind
    assert {case.api for case in CASES if case.kind == "malformed_key"} >= {"tidb", "skysql", "secoda"}
    assert {case.args[0] for case in CASES if case.kind == "unwritable"} == {"demo", "run"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_answers_one_paragraph_naming_the_setting_and_the_fix(case, answers):
    code, stdout, stderr = answers.of(case)
    start, setting, fix = (text.format(**answers.places) for text in (case.start, case.setting, case.fix))
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    paragraph, hint = lines
    assert paragraph.startswith(f"error: {start}"), paragraph
    assert hint == HINT
    assert setting in paragraph
    assert fix in paragraph
    assert code == case.code, stderr
    if case.probes:
        # `check` lists every server it asked, and the paragraph says how many failed
        probes = check_probes(case.api)
        assert [line[:5] for line in stdout.splitlines()[::2]] == ["FAIL "] * probes
        assert paragraph.endswith(f"({probes} of {probes} {TITLES[case.api]} checks failed; each is listed above.)")
    else:
        assert stdout == ""
    assert "Traceback" not in stdout + stderr
    for token in SECRET_TOKENS:
        assert token not in stdout + stderr


def test_debug_shows_the_traceback_and_the_same_paragraph(answers):
    code, stdout, stderr = answers.of(DEBUG)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("Traceback (most recent call last):\n")
    assert "fleetlake.errors.ConfigurationError: Unknown TiDB Cloud resource(s): nosuch." in stderr
    assert stderr.splitlines()[-1].startswith("error: Unknown TiDB Cloud resource(s): nosuch. Known resources:")
    assert HINT not in stderr


def test_a_forked_case_answers_as_a_fresh_process(answers, tmp_path):
    forked = answers.of(FRESH)
    fresh = fleetlake(*FRESH.args, env=_environment(FRESH, tmp_path, answers.places), cwd=tmp_path, timeout=60)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == forked
