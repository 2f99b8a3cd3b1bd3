import os

import pytest


@pytest.fixture
def clean_env(tmp_path):
    """An environment without any fleetlake/dlt settings, with dlt's folders inside tmp_path."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__"))
    }
    env["DLT_DATA_DIR"] = str(tmp_path / "dlt-data")
    env["HOME"] = str(tmp_path / "home")
    return env
