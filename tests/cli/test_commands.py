"""Commands that need no server: listing resources and refusing bad input with one paragraph."""

import signal
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from fleetlake.cli import cli
from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import REGISTRY
from fleetlake.sources.tidb_cloud.source import resource_descriptions
from tests.sources.tidb_cloud.conftest import NOW


def test_resources_lists_every_table_with_a_description():
    result = CliRunner().invoke(cli, ["resources", "tidb"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 35
    assert [line.split()[0] for line in lines] == list(resource_descriptions())
    assert lines[0].startswith("projects")
    assert "Projects of the organization" in lines[0]


def test_unknown_api_is_refused_by_the_parser():
    result = CliRunner().invoke(cli, ["resources", "oracle"])
    assert result.exit_code == 2
    known = ", ".join(f"'{name}'" for name in [*REGISTRY, "fleet"])
    assert f"Invalid value for 'API': 'oracle' is not one of {known}" in result.output


def _fleetlake(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "fleetlake", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_missing_credentials_answer_one_paragraph_without_traceback(tmp_path, clean_env):
    result = _fleetlake("run", "tidb", env=clean_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "TiDB Cloud credentials are missing (public_key, private_key)" in result.stderr
    assert "[sources.tidb_instance_source]" in result.stderr
    assert "SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY" in result.stderr
    assert "fleetlake demo tidb" in result.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path, clean_env):
    env = {
        **clean_env,
        "SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY": "pk",
        "SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY": "sk",
        "SOURCES__TIDB_INSTANCE_SOURCE__IAM_BASE_URL": "http://iam.tidbapi.com/v1beta1",
    }
    result = _fleetlake("run", "tidb", "--resources", "members", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "`iam_base_url` in [sources.tidb_instance_source] is 'http://iam.tidbapi.com/v1beta1'" in result.stderr
    assert "https://iam.tidbapi.com/v1beta1" in result.stderr
    assert "sk" not in result.stderr.replace("task", "")


def test_unknown_resource_lists_the_known_ones(tmp_path, clean_env):
    env = {
        **clean_env,
        "SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY": "pk",
        "SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY": "sk",
    }
    result = _fleetlake("run", "tidb", "--resources", "clusters,wombats", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Unknown TiDB Cloud resource(s): wombats. Known resources: projects, clusters," in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_destination_is_named(tmp_path, clean_env):
    env = {
        **clean_env,
        "SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY": "pk",
        "SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY": "sk",
    }
    result = _fleetlake("run", "tidb", "--destination", "nosuchdb", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Destination 'nosuchdb' could not be set up" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_destination_credentials_name_the_destination(tmp_path, clean_env):
    env = {
        **clean_env,
        "SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY": "pk",
        "SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY": "sk",
    }
    result = _fleetlake("run", "tidb", "--destination", "postgres", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: Settings of destination postgres are missing (database, password, username, host)"
    )
    assert "DESTINATION__POSTGRES__CREDENTIALS" in result.stderr
    assert "Traceback" not in result.stderr


def test_emulator_options_must_be_name_value_pairs_the_emulator_knows(tmp_path, clean_env):
    malformed = _fleetlake("emulate", "skysql", "--port", "0", "-o", "page_token_mode", env=clean_env, cwd=tmp_path)
    assert malformed.returncode == 2
    assert "--option 'page_token_mode' is not NAME=VALUE" in malformed.stderr
    unknown = _fleetlake("emulate", "secoda", "--port", "0", "-o", "colour=blue", env=clean_env, cwd=tmp_path)
    assert unknown.returncode == 2
    assert "The Secoda emulator refused its options:" in unknown.stderr
    assert "'colour'" in unknown.stderr
    assert "Traceback" not in malformed.stderr + unknown.stderr


@pytest.mark.parametrize("name", ["secrets.toml", "config.toml"])
def test_a_toml_syntax_error_names_the_file_line_and_column_never_the_values(tmp_path, clean_env, name):
    (tmp_path / ".dlt").mkdir()
    text = '[sources.tidb_instance_source]\npublic_key = "pub-toml-canary"\nprivate_key = "priv-toml-canary\n'
    (tmp_path / ".dlt" / name).write_text(text)
    result = _fleetlake("run", "tidb", env=clean_env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"error: .dlt/{name} is not valid TOML: Illegal character '\\n' (at line 3, column 32)." in result.stderr
    assert "fleetlake does not show the values in the file" in result.stderr
    assert "toml-canary" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("api", list(REGISTRY))
def test_every_api_has_its_emulator_and_resources_on_the_command_line(api, tmp_path):
    """`fleetlake emulate <api>` serves and prints exactly the settings its source needs; `fleetlake resources
    <api>` lists the contract's tables: for every API in the registry, the test-only one included."""
    contract = REGISTRY[api]
    listed = _fleetlake("resources", api, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(contract.resource_descriptions())
    command = [sys.executable, "-m", "fleetlake", "emulate", api, "--port", "0", "--now", "2026-11-15T12:00:00Z"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"{contract.title} emulator on http://127.0.0.1:")
        url = first.split(" on ")[1].split()[0]
        lines = []
        while not lines or not lines[-1].startswith("advance its clock"):
            lines.append(process.stdout.readline().strip())
        exports = [line.split("=", 1)[0].removeprefix("export ") for line in lines if line.startswith("export ")]
        expected = contract.emulator().build(EmulatorSetup(now=NOW)).source_settings(url)
        assert exports == [f"SOURCES__{contract.section.upper()}__{name.upper()}" for name in expected]
        assert requests.get(url + "/_emulator/health", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
