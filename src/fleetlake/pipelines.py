"""Builds and runs the dlt pipeline of one API for a destination, and reports what it loaded.

A run is dlt's `run` in its steps (state from the destination, pending packages first, then extract,
normalize and load), with one step of fleetlake's between extract and normalize: resources that failed
alone are taken out of the load and their state put back (`fleetlake.partial`), so the others commit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.destination.exceptions import UnknownDestinationModule
from dlt.common.destination.reference import Destination
from dlt.common.pipeline import LoadInfo, get_dlt_pipelines_dir
from dlt.common.runtime import signals
from dlt.common.runtime.collector import LogCollector
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract.source import DltSource
from dlt.pipeline.pipeline import Pipeline

from fleetlake import clock, local_state, locks, partial
from fleetlake.accounts import ACCOUNT_COLUMN, ORGANIZATION_STATE, Account, organization_to_load, tag_rows
from fleetlake.destinations import passwordless_postgres
from fleetlake.duckdb_destination import COPY_MEMORY_LIMIT, resumable_duckdb
from fleetlake.errors import ConfigurationError
from fleetlake.http import quota
from fleetlake.imports import import_before_threads
from fleetlake.outcomes import Outcome, RunOutcomes, Status, collecting, exit_code
from fleetlake.sources import ApiContract
from fleetlake.working_copy import WorkingCopy

if TYPE_CHECKING:
    from fleetlake.fleet.build import ModelReport
    from fleetlake.fleet.rules import Rule

logger = logging.getLogger("fleetlake")

DEFAULT_DESTINATION = "duckdb"
FLEET = "fleetlake"
"""The fleet's DuckDB file is `fleetlake.duckdb`: every API of `fleetlake run` (no API named), the model's."""
# files of 100,000 rows and one load job per table at a time keep a million-row load flat (349 MB before)
FILE_MAX_ITEMS = 100_000
PARALLELISM_STRATEGY = "table-sequential"


STRICT_SETTING = "fleetlake.strict"
"""`[fleetlake] strict = true` in .dlt/config.toml (or FLEETLAKE__STRICT=true): all or nothing."""
WORKING_COPY_SETTING = "fleetlake.duckdb_working_copy"
STEP_ATTRIBUTE = "fleetlake_step"
"""Set on an error that stopped a run: the step it was in (sync, extract, normalize, load)."""


@dataclass
class RunReport:
    """What a run loaded: per-table row counts in the destination, the load info, and what each
    resource came to (`outcomes`, in the API's table order)."""

    api: ApiContract
    pipeline: Pipeline
    load_info: LoadInfo
    seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)
    loaded_rows: dict[str, int] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    duckdb: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 when everything loaded, 7 for a partial run, 8 when a list may be incomplete."""
        return exit_code(self.outcomes)

    def not_loaded(self) -> list[Outcome]:
        """The outcomes that are not plainly loaded, with their reasons."""
        return [outcome for outcome in self.outcomes if outcome.status is not Status.LOADED]

    @property
    def location(self) -> str:
        """Where the data went: the DuckDB file, or the destination and its location (no secrets)."""
        if self.duckdb is not None:
            return str(self.duckdb)
        kind = self.pipeline.destination.destination_name
        try:
            location = self.pipeline.destination_client().config.data_location()
        except Exception:  # dlt cannot say for this destination
            location = None
        return f"{kind} {location}" if location else str(self.pipeline.destination.destination_description)


def duckdb_file(duckdb_path: Path | None, pipeline_name: str) -> Path:
    """The DuckDB file a run loads into, as an absolute path: `duckdb_path`, else dlt's
    `destination.duckdb.credentials` setting (DESTINATION__DUCKDB__CREDENTIALS, a path), else
    `<pipeline_name>.duckdb` in the working folder, where `dlt.pipeline(name).dataset()` finds it.

    Absolute because dlt resolves a relative path against the folder of the pipeline's *first* run (its
    `initial_cwd` in the local state): a run from another folder would write into the first one's file.
    """
    if duckdb_path is None:
        configured: Any = dlt.secrets.get("destination.duckdb.credentials")
        if not configured:
            configured = dlt.config.get("destination.duckdb.credentials")
        if isinstance(configured, Mapping):
            configured = configured.get("database")
        if isinstance(configured, str) and configured.strip() and not configured.startswith(":"):
            duckdb_path = Path(configured.strip().removeprefix("duckdb:///"))
    return (duckdb_path or Path(f"{pipeline_name}.duckdb")).expanduser().resolve()


DUCKDB_DEFAULTS: dict[str, Any] = {
    "memory_limit": COPY_MEMORY_LIMIT,  # merges raise it (duckdb_destination.py)
    "threads": 2,
}


def duckdb_global_config() -> dict[str, Any]:
    """DuckDB's settings for fleetlake's database: `DUCKDB_DEFAULTS` under what the user set the dlt way
    (`[destination.duckdb.credentials.global_config]`, DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG as
    JSON): the user's values win, key by key.

    dlt would resolve these itself, but credentials passed in explicitly win over configuration in dlt,
    and fleetlake passes them to set the file and its own defaults.
    """
    key = "destination.duckdb.credentials.global_config"
    configured: Any = dlt.secrets.get(key)
    if not configured:
        configured = dlt.config.get(key)
    if isinstance(configured, str):
        try:
            configured = json.loads(configured)
        except ValueError:
            raise ConfigurationError(
                "destination.duckdb.credentials.global_config is not a JSON object. Write it as a TOML table "
                "under [destination.duckdb.credentials.global_config] in .dlt/config.toml, or as JSON in "
                'DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG, e.g. \'{"memory_limit": "1GB"}\'.'
            ) from None
    settings = dict(DUCKDB_DEFAULTS)
    if isinstance(configured, Mapping):
        settings.update(configured)
    return settings


def resolve_destination(
    destination: str | Destination[Any, Any] | None, duckdb_path: Path | None, pipeline_name: str
) -> Any:
    """A dlt destination from a name (`duckdb`, `postgres`, `filesystem`, ...) or an instance.

    DuckDB's file is `duckdb_file(duckdb_path, pipeline_name)`.
    """
    if destination is None or destination == DEFAULT_DESTINATION:
        # DuckDB takes 80% of RAM by default and used it for merges (420 MB peak at 100k audit log rows);
        # capped, it spills to disk instead and a run stays flat as data grows
        credentials = DuckDbCredentials(
            str(duckdb_file(duckdb_path, pipeline_name)),
            global_config=duckdb_global_config(),
        )
        return resumable_duckdb(credentials)
    if not isinstance(destination, str):
        return destination
    if destination == "postgres":
        passwordless = passwordless_postgres()
        if passwordless is not None:
            return passwordless
    try:
        return Destination.from_reference(destination)
    except Exception as error:  # dlt raises several types here: unknown module, missing extra
        # dlt's own message lists every module it tried, over many lines: one line says it here
        reason = (
            "dlt knows no destination of that name"
            if isinstance(error, UnknownDestinationModule)
            else " ".join(str(error).split())[:300]
        )
        raise ConfigurationError(
            f"Destination {destination!r} could not be set up: {reason}. Set --destination to a dlt destination "
            "name such as duckdb, postgres, filesystem, bigquery, snowflake or motherduck, and install its "
            "extra (for example `uv sync --extra postgres`)."
        ) from None


def writable_folder(path: Path, *, what: str, fix: str) -> Path:
    """`path`, created if needed, or a `ConfigurationError` before any work: `what` (the option and the
    path, say) cannot be created or written, and `fix` says what to do.

    A load that fails at its end because its folder is read-only has spent a whole extraction first.
    """
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{what} is a file, not a folder. {fix}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"{what} cannot be created or written ({error.strerror or type(error).__name__}). {fix}"
        ) from None
    return path


def make_pipeline(
    api: ApiContract,
    *,
    destination: str | Destination[Any, Any] | None = None,
    dataset_name: str | None = None,
    pipelines_dir: Path | None = None,
    duckdb_path: Path | None = None,
    progress: bool = False,
    pipeline_name: str | None = None,
) -> Pipeline:
    """The API's pipeline under the names the seed pages use (e.g. `tidb_instance_pipeline`), or an
    account's own (`tidb_instance_pipeline_prod`), loading the same dataset and DuckDB file."""
    options: dict[str, Any] = {}
    if pipelines_dir is not None:
        options["pipelines_dir"] = str(pipelines_dir)
    if progress:
        options["progress"] = LogCollector(log_period=10.0, logger=sys.stderr)
    pipeline: Pipeline = dlt.pipeline(
        pipeline_name=pipeline_name or api.pipeline_name,
        destination=resolve_destination(destination, duckdb_path, api.pipeline_name),
        dataset_name=dataset_name or api.dataset_name,
        **options,
    )
    return pipeline


