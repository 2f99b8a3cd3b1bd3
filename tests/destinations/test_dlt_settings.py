"""Each destination set the other dlt way: `[destination.<name>]` in the project's `.dlt/config.toml` and
`.dlt/secrets.toml` (the matrix sets environment variables). What the user set wins over fleetlake's own
defaults: the DuckDB file and DuckDB's memory limit and threads.

The project folder is dlt's run directory, as it is for `fleetlake run` started in that folder: the test
points dlt's run context at it and back (dlt reads `.dlt/` once per run context)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pymysql
import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from fleetlake import pipelines
from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import get_api
from tests.sources.tidb_cloud.conftest import NOW

RESOURCES = ["projects", "clusters"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder whose `.dlt/` files the test writes; dlt reads them as it reads a user's."""
    settings = tmp_path / "project" / ".dlt"
    settings.mkdir(parents=True)
    for name in list(os.environ):
        if name.startswith("DESTINATION__"):
            monkeypatch.delenv(name)
    context = Container()[PluggableRunContext]
    before = context.context.run_dir

    def write(config: str = "", secrets: str = "") -> Path:
        (settings / "config.toml").write_text(config)
        (settings / "secrets.toml").write_text(secrets)
        context.reload(str(settings.parent))
        return settings.parent

    yield write
    context.reload(before)


def load(tmp_path: Path, destination: str, dataset: str | None = None):
    api = get_api("tidb")
    emulator = api.emulator().build(EmulatorSetup(seed=3, now=NOW))
    with emulator.serve(port=0) as server:
        return pipelines.run(
            api,
            source_kwargs=emulator.source_settings(server.url),
            resources=RESOURCES,
            destination=destination,
            dataset_name=dataset,
            pipelines_dir=tmp_path / f"pipelines-{destination}",
        )


def test_duckdb_file_and_memory_settings_from_config_toml_win(project, tmp_path):
    folder = project(
        config=f"""
[destination.duckdb.credentials]
database = "{tmp_path / "chosen.duckdb"}"

[destination.duckdb.credentials.global_config]
memory_limit = "300MB"
threads = 1
"""
    )
    report = load(tmp_path, "duckdb")
    assert report.location == str(tmp_path / "chosen.duckdb")
    assert report.row_counts["projects"] == 3
    assert not (folder / "tidb_instance_pipeline.duckdb").exists()
    with report.pipeline.sql_client() as client:
        settings = client.execute_sql("SELECT current_setting('memory_limit'), current_setting('threads')")
    assert settings == [("286.1 MiB", 1)]  # DuckDB shows 300 MB in binary units


def test_duckdb_memory_setting_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", '{"memory_limit": "200MB"}')
    destination = pipelines.resolve_destination(None, tmp_path / "env.duckdb", "env_test")
    assert destination.config_params["credentials"].global_config == {"memory_limit": "200MB", "threads": 2}


def test_a_duckdb_setting_that_is_not_json_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", "memory_limit=200MB")
    with pytest.raises(pipelines.ConfigurationError) as refused:
        pipelines.resolve_destination(None, tmp_path / "env.duckdb", "env_test")
    assert str(refused.value).startswith("destination.duckdb.credentials.global_config is not a JSON object.")


def test_postgres_credentials_as_a_toml_table_without_password(project, tmp_path):
    dataset = f"fl_toml_{uuid.uuid4().hex[:8]}"
    project(
        secrets="""
[destination.postgres.credentials]
host = "127.0.0.1"
port = 5432
username = "postgres"
database = "test"
"""
    )
    try:
        report = load(tmp_path, "postgres", dataset)
        assert report.location == "postgres 127.0.0.1:5432/test"
        assert report.row_counts["projects"] == 3
        assert report.row_counts["clusters"] == 12
    finally:
        import psycopg2

        url = "postgresql://postgres@127.0.0.1:5432/test"
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            for schema in (dataset, f"{dataset}_staging"):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sqlalchemy_credentials_string_in_secrets_toml(project, tmp_path):
    dataset = f"fl_toml_{uuid.uuid4().hex[:8]}"
    project(
        secrets="""
[destination.sqlalchemy]
credentials = "mysql+pymysql://root:@127.0.0.1:3306/test"
"""
    )
    try:
        report = load(tmp_path, "sqlalchemy", dataset)
        assert report.location == "sqlalchemy mysql://127.0.0.1:3306"
        assert report.row_counts["projects"] == 3
        assert report.row_counts["clusters"] == 12
    finally:
        connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
        with connection.cursor() as cursor:
            for database in (dataset, f"{dataset}_staging"):
                cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        connection.close()


def test_filesystem_bucket_url_in_config_toml(project, tmp_path):
    lake = tmp_path / "lake"
    project(
        config=f"""
[destination.filesystem]
bucket_url = "{lake.as_uri()}"
"""
    )
    report = load(tmp_path, "filesystem")
    assert report.location == f"filesystem {lake}"
    assert report.row_counts["projects"] == 3
    assert (lake / "tidb_instance_data" / "projects" / "_delta_log").is_dir()
