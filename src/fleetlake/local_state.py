"""The pipeline's local folder (dlt's state, schemas, pending packages) belongs to one destination.

dlt keys a pipeline's folder by name only (`~/.dlt/pipelines/tidb_instance_pipeline`), so two projects
that run the same pipeline share it: the second would resume the first one's incremental cursors against
its own database (and, before fleetlake gave DuckDB absolute paths, write into the first one's file).
fleetlake writes the destination a folder last loaded into beside dlt's state; a run for another
destination sets the folder aside (renamed, never deleted) and dlt restores the state from the
destination the run names. A folder whose files cannot be read is set aside the same way.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

from fleetlake.clock import now

logger = logging.getLogger("fleetlake")

MARKER = "fleetlake_destination.json"
ASIDE = ".fleetlake-set-aside"


def _state_files(working_dir: Path) -> list[Path]:
    """dlt's files that a run reads back: the state, the schemas, and those of pending packages (loaded
    packages are history and are not read)."""
    files = [working_dir / "state.json", *sorted((working_dir / "schemas").glob("*.json"))]
    for pending in ("normalize/extracted", "load/normalized", "load/new"):
        for package in sorted((working_dir / pending).glob("*")):
            files.extend(package / name for name in ("schema.json", "load_package_state.json"))
    return [path for path in files if path.is_file()]


def unreadable_file(working_dir: Path) -> tuple[Path, str] | None:
    """The first file of dlt's that cannot be read back (state, schemas, pending packages, the trace)."""
    for path in _state_files(working_dir):
        try:
            data = path.read_bytes()
            if data or path.name == "state.json":  # dlt writes some files empty on purpose
                json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return path, f"{type(error).__name__}: {' '.join(str(error).split())[:120]}"
        except OSError as error:
            return path, error.strerror or type(error).__name__
    trace = working_dir / "trace.pickle"
    if trace.is_file():
        try:
            with trace.open("rb") as handle:
                pickle.load(handle)  # noqa: S301 (dlt's own file in the user's own folder)
        except Exception as error:  # a cut pickle raises any of several types
            return trace, f"{type(error).__name__}: {' '.join(str(error).split())[:120]}"
    return None


def set_aside(working_dir: Path, why: str) -> Path:
    """Move the folder to `<pipelines dir>/.fleetlake-set-aside/<name>-<time>` and say where."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    target = working_dir.parent / ASIDE / f"{working_dir.name}-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = working_dir.parent / ASIDE / f"{working_dir.name}-{stamp}-{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    working_dir.replace(target)
    logger.warning(
        "%s; its local folder is set aside as %s (nothing deleted) and dlt restores the pipeline's state from "
        "the destination. Delete the set-aside folder once you no longer need it.",
        why,
        target,
    )
    return target


def check_readable(working_dir: Path, pipeline_name: str) -> Path | None:
    """Set the folder aside when one of its files cannot be read; returns where it went."""
    if not working_dir.is_dir():
        return None
    problem = unreadable_file(working_dir)
    if problem is None:
        return None
    path, reason = problem
    return set_aside(working_dir, f"Pipeline {pipeline_name}'s file {path} cannot be read ({reason})")


def check_destination(working_dir: Path, pipeline_name: str, destination: str) -> Path | None:
    """Set the folder aside when it last loaded into another destination than `destination`."""
    marker = working_dir / MARKER
    try:
        remembered = json.loads(marker.read_text()).get("destination")
    except (OSError, ValueError, AttributeError):
        return None  # a folder from before fleetlake remembered destinations, or a new one
    if remembered == destination:
        return None
    return set_aside(
        working_dir,
        f"Pipeline {pipeline_name}'s local state belongs to another destination ({remembered}), not to this "
        f"run's ({destination}): another project or folder ran a pipeline of the same name. To keep projects "
        "apart for good, give each its own pipelines folder (--pipelines-dir, or DLT_DATA_DIR)",
    )


def remember(working_dir: Path, destination: str) -> None:
    """Note the destination the folder loaded into (after a load)."""
    if working_dir.is_dir():
        (working_dir / MARKER).write_text(json.dumps({"destination": destination}))