def check_resource_names(api: ApiContract, names: Sequence[str] | None) -> None:
    """Say which names exist when one of `names` is not a resource of the API."""
    known = list(api.resource_descriptions())
    unknown = [name for name in names or () if name not in known]
    if unknown:
        raise ConfigurationError(
            f"Unknown {api.title} resource(s): {', '.join(unknown)}. Known resources: {', '.join(known)} "
            f"(`fleetlake resources {api.name}` describes each); give --resources names from this list."
        )


def select_resources(api: ApiContract, source: DltSource, names: Sequence[str] | None) -> DltSource:
    """Keep only the named resources, or say which names exist."""
    if not names:
        return source
    check_resource_names(api, names)
    selected = list(dict.fromkeys([*names, *(c for name in names for c in api.companions.get(name, ()))]))
    return source.with_resources(*selected)


def preferred_file_format(pipeline: Pipeline) -> Any:
    """Parquet where the destination loads it: DuckDB loads parquet some 40x faster than dlt's default
    INSERT statements (measured: 172k audit log rows, 68 s of load down to 1.7 s)."""
    capabilities = pipeline.destination.capabilities()
    formats = capabilities.supported_loader_file_formats or []
    return "parquet" if "parquet" in formats else None


TABLE_FORMATS = ("delta", "iceberg", "none")
TABLE_FORMAT_EXTRAS = {"delta": ("deltalake", "deltalake"), "iceberg": ("pyiceberg", "iceberg")}


