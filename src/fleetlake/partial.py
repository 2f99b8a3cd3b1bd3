"""A partial run: the failed resources' rows taken out of the load, and their state put back.

dlt extracts every resource of a source into one load package and moves every incremental cursor as
rows pass; it has no notion of one resource failing while the others go on. When a fleetlake resource
fails (`fleetlake.sources.guard`), its generator ends early, so the package holds some of its pages and
its cursor may have moved past them. Before the package is normalized, this module

- deletes the files of the failed resources' tables (and of the children they feed) from the extracted
  package, through dlt's own package listing (`Pipeline.get_load_package_info`), and
- puts those resources' state back as it was before the run, through `Pipeline.managed_state`, which
  saves it and extracts it into a package of its own, as dlt does for every state change.

So a failed resource contributes nothing and keeps its table and cursor as the last complete load left
them. No dlt setting or public API does this; both steps use only dlt's public methods, and
tests/test_partial.py checks that dlt still lays packages out as this expects.

A run that dies between dlt's extract and these two steps would leave the partial pages pending: a
journal in the pipeline's working folder, written when a resource fails, lets the next run finish them
first (`recover`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

from dlt.common import json
from dlt.pipeline.pipeline import Pipeline

logger = logging.getLogger("fleetlake")

JOURNAL = "fleetlake_partial_run.json"


def resource_states(pipeline: Pipeline, source_name: str) -> dict[str, Any]:
    """A copy of every resource's state of `source_name` (incremental cursors, closed months, ...)."""
    sources = pipeline.state.get("sources", {})
    return deepcopy(dict(sources.get(source_name, {}).get("resources", {})))


def take_out(pipeline: Pipeline, tables: Collection[str]) -> int:
    """Delete the files of `tables` from every extracted, not yet normalized package; returns how many."""
    removed = 0
    for load_id in pipeline.list_extracted_load_packages():
        package = pipeline.get_load_package_info(load_id)
        for job in package.jobs.get("new_jobs", []):
            if job.job_file_info.table_name in tables:
                Path(job.file_path).unlink(missing_ok=True)
                removed += 1
    return removed


def put_back(pipeline: Pipeline, source_name: str, resources: Collection[str], before: Mapping[str, Any]) -> None:
    """Restore the state of `resources` to `before` (a resource without state before loses its state)."""
    with pipeline.managed_state(extract_state=True) as state:
        source_state = state.setdefault("sources", {}).setdefault(source_name, {})
        states: dict[str, Any] = source_state.setdefault("resources", {})
        for name in resources:
            if name in before:
                states[name] = deepcopy(before[name])
            else:
                states.pop(name, None)


class Journal:
    """What to undo if the run dies before it is undone: kept in the pipeline's working folder."""

    def __init__(self, pipeline: Pipeline, source_name: str, tables: Mapping[str, str], before: Mapping[str, Any]):
        self.path = Path(pipeline.working_dir) / JOURNAL
        self.source_name = source_name
        self.tables = dict(tables)
        self.before = before
        self._lock = threading.Lock()  # resources fail in worker threads, maybe two at once

    def write(self, dropped: Collection[str]) -> None:
        """Record the resources to take out (called from worker threads as resources fail)."""
        content = {
            "source": self.source_name,
            "resources": sorted(dropped),
            "tables": sorted({self.tables.get(name, name) for name in dropped}),
            "states": {name: self.before[name] for name in dropped if name in self.before},
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a first run's working folder may not exist yet
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.typed_dumps(content), encoding="utf-8")
            partial.replace(self.path)

    def remove(self) -> None:
        """The undo is done: nothing to recover."""
        self.path.unlink(missing_ok=True)


def undo(
    pipeline: Pipeline, source_name: str, dropped: Collection[str], tables: Mapping[str, str], before: Mapping[str, Any]
) -> None:
    """Take the dropped resources' rows out of the extracted package and put their state back."""
    removed = take_out(pipeline, {tables.get(name, name) for name in dropped})
    put_back(pipeline, source_name, dropped, before)
    logger.info("partial run: took %d file(s) of %s out of the load and restored their state", removed, sorted(dropped))


def recover(pipeline: Pipeline) -> bool:
    """Finish the undo of a run that died before finishing it; True when there was one."""
    path = Path(pipeline.working_dir) / JOURNAL
    if not path.exists():
        return False
    try:
        content = json.typed_loads(path.read_text(encoding="utf-8"))
    except ValueError:
        # cut short while written: the run died before its extract could commit, nothing to undo
        path.unlink(missing_ok=True)
        return False
    resources = list(content.get("resources", []))
    removed = take_out(pipeline, set(content.get("tables", [])))
    put_back(pipeline, str(content["source"]), resources, content.get("states", {}))
    path.unlink(missing_ok=True)
    logger.warning(
        "A previous run stopped before it took its failed resources (%s) out of the load; done now (%d file(s)).",
        ", ".join(resources),
        removed,
    )
    return True


def finish_completed_packages(working_dir: Path) -> list[str]:
    """Archive load packages that dlt marked completed but did not move out of `load/normalized`.

    dlt completes a package in two steps: it writes `package_completed.json` into the package (after the
    load is recorded in the destination's `_dlt_loads`), then renames the package folder to
    `load/loaded/`. A process killed between the two leaves a finished package among the pending ones,
    and the next `load` fails with `LoadPackageAlreadyCompleted`. Its data is in the destination, so the
    rename dlt did not get to is done here. dlt has no public call for it; the folder names are dlt's
    load storage layout (tests/test_partial.py holds them to it).
    """
    normalized, loaded = working_dir / "load" / "normalized", working_dir / "load" / "loaded"
    finished = []
    for package in sorted(normalized.glob("*")):
        if (package / "package_completed.json").is_file():
            loaded.mkdir(parents=True, exist_ok=True)
            package.replace(loaded / package.name)
            finished.append(package.name)
    if finished:
        logger.warning("finished archiving load package(s) %s that a stopped run had completed", ", ".join(finished))
    return finished
