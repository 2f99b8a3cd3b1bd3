"""A destination's missing driver or setting is named in its own form, never as an API's credentials."""

from __future__ import annotations

import os

import dlt
import pytest
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.exceptions import MissingDependencyException

from fleetlake.sources import get_api
from fleetlake.troubleshoot import explain


@pytest.fixture
def no_settings(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("DESTINATION__", "SOURCES__")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _error_of(destination: str, tmp_path):
    pipeline = dlt.pipeline("messages", destination=destination, pipelines_dir=str(tmp_path / "p"))
    with pytest.raises(ConfigFieldMissingException) as raised:
        pipeline.destination_client()
    return raised.value


def test_a_filesystem_without_bucket_url_is_told_to_set_bucket_url(no_settings, tmp_path):
    message, code = explain(_error_of("filesystem", tmp_path), get_api("tidb"))
    assert code == 2
    assert message == (
        "Settings of destination filesystem are missing (bucket_url). Put them in [destination.filesystem] of "
        '.dlt/secrets.toml (bucket_url = "s3://my-bucket/fleetlake, or file:///var/lib/fleetlake for a local '
        'folder"), or set DESTINATION__FILESYSTEM__BUCKET_URL.'
    )


def test_sqlalchemy_without_credentials_gets_a_mysql_example(no_settings, tmp_path):
    message, _ = explain(_error_of("sqlalchemy", tmp_path), get_api("tidb"))
    assert message.startswith("Settings of destination sqlalchemy are missing (")
    assert 'credentials = "mysql+pymysql://root:password@127.0.0.1:3306/fleet (MariaDB, MySQL, TiDB)"' in message
    assert "TiDB Cloud credentials" not in message


def test_a_missing_driver_names_the_extra_to_install():
    error = ModuleNotFoundError("No module named 'pymysql'", name="pymysql")
    message, code = explain(error)
    assert code == 2
    assert message == (
        "A package this destination needs is not installed (pymysql). Install it with `uv sync --extra mysql` "
        "(or pip install the same into fleetlake's environment), then run again."
    )
    message, _ = explain(MissingDependencyException("filesystem destination", ["dlt[s3]"]))
    assert "Install it with `uv sync --extra s3`" in message