def choose_table_format(pipeline: Pipeline, source: DltSource, table_format: str | None) -> str | None:
    """The table format of a filesystem load: Delta unless `table_format` says otherwise; None elsewhere
    (and `table_format` passed on as given). Plain files (`none`) cannot merge: dlt appends instead, and
    every re-run would add the merged tables' rows again, so they are refused for a source with merges."""
    if not is_filesystem(pipeline):
        return table_format
    chosen = (table_format or "delta").lower()
    if chosen not in TABLE_FORMATS:
        raise ConfigurationError(
            f"--table-format {table_format!r} is not one fleetlake loads files in; use delta (the default), "
            "iceberg, or none (plain parquet files, for sources without merged tables)."
        )
    if chosen == "none":
        merged = [
            name for name, resource in source.selected_resources.items() if "merge" in str(resource.write_disposition)
        ]
        if merged:
            raise ConfigurationError(
                f"Plain files cannot update rows: {', '.join(merged[:4])}{' and others' if len(merged) > 4 else ''} "
                "merge on their primary keys, and on plain parquet files dlt appends instead, so every re-run "
                "would add their rows again. Load with --table-format delta (the default) or iceberg, which merge; "
                "or pick a database destination."
            )
        return None
    module, extra = TABLE_FORMAT_EXTRAS[chosen]
    try:
        __import__(module)
    except ImportError:
        raise ConfigurationError(
            f"Loading {chosen.capitalize()} tables needs the `{module}` package: install it with "
            f"`uv sync --extra {extra}` (or `pip install 'dlt[{'deltalake' if chosen == 'delta' else 'pyiceberg'}]'`),"
            " then run again; or choose another --table-format."
        ) from None
    return chosen


