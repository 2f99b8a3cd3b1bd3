"""Where a DuckDB run writes: always an absolute path, decided by the folder the run starts in."""

from __future__ import annotations

from pathlib import Path

from fleetlake.pipelines import duckdb_file


def test_the_file_is_the_pipelines_name_in_the_folder_the_run_starts_in(tmp_path, monkeypatch):
    monkeypatch.delenv("DESTINATION__DUCKDB__CREDENTIALS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert duckdb_file(None, "tidb_instance_pipeline") == tmp_path / "tidb_instance_pipeline.duckdb"


def test_dlts_credentials_setting_names_the_file_relative_to_that_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", "data/fleet.duckdb")
    assert duckdb_file(None, "tidb_instance_pipeline") == tmp_path / "data" / "fleet.duckdb"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", "duckdb:////srv/fleet.duckdb")
    assert duckdb_file(None, "tidb_instance_pipeline") == Path("/srv/fleet.duckdb")
    # an explicit path (demo's --dir) wins over the setting
    assert duckdb_file(Path("demo.duckdb"), "tidb_instance_pipeline") == tmp_path / "demo.duckdb"
