import json
import os
from pathlib import Path

import pytest

RECORDS = pytest.StashKey[list]()
COLUMNS = ("trial", "api", "run", "phase", "k", "of", "died", "lost", "duplicated", "secrets", "seconds", "killed at")


@pytest.fixture
def crash_records(request):
    """The list each crash trial appends its summary to; printed as a table at the end of the session."""
    return request.config.stash.setdefault(RECORDS, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    records = sorted(config.stash.get(RECORDS, []), key=lambda record: record["trial"])
    if not records:
        return
    terminalreporter.section("crash recovery trials")
    terminalreporter.write_line(" | ".join(COLUMNS))
    for record in records:
        terminalreporter.write_line(" | ".join(str(record[column]) for column in COLUMNS))
    if os.environ.get("FLEETLAKE_CRASH_REPORT"):
        Path(os.environ["FLEETLAKE_CRASH_REPORT"]).write_text(json.dumps(records, indent=1, default=str))