def is_filesystem(pipeline: Pipeline) -> bool:
    return bool(pipeline.destination.destination_type == "dlt.destinations.filesystem")


def open_table_row_counts(pipeline: Pipeline, table_format: str) -> dict[str, int]:
    """Rows per table of a Delta or Iceberg load, read with the table format's own library: DuckDB would
    download its delta or iceberg extension to read them, which fails offline."""
    counts: dict[str, int] = {}
    if table_format == "delta":
        from dlt.common.libs.deltalake import get_delta_tables

        for name, delta in get_delta_tables(pipeline).items():
            counts[name] = int(delta.to_pyarrow_dataset().count_rows())
    else:
        from dlt.common.libs.pyiceberg import get_iceberg_tables

        for name, iceberg in get_iceberg_tables(pipeline).items():
            # pyiceberg counts from the scan's plan, reading files only where deletes apply
            counts[name] = int(iceberg.scan().count())
    return counts


def table_row_counts(pipeline: Pipeline, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Rows per data table in the destination (nested child tables included)."""
    dataset = pipeline.dataset()
    relation = dataset.row_counts(data_tables=True, table_names=list(tables) if tables else None)
    return {str(name): int(count) for name, count in relation.fetchall()}


def account_row_counts(pipeline: Pipeline, account: Account, tables: Iterable[str]) -> dict[str, int]:
    """The account's own rows in each of `tables` that carries the account column: the others' rows in the
    same table are theirs to report (their runs may load side by side, before or after this one)."""
    schema = pipeline.default_schema
    tagged = [name for name in tables if ACCOUNT_COLUMN in schema.tables.get(name, {}).get("columns", {})]
    if not tagged:
        return {}
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        column = client.escape_column_name(ACCOUNT_COLUMN)
        for name in tagged:
            # the schema's own table names, escaped by the destination; the account is a parameter
            sql = f"SELECT count(*) FROM {client.make_qualified_table_name(name)} WHERE {column} = %s"  # noqa: S608
            rows = client.execute_sql(sql, account.name) or [(0,)]
            counts[name] = int(rows[0][0])
    return counts


def accounts_in(pipeline: Pipeline, table: str) -> dict[str | None, int]:
    """Rows per account in one of the pipeline's tables (None: rows of the seed pages' single key, loaded
    before the API named accounts); empty where the table or the column is not there."""
    if ACCOUNT_COLUMN not in pipeline.default_schema.tables.get(table, {}).get("columns", {}):
        return {}
    with pipeline.sql_client() as client:
        column = client.escape_column_name(ACCOUNT_COLUMN)
        name = client.make_qualified_table_name(table)
        rows = client.execute_sql(f"SELECT {column}, count(*) FROM {name} GROUP BY {column}") or []  # noqa: S608
    return {account: int(count) for account, count in rows}


def strict_setting(strict: bool | None) -> bool:
    """`strict` when given, else `[fleetlake] strict` from dlt's configuration (default false)."""
    if strict is not None:
        return strict
    value: Any = dlt.config.get(STRICT_SETTING)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ConfigurationError(
        f"`strict` in [fleetlake] (or FLEETLAKE__STRICT) is {value!r}, which is not true or false. Set it to "
        "true for all-or-nothing runs, or false (the default) to let each resource fail alone."
    )


@dataclass
class _Progress:
    """How far a run got: a load step that completed makes the DuckDB working copy worth keeping."""

    step: str = "start"
    loaded: bool = False


def _catch_up(pipeline: Pipeline, progress: _Progress) -> None:
    """What comes before a run's extract, in the destination: the state is restored from the destination
    (dlt's `sync_destination`), and what a previous run left extracted or normalized is loaded first, as
    dlt's `run` does."""
    progress.step = "sync"
    if pipeline.config.restore_from_destination and not pipeline.dev_mode:
        pipeline.sync_destination()
    if pipeline.list_extracted_load_packages():
        progress.step = "normalize"
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        progress.step = "load"
        pipeline.load()
        progress.loaded = True


