"""The fault suite's setups: each API's emulator with canary keys, the resources a run loads, and a
snapshot of the destination to compare runs by content."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from fleetlake import pipelines
from fleetlake.emulators.base import FaultPlan
from fleetlake.emulators.faults import Fault, parse_fault
from fleetlake.sources import REGISTRY, ApiContract, get_api
from tests.canaries import canary_emulator, canary_settings

CANARY = {name: f"canary-{name}-4e1d-do-not-leak" for name in REGISTRY}
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id")


@dataclass(frozen=True)
class Setup:
    """How the suite runs one API: its emulator with faults, its settings and the resources it loads, all
    from the API's contract and its emulator's `FAULT_PLAN`."""

    name: str

    @property
    def api(self) -> ApiContract:
        return get_api(self.name)

    @property
    def plan(self) -> FaultPlan:
        return self.api.emulator().FAULT_PLAN

    @property
    def resources(self) -> tuple[str, ...]:
        return self.plan.resources

    @property
    def dataset(self) -> str:
        return self.api.dataset_name

    @property
    def paths(self) -> dict[str, str]:
        """Where each fault family lands: `list` (a paged list), `loop` (a token or link paged list), `pk`."""
        plan = self.plan
        return {"list": plan.paged.path, "loop": plan.looping.path, "pk": plan.keyed.path, "retyped": plan.retyped.path}

    def make(self, faults: Sequence[Fault]) -> Any:
        """The API's emulator with the suite's canary key and `faults`."""
        return canary_emulator(self.name, CANARY[self.name], faults=faults)

    def settings(self, emulator: Any, url: str) -> dict[str, Any]:
        """The source settings for `emulator` at `url`."""
        return {**canary_settings(self.name, emulator, url, CANARY[self.name]), **self.plan.settings}


SETUPS = {name: Setup(name) for name in REGISTRY}


def fault(setup: Setup, text: str) -> Fault:
    """A fault from its command-line form, `{list}`, `{loop}` and `{pk}` naming the setup's paths."""
    return parse_fault(text.format(**setup.paths))


@pytest.fixture
def fault_env(monkeypatch):
    """Retries without backoff, a 1 s client timeout and DEBUG logging everywhere (secrets must not show)."""
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "DEBUG")
    for name in ("fleetlake", "dlt"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)


def load(setup: Setup, emulator: Any, url: str, workdir: Path) -> pipelines.RunReport:
    """One run of the setup's resources into workdir/<api>.duckdb, with its own pipelines folder."""
    return pipelines.run(
        get_api(setup.name),
        source_kwargs=setup.settings(emulator, url),
        resources=list(setup.resources),
        pipelines_dir=workdir / "pipelines",
        duckdb_path=workdir / f"{setup.name}.duckdb",
    )


def snapshot(database: Path, dataset: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows (dlt's bookkeeping columns left out), sorted, with a header row of names."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [dataset]
            ).fetchall()
        ]
        for name in names:
            if name.startswith("_dlt_"):
                continue
            columns = [
                row[0]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                    " ORDER BY column_name",
                    [dataset, name],
                ).fetchall()
                if row[0] not in DLT_COLUMNS
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = connection.execute(f'SELECT {quoted} FROM {dataset}."{name}"').fetchall()
            tables[name] = [tuple(columns), *sorted(rows, key=repr)]
    return tables


def loads(database: Path, dataset: str) -> int:
    """How many loads dlt recorded in the dataset."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {dataset}._dlt_loads").fetchone()[0])  # type: ignore[index]


_REFERENCES: dict[tuple[str, int], tuple[Path, dict[str, list[tuple[Any, ...]]]]] = {}


def _reference_run(tmp_path_factory: Any, api: str, days: int) -> tuple[Path, dict[str, list[tuple[Any, ...]]]]:
    """A clean run of an API at its clock plus `days`, made once per session: its folder and snapshot."""
    if (api, days) not in _REFERENCES:
        setup = SETUPS[api]
        workdir = tmp_path_factory.mktemp(f"reference-{api}-day{days}")
        emulator = setup.make([])
        emulator.clock.advance(timedelta(days=days))
        with emulator.serve() as server:
            load(setup, emulator, server.url, workdir)
        _REFERENCES[api, days] = workdir, snapshot(workdir / f"{api}.duckdb", setup.dataset)
    return _REFERENCES[api, days]


@pytest.fixture
def reference(tmp_path_factory, fault_env):
    """The snapshot of a clean run of an API, made once per session: `reference("tidb")`, or a day later
    with `reference("tidb", days=1)`."""

    def get(api: str, days: int = 0) -> dict[str, list[tuple[Any, ...]]]:
        return _reference_run(tmp_path_factory, api, days)[1]

    return get


@pytest.fixture
def loaded(tmp_path_factory, tmp_path, fault_env):
    """`loaded("tidb")` copies a clean run's folder (DuckDB file and pipeline state) into tmp_path: the
    state a day-two run starts from, without loading it again for every test."""

    def copy(api: str) -> Path:
        workdir, _ = _reference_run(tmp_path_factory, api, 0)
        shutil.copytree(workdir, tmp_path, dirs_exist_ok=True)
        return tmp_path

    return copy