def _extract(
    pipeline: Pipeline,
    source: DltSource,
    outcomes: RunOutcomes,
    file_format: Any,
    progress: _Progress,
    table_format: Any = None,
) -> None:
    """dlt's extract, with a failed resource's part taken out of the package before it is normalized.

    Touches only the pipeline's working folder: other runs load into the destination meanwhile.
    """
    before = partial.resource_states(pipeline, source.name)
    tables = {name: str(resource.table_name) for name, resource in source.resources.items()}
    journal = partial.Journal(pipeline, source.name, tables, before)
    outcomes.on_change = lambda recorded: journal.write(recorded.dropped())
    progress.step = "extract"
    pipeline.extract(source, loader_file_format=file_format, table_format=table_format)
    outcomes.settle()
    dropped = outcomes.dropped()
    if dropped:
        partial.undo(pipeline, source.name, dropped, tables, before)
    journal.remove()


def destination_identity(pipeline: Pipeline, duckdb: Path | None) -> str:
    """The destination and dataset a run loads into, as a line without secrets: `duckdb /abs/file.duckdb
    dataset tidb_instance_data`, `postgres 127.0.0.1:5432/test dataset ...`."""
    kind = pipeline.destination.destination_name
    if duckdb is not None:
        return f"duckdb {duckdb} dataset {pipeline.dataset_name}"
    try:
        location = pipeline.destination_client().config.data_location() or ""
    except ConfigurationException:
        location = ""  # dlt cannot say where this destination keeps its data
    return f"{kind} {location or pipeline.destination.destination_description} dataset {pipeline.dataset_name}"


def working_copy_setting() -> bool:
    """`[fleetlake] duckdb_working_copy = false` loads into the DuckDB file in place (no second copy on
    disk, but a failed load may leave the new load's finished tables beside the old load's others)."""
    value: Any = dlt.config.get(WORKING_COPY_SETTING)
    return value is None or str(value).strip().lower() not in ("false", "0", "no")


def run(
    api: ApiContract,
    *,
    source_kwargs: Mapping[str, Any] | None = None,
    resources: Sequence[str] | None = None,
    destination: str | Destination[Any, Any] | None = None,
    dataset_name: str | None = None,
    pipelines_dir: Path | None = None,
    duckdb_path: Path | None = None,
    progress: bool = False,
    strict: bool | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    table_format: str | None = None,
    account: Account | None = None,
) -> RunReport:
    """Extract, normalize and load one API; returns what is in the destination afterwards.

    A resource that fails alone (see `fleetlake.outcomes`) loads nothing from this run while the others
    load: the report's `outcomes` say which and why, and `exit_code` is 7. With `strict` (or
    `[fleetlake] strict = true`) the first such failure stops the run and nothing loads. Errors that
    concern every request (a refused key, an unreachable host) always stop the run: they are raised.

    One run per pipeline folder and per destination at a time (`fleetlake.locks`): with `wait` a run
    queues behind another (telling `on_wait`), without it `BusyError` says who holds it. On DuckDB the
    load becomes visible at once (`fleetlake.working_copy`).
    """
    # what needs no settings is checked first: a typo in a name is said before a missing key
    check_resource_names(api, resources)
    # files of at most 100,000 rows: one INSERT of a million-row file held it all (dlt's writer setting;
    # DATA_WRITER__FILE_MAX_ITEMS or [data_writer] file_max_items of the user's own win)
    if dlt.config.get("data_writer.file_max_items") is None:
        os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = str(FILE_MAX_ITEMS)
    # one load job per table at a time (dlt's `[load] parallelism_strategy`; the user's own wins): parallel
    # INSERTs of one table's big files each held their own buffers (a million audit log rows into DuckDB:
    # peak RSS 346 MB with dlt's 20 workers, 304 MB one at a time); different tables still load side by
    # side (an inventory of 44 small jobs: 0.7 s instead of 2 s)
    if dlt.config.get("load.parallelism_strategy") is None:
        os.environ["LOAD__PARALLELISM_STRATEGY"] = PARALLELISM_STRATEGY
    outcomes = RunOutcomes(strict=strict_setting(strict), couples=api.companions)
    is_duckdb = destination is None or destination == DEFAULT_DESTINATION
    duckdb = duckdb_file(duckdb_path, api.pipeline_name) if is_duckdb else None
    target = resolve_destination(destination, duckdb_path, api.pipeline_name)
    # an account: its own settings over the section's, its own pipeline (state, cursors), rows tagged
    settings = {**(account.settings if account else {}), **dict(source_kwargs or {})}
    name = account.pipeline_name(api) if account else api.pipeline_name
    with collecting(outcomes):
        source = select_resources(api, api.make_source(**settings), resources)
    root = Path(pipelines_dir or get_dlt_pipelines_dir()).expanduser().resolve()
    working_dir = root / name
    started_at = clock.now().isoformat(timespec="seconds")
    hold = functools.partial(locks.holding, wait=wait, started=started_at, on_wait=on_wait)
    with contextlib.ExitStack() as stack:
        stack.enter_context(hold(f"pipeline:{working_dir}", f"pipeline {name} in {root}"))
        local_state.check_readable(working_dir, name)

        def pipeline_for(where: Any) -> Pipeline:
            return make_pipeline(
                api,
                destination=where,
                dataset_name=dataset_name,
                pipelines_dir=root,
                progress=progress,
                pipeline_name=name,
            )

        pipeline = pipeline_for(target)
        identity = destination_identity(pipeline, duckdb)
        if local_state.check_destination(working_dir, name, identity):
            pipeline = pipeline_for(target)
        if duckdb is not None:
            destination_lock = (f"duckdb:{duckdb}", f"the DuckDB file {duckdb}")
        else:
            destination_lock = (f"destination:{identity}", f"dataset {pipeline.dataset_name} ({identity})")
        use_copy = duckdb is not None and working_copy_setting()

        @contextlib.contextmanager
        def in_destination(reached: _Progress) -> Iterator[tuple[Pipeline, WorkingCopy | None]]:
            """The destination for one step of the run, held by this run alone (its lock; on DuckDB a working
            copy that becomes the file when the step loaded something and ended well). Extraction runs outside
            it, so runs of other accounts and APIs load into the same database while this one waits for its
            API's quota."""
            with hold(*destination_lock):
                copy = WorkingCopy(duckdb) if use_copy and duckdb is not None else None
                bound = pipeline_for(target)
                if copy is not None:
                    copy.open(pending=bool(bound.list_normalized_load_packages()))
                    bound = pipeline_for(resolve_destination(destination, copy.path, api.pipeline_name))
                try:
                    yield bound, copy
                except BaseException:
                    if copy is not None:
                        _settle_copy(copy, bound, reached)
                    raise
                if copy is not None:
                    # a step that only read the state (a first run's sync) leaves no file behind
                    copy.commit() if reached.loaded else copy.discard()

        formatted = choose_table_format(pipeline, source, table_format)
        # Ctrl-C and SIGTERM only set a flag from here on: dlt's steps and fleetlake's workers stop at their
        # next check, and the CLI says where the run was (troubleshoot.py). Python lets only the main thread
        # set signal handlers: runs side by side (`run_side_by_side`) have theirs set there, around them all.
        if threading.current_thread() is threading.main_thread():
            stack.enter_context(signals.intercepted_signals())
        if progress:
            stack.enter_context(quota.watching(functools.partial(show_quota_wait, pipeline.collector)))
        reached = _Progress()
        started = time.perf_counter()
        try:
            file_format = "parquet" if formatted in ("delta", "iceberg") else preferred_file_format(pipeline)
            # what a previous run left unfinished in the working folder is put right first (no destination)
            partial.recover(pipeline)
            partial.finish_completed_packages(Path(pipeline.working_dir))
            # the state is read (and a previous run's load finished) in a copy too: a reader of the file
            # keeps it open read-only, and a file that cannot be read is named before anything else; the
            # copy becomes the file only where this step loaded something
            with in_destination(reached) as (bound, _):
                _catch_up(bound, reached)
            # a fresh pipeline object: the one of the step before is bound to a copy that is now the file
            pipeline = pipeline_for(target)
            if account is not None:
                # which organization the key answers for, asked before anything extracts: its id keys the rows
                known = pipeline.state.get("sources", {}).get(source.name, {}).get(ORGANIZATION_STATE)
                tag_rows(source, account, organization_to_load(api, account, settings, known))
            _extract(pipeline, source, outcomes, file_format, reached, formatted)
            signals.raise_if_signalled()
            reached = _Progress(step="normalize")
            with in_destination(reached) as (pipeline, copy):
                normalize = pipeline.normalize()
                reached.step = "load"
                load_info = pipeline.load()
                reached.loaded = True
                signals.raise_if_signalled()
                seconds = time.perf_counter() - started
                loaded = dict(normalize.row_counts) if normalize else {}
                report = RunReport(api, pipeline, load_info, seconds, loaded_rows=loaded, duckdb=duckdb)
                report.row_counts = _row_counts(pipeline, formatted, account)
        except BaseException as error:
            setattr(error, STEP_ATTRIBUTE, reached.step)  # where an interrupt found the run
            raise
        if copy is not None:
            # the report's pipeline reads the file, not the copy that is gone
            report.pipeline = pipeline_for(target)
        local_state.remember(working_dir, identity)
    selected = [name for name in api.resource_descriptions() if name in source.selected_resources]
    report.outcomes = outcomes.outcomes({name: loaded.get(name, 0) for name in selected})
    return report


QUOTA_COUNTER = "Quota wait (s)"


def show_quota_wait(collector: Any, text: str, seconds: float) -> None:
    """A quota wait in dlt's progress line: seconds waited so far, and what for ("waiting 28 s for the
    TiDB Cloud API key quota (100 requests/min)"), instead of a rate that falls to 0.00/s unexplained."""
    if isinstance(collector, LogCollector) and collector.counters is not None:  # within a step
        collector.update(QUOTA_COUNTER, inc=round(seconds), message=text)


def _row_counts(pipeline: Pipeline, table_format: str | None, account: Account | None = None) -> dict[str, int]:
    """Rows per table in the destination after a load (an account's own rows in its tables); empty (with
    a warning) where it cannot be read back."""
    try:
        if table_format in ("delta", "iceberg") and is_filesystem(pipeline):
            counts = open_table_row_counts(pipeline, table_format)
        else:
            counts = table_row_counts(pipeline)
        if account is not None:
            counts.update(account_row_counts(pipeline, account, counts))
        return counts
    except Exception as error:  # counting is a courtesy; a destination may not be readable back
        logger.warning("could not count rows in the destination (%s); the counts shown are this run's", error)
        return {}


def _settle_copy(copy: WorkingCopy, pipeline: Pipeline, reached: _Progress) -> None:
    """After a failed run: keep the copy where a load is pending in it (the next run resumes there), make
    it the file where a load completed and none is pending, else remove it."""
    try:
        pending = bool(pipeline.list_normalized_load_packages())
        if pending:
            logger.info("the unfinished load waits in %s for the next run", copy.path)
        elif reached.loaded:
            copy.commit()
        else:
            copy.discard()
    except Exception as error:  # the run's own error is the one to report
        logger.warning("could not settle the DuckDB working copy %s: %s", copy.path, error)


SIDE_BY_SIDE_SETTING = "fleetlake.side_by_side"
"""`[fleetlake] side_by_side = 8` (FLEETLAKE__SIDE_BY_SIDE): how many accounts' runs go at once."""
SIDE_BY_SIDE = 8


def side_by_side_setting() -> int:
    """`[fleetlake] side_by_side` from dlt's configuration: at least 1, `SIDE_BY_SIDE` when unset."""
    value: Any = dlt.config.get(SIDE_BY_SIDE_SETTING)
    if value is None:
        return SIDE_BY_SIDE
    try:
        count = int(str(value).strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigurationError(
            f"`side_by_side` in [fleetlake] (or FLEETLAKE__SIDE_BY_SIDE) is {value!r}; set it to a whole number of "
            f"at least 1: how many accounts load at once (default {SIDE_BY_SIDE}; 1 loads them one after another)."
        )
    return count


def run_side_by_side(jobs: Sequence[Callable[[], RunReport]], *, workers: int) -> list[RunReport | BaseException]:
    """Run each job (a `run` of one API and account) in its own thread, at most `workers` at once, and
    return what each came to in the jobs' order: its report, or the error that stopped it.

    Each account waits for its own API quota alone, so N accounts take about as long as one. Their steps
    in the destination take turns (`run` holds the destination's lock for those only). Ctrl-C and SIGTERM
    set dlt's flag here, in the main thread, and every run stops at its next check.
    """

    def attempt(job: Callable[[], RunReport]) -> RunReport | BaseException:
        try:
            return job()
        except Exception as error:  # reported by the caller, beside the others' reports
            return error

    if len(jobs) <= 1 or workers <= 1:
        return [attempt(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    # dlt asks sys.modules whether pyarrow (and pandas) are loaded without importing them: while one thread
    # imports one, another finds it half made and fails ("partially initialized module 'pyarrow'")
    import_before_threads()
    with signals.intercepted_signals(), ThreadPoolExecutor(workers, thread_name_prefix="fleetlake-run") as pool:
        return list(pool.map(attempt, jobs))


def build_model(
    destination: str | Destination[Any, Any] | None,
    *,
    duckdb_path: Path | None,
    pipelines_dir: Path | None = None,
    now: Any = None,
    sources: Mapping[str, str] | None = None,
    dataset: str = "fleet",
    rules: Sequence[Rule] | None = None,
    then: Callable[[Any, str], None] | None = None,
) -> ModelReport:
    """Build the `fleet` dataset (`fleetlake.fleet`; or `dataset`) in the destination the runs loaded,
    holding its lock; on DuckDB in `duckdb_path`'s file; from the APIs' seed datasets, or those `sources`
    maps them to; with `rules` (the bundled posture rules by default); `then` is handed the build's DuckDB and
    where the model is, at its end (`fleet.build`). Returns the build's `ModelReport`."""
    from fleetlake.fleet.build import build, model_pipeline

    is_duckdb = destination is None or destination == DEFAULT_DESTINATION
    duckdb = duckdb_file(duckdb_path, FLEET) if is_duckdb else None
    target = resolve_destination(destination, duckdb, FLEET)
    root = Path(pipelines_dir or get_dlt_pipelines_dir()).expanduser().resolve()
    if duckdb is not None and duckdb.stem == dataset:
        # DuckDB names a file's catalog after it: `fleet.duckdb` holds a catalog `fleet`, and `fleet.clusters`
        # is then ambiguous to it (schema `fleet` or catalog `fleet`), so dlt's first statement fails
        raise ConfigurationError(
            f"The DuckDB file {duckdb} has the name of the model's dataset ({dataset}): DuckDB cannot tell the "
            f"file's catalog from the dataset in `{dataset}.clusters`. Load into a file of another name (the default "
            "is fleetlake.duckdb), or rename this one."
        )
    if duckdb is not None:
        lock = (f"duckdb:{duckdb}", f"the DuckDB file {duckdb}")
        location = f"{duckdb}, dataset {dataset}"
    else:
        identity = destination_identity(model_pipeline(target, root, dataset), None)
        lock = (f"destination:{identity}", f"dataset {dataset} ({identity})")
        location = identity.replace(" dataset ", ", dataset ")
    return build(
        target,
        lock=lock,
        location=location,
        pipelines_dir=root,
        now=now,
        sources=sources,
        dataset=dataset,
        rules=rules,
        then=then,
    )
