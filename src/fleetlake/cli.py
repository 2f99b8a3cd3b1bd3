"""The command line: demo, run, check, emulate, resources. Thin: the work lives in pipelines/sources.

This module imports only click and the registry (`fleetlake --help` and `fleetlake resources` answer in a
fraction of a second); dlt, the emulators and the pipeline runner are imported by the commands that use
them (`tests/test_imports.py` holds the CLI to that).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fleetlake import __version__
from fleetlake.errors import ConfigurationError, FleetlakeError, env_variable
from fleetlake.imports import keep_pandas_out
from fleetlake.outcomes import PARTIAL_EXIT, Status
from fleetlake.sources import REGISTRY, ApiContract, get_api

if TYPE_CHECKING:
    from fleetlake.accounts import Account
    from fleetlake.pipelines import RunReport
    from fleetlake.sources.checks import CheckResult

F = TypeVar("F", bound=Callable[..., Any])
API_NAMES = list(REGISTRY)  # registry order: TiDB Cloud, SkySQL, Secoda, then installed ones


def explain(error: BaseException, api: ApiContract | None = None) -> tuple[str, int]:
    """`fleetlake.troubleshoot.explain`, imported when there is something to explain."""
    from fleetlake.troubleshoot import explain as explained

    return explained(error, api)


def _terminate(signal_code: int, _: Any) -> None:
    """SIGTERM as Ctrl-C: the run stops where it is and says so (exit 143), instead of dying without a word.
    Inside a run dlt's handler takes over and only sets a flag that its steps and fleetlake's workers check."""
    from dlt.common.exceptions import SignalReceivedException

    raise SignalReceivedException(signal_code)


def _configure_logging(level: str, explicit: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("fleetlake").setLevel(level)
    # dlt reads its own level from the runtime configuration; its default warnings are about schema
    # inference (columns that stayed null), so they show only when a level is asked for
    if explicit:
        os.environ["RUNTIME__LOG_LEVEL"] = level
    else:
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    # dlt reports anonymous usage to dltHub by default; a loader of audit trails and bills should not
    # call anyone its user did not name (offline, it also waits on DNS). RUNTIME__DLTHUB_TELEMETRY=true opts in
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


class FleetlakeGroup(click.Group):
    """Renders every failure as one paragraph and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM (see `_terminate`)
            message, code = explain(error)
            click.echo(f"error: {message}", err=True)
            ctx.exit(code)
        except Exception as error:
            debug = bool(ctx.obj and ctx.obj.get("debug"))
            if debug:
                traceback.print_exc()
            api = ctx.obj.get("api") if ctx.obj else None
            message, code = explain(error, api)
            # one paragraph, whatever line breaks a wrapped library's message carried
            click.echo(f"error: {' '.join(message.split())}", err=True)
            if not debug:
                click.echo("(run with --debug for the full traceback)", err=True)
            ctx.exit(code)


LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)


def common_options(func: F) -> F:
    """`--debug` and `--log-level` after the command too (`fleetlake run tidb --debug`), as before it."""

    def set_debug(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)["debug"] = True

    def set_level(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
        if value:
            _configure_logging(value.upper(), explicit=True)

    func = click.option(
        "--debug", is_flag=True, expose_value=False, callback=set_debug, help="Show full tracebacks on errors."
    )(func)
    return click.option(
        "--log-level",
        type=LOG_LEVELS,
        default=None,
        expose_value=False,
        callback=set_level,
        help="Logging level of fleetlake and dlt (default WARNING; secrets are never logged).",
    )(func)


def api_argument(func: F, *, required: bool = True) -> F:
    """The API name argument, shared by every command that acts on one API."""

    def remember(ctx: click.Context, _: click.Parameter, value: str | None) -> ApiContract | None:
        if value is None:
            return None
        spec = get_api(value)
        ctx.ensure_object(dict)["api"] = spec
        return spec

    metavar = "API" if required else "[API]"
    argument = click.argument(
        "api", type=click.Choice(API_NAMES), metavar=metavar, required=required, callback=remember
    )
    return argument(func)


def optional_api_argument(func: F) -> F:
    """The API name, or none for every configured API."""
    return api_argument(func, required=False)


def destination_options(func: F) -> F:
    """Where to load: any dlt destination, DuckDB by default, and the dataset."""
    func = click.option(
        "--dataset",
        "dataset_name",
        default=None,
        help="Dataset (schema) name; default: the seed page's name.",
    )(func)
    return destination_option(func)


def destination_option(func: F) -> F:
    """Any dlt destination, DuckDB by default."""
    return click.option(
        "--destination",
        "-d",
        default="duckdb",
        show_default=True,
        help="Any dlt destination name: duckdb, postgres, filesystem, bigquery, snowflake, ...",
    )(func)


def wait_option(func: F) -> F:
    """Queue behind another run of the same pipeline or destination, or refuse at once."""
    return click.option(
        "--wait/--no-wait",
        default=True,
        show_default=True,
        help="When another run uses the same pipeline or destination, wait for it to end (or refuse at once).",
    )(func)


def _say(line: str) -> None:
    click.echo(line, err=True)


def strict_option(func: F) -> F:
    """All or nothing: the first resource that fails stops the run, and nothing loads."""
    return click.option(
        "--strict/--no-strict",
        default=None,
        help="Stop the whole run at the first resource that fails, loading nothing "
        "(default: [fleetlake] strict in .dlt/config.toml, else each resource fails alone).",
    )(func)


@click.group(cls=FleetlakeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fleetlake")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option(
    "--log-level",
    type=LOG_LEVELS,
    default="WARNING",
    show_default=True,
    help="Logging level of fleetlake and dlt (secrets are never logged at any level).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_level: str) -> None:
    """Load the control plane of TiDB Cloud, SkySQL and Secoda into a SQL database, with dlt.

    \b
    Try it without credentials:   fleetlake demo
    Load a real API:              fleetlake run tidb   (or skysql, secoda)
    """
    ctx.ensure_object(dict)["debug"] = debug
    explicit = ctx.get_parameter_source("log_level") is not click.core.ParameterSource.DEFAULT
    _configure_logging(log_level.upper(), explicit)


def _print_report(report: RunReport, *, label: str) -> None:
    """The run's table: every resource with its rows in the destination and its outcome; then, on
    stderr, one paragraph per resource that did not simply load."""
    dataset = report.pipeline.dataset_name
    click.echo(f"\n{label}: loaded into {report.location}, dataset {dataset}, in {report.seconds:.1f} s")
    counts = report.row_counts or report.loaded_rows
    outcomes = {outcome.resource: outcome for outcome in report.outcomes}
    resources = [name for name in report.api.resource_descriptions() if name in counts or name in outcomes]
    if resources:
        width = max(len(name) for name in resources)
        click.echo(f"  {'table'.ljust(width)}  {'rows':>8}  {'this run':>8}  outcome")
        for name in resources:
            rows = str(counts[name]) if name in counts else "-"
            status = outcomes[name].status.value if name in outcomes else "loaded"
            # what this run loaded beside what the destination holds: an incremental list adds a few
            this_run = str(report.loaded_rows.get(name, 0)) if status in ("loaded", "possibly incomplete") else "-"
            click.echo(f"  {name.ljust(width)}  {rows:>8}  {this_run:>8}  {status}")
    nested = sorted(name for name in counts if name not in resources)
    if nested:
        click.echo(f"  and {len(nested)} nested tables ({nested[0]}, ...) holding lists inside records")
    if report.load_info.has_failed_jobs:
        click.echo("  some load jobs failed: see `dlt pipeline <name> failed-jobs`", err=True)
    for outcome in report.not_loaded():
        click.echo(f"{outcome.status.value}: {outcome.resource}: {' '.join(outcome.reason.split())}", err=True)
    for outcome in report.outcomes:
        if outcome.status is Status.LOADED and outcome.reason:
            click.echo(f"note: {outcome.resource}: {outcome.reason}", err=True)


def _note_accounts_left(jobs: Sequence[tuple[ApiContract, Account | None]], reports: Sequence[RunReport]) -> None:
    """Says which accounts' rows a dataset holds that the configuration no longer names: removing an
    account removes none of its rows, and never silently."""
    from fleetlake.pipelines import accounts_in, is_filesystem

    named: dict[str, set[str]] = {}
    for each, account in jobs:
        if account is not None:
            named.setdefault(each.name, set()).add(account.name)
    # once per API with named accounts, from the first of its reports
    first: dict[str, RunReport] = {}
    for report in reports:
        first.setdefault(report.api.name, report)
    for name, report in first.items():
        table = report.api.organization
        if name not in named or table is None:
            continue
        try:
            held = {} if is_filesystem(report.pipeline) else accounts_in(report.pipeline, table)
        except Exception as error:  # a note never fails a run
            logging.getLogger("fleetlake").debug("could not count the accounts of %s: %s", table, error)
            continue
        left = {account: rows for account, rows in held.items() if account not in named[name]}
        if not left:
            continue
        single = "the seed pages' single key"
        names = ", ".join(
            f"{account or single} ({rows} row{'s' if rows != 1 else ''} in {table})"
            for account, rows in sorted(left.items(), key=lambda item: item[0] or "")
        )
        dataset = report.pipeline.dataset_name
        click.echo(
            f"note: {dataset} also holds rows of accounts the configuration no longer names: {names}. They stay as "
            f"they were; to remove them, delete them from each of {dataset}'s tables (WHERE fleetlake_account = "
            "'<name>', or IS NULL for the single key's).",
            err=True,
        )


def _finish(reports: Sequence[RunReport]) -> None:
    """Exit 7 when a resource of any run failed or was skipped, 8 when one may be incomplete."""
    codes = {report.exit_code for report in reports}
    code = PARTIAL_EXIT if PARTIAL_EXIT in codes else max(codes, default=0)
    if not code:
        return
    outcomes = [outcome for report in reports for outcome in report.outcomes]
    failed = sum(outcome.status is Status.FAILED for outcome in outcomes)
    skipped = sum(outcome.status is Status.SKIPPED for outcome in outcomes)
    incomplete = sum(outcome.status is Status.INCOMPLETE for outcome in outcomes)
    loaded = sum(outcome.status in (Status.LOADED, Status.INCOMPLETE) for outcome in outcomes)
    if code == PARTIAL_EXIT:
        click.echo(
            f"partial run: {loaded} of {len(outcomes)} resources loaded, {failed} failed, {skipped} skipped "
            f"(exit {code}). Failed and skipped resources load nothing from this run and keep their last "
            "complete load; fix what each paragraph above says and run again (--strict, or [fleetlake] "
            "strict = true, makes any failure stop the whole run instead).",
            err=True,
        )
    else:
        click.echo(
            f"possibly incomplete: {incomplete} list(s) may have ended before their last record (exit {code}); "
            "what loaded is right. See the paragraph above for each.",
            err=True,
        )
    raise SystemExit(code)


DEMO_ACCOUNTS = ("org1", "org2")
"""The demo's accounts: two organizations of each API, as most teams have."""


@contextmanager
def _demo_emulator(api: ApiContract, seed: int) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """The API's emulator serving one organization per demo account: the organizations, and each one's
    settings, in order."""
    from fleetlake.emulators.base import EmulatorSetup, Organizations

    setup = EmulatorSetup(seed=seed, scale="demo", rate_limit=100, rate_window_seconds=1.0)
    served = Organizations(api.emulator(), setup, len(DEMO_ACCOUNTS))
    with served.serve(port=0) as server:
        yield served, served.source_settings(server.url)


def _print_model(report: Any) -> None:
    """What a build of the fleet model wrote."""
    click.echo(f"\nfleet model: built in {report.location}, in {report.seconds:.1f} s")
    width = max(len(name) for name in report.row_counts)
    click.echo(f"  {'table'.ljust(width)}  {'rows':>8}")
    for name, count in report.row_counts.items():
        click.echo(f"  {name.ljust(width)}  {count:>8}")
    if report.missing:
        click.echo(f"  (not loaded there, read as empty: {', '.join(report.missing)})")


def _answer_questions(duckdb_path: Path, rows: int = 5) -> None:
    """The fleet model's questions, each with its query and its first rows, from the DuckDB file."""
    import duckdb

    from fleetlake.fleet.model import QUESTIONS

    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        for question, sql in QUESTIONS:
            relation = connection.sql(sql)
            total = len(relation.fetchall())
            click.echo(f"\n{question}? ({total} rows, first {min(rows, total)})\n  {sql}")
            click.echo(str(relation.limit(rows)).rstrip())


@cli.command()
@common_options
@click.argument("apis", nargs=-1, type=click.Choice(API_NAMES))
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder for the DuckDB file and the pipelines' working data.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the emulated data.")
@strict_option
@wait_option
def demo(apis: Sequence[str], workdir: Path, seed: int, strict: bool | None, wait: bool) -> None:
    """Load the bundled emulators (no credentials, no network) into fleetlake_demo.duckdb: two
    organizations of each API, as the accounts org1 and org2.

    \b
    Example:
      fleetlake demo            # every API
      fleetlake demo tidb       # TiDB Cloud only
    """
    from fleetlake.accounts import Account
    from fleetlake.fleet.report import build_and_write
    from fleetlake.pipelines import build_model, run, run_side_by_side, side_by_side_setting, writable_folder

    signal.signal(signal.SIGTERM, _terminate)
    writable_folder(workdir, what=f"--dir {workdir}", fix="Set --dir to a folder you can write to, e.g. --dir ./demo.")
    keep_pandas_out()  # 40 MB this process never needs (fleetlake/imports.py)
    duckdb_path = (workdir / "fleetlake_demo.duckdb").resolve()
    pipelines_dir = (workdir / ".fleetlake" / "pipelines").resolve()
    emulated: dict[str, tuple[ApiContract, Any, list[dict[str, Any]]]] = {}
    with ExitStack() as served:
        jobs: list[tuple[str, Callable[[], RunReport]]] = []
        for name in apis or API_NAMES:
            api = get_api(name)
            organizations, settings = served.enter_context(_demo_emulator(api, seed))
            emulated[name] = (api, organizations, settings)
            for account, source_kwargs in zip(DEMO_ACCOUNTS, settings, strict=True):
                load = functools.partial(
                    run,
                    api,
                    source_kwargs=source_kwargs,
                    pipelines_dir=pipelines_dir,
                    duckdb_path=duckdb_path,
                    strict=strict,
                    wait=wait,
                    on_wait=_say,
                    account=Account(account),
                )
                jobs.append((f"{api.title} {account} (emulated)", load))
        # every API's accounts side by side, as `fleetlake run` loads a fleet
        results = run_side_by_side([load for _, load in jobs], workers=side_by_side_setting())
        reports = []
        for (label, _), result in zip(jobs, results, strict=True):
            if isinstance(result, BaseException):
                raise result  # the emulators are ours: any failure is a bug to see whole
            _print_report(result, label=label)
            reports.append(result)
        model = build_model(None, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir)
        _print_model(model)
        # a day in the fleet's life: the first account's owner pauses, resizes and upgrades clusters; the
        # inventory loads again and the model's history shows each change
        changed = False
        for api, organizations, settings in emulated.values():
            shown = organizations.emulators[0].demo_changes()
            if not shown:
                continue
            reloaded = run(
                api,
                source_kwargs=settings[0],
                resources=list(shown),
                pipelines_dir=pipelines_dir,
                duckdb_path=duckdb_path,
                strict=strict,
                wait=wait,
                on_wait=_say,
                account=Account(DEMO_ACCOUNTS[0]),
            )
            click.echo(
                f"\n{api.title} {DEMO_ACCOUNTS[0]}: the owner paused, resized and upgraded clusters; "
                f"its inventory loaded again in {reloaded.seconds:.1f} s"
            )
            changed = True
        # the last build writes the report from its own tables (a build more when nothing changed: it adds
        # no history row)
        model, written = build_and_write(
            None, workdir / REPORT_DIR, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir
        )
        if changed:
            _print_model(model)
    click.echo("\nTry a query:")
    for report in reports[:: len(DEMO_ACCOUNTS)]:
        sql = report.api.example_query.format(dataset=report.pipeline.dataset_name)
        connect = f"duckdb.connect('{duckdb_path}', read_only=True)"
        click.echo(f"  uv run python -c \"import duckdb; {connect}.sql('{sql}').show()\"")
    click.echo("Inspect a pipeline (schema, loads, state):")
    for report in reports:
        click.echo(f"  uv run dlt pipeline --pipelines-dir {pipelines_dir} {report.pipeline.pipeline_name} info")
    _answer_questions(duckdb_path)
    click.echo("\nPosture checks (fleetlake checks; --fail-on high gates a CI job):")
    _print_findings(model, limit=12)
    _print_report_written(written)
    _finish(reports)


@cli.command("run")
@common_options
@optional_api_argument
@destination_options
@click.option("--resources", "-r", default=None, help="Comma-separated resources to load (default: all).")
@click.option(
    "--pipelines-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the pipeline's state and working data (default: dlt's, ~/.dlt/pipelines).",
)
@click.option("--progress/--no-progress", default=None, help="Show progress (default: when on a terminal).")
@strict_option
@wait_option
@click.option(
    "--table-format",
    type=click.Choice(["delta", "iceberg", "none"], case_sensitive=False),
    default=None,
    help="Table format of a filesystem destination (default delta; none = plain parquet, refused where tables merge).",
)
@click.option(
    "--model/--no-model",
    default=None,
    help="Rebuild the fleet dataset after the loads (default: when no API is named).",
)
def run_command(
    api: ApiContract | None,
    destination: str,
    dataset_name: str | None,
    resources: str | None,
    pipelines_dir: Path | None,
    progress: bool | None,
    strict: bool | None,
    wait: bool,
    table_format: str | None,
    model: bool | None,
) -> None:
    """Load the real API with the credentials in .dlt/secrets.toml or the environment.

    With no API named, every configured API (its keys set) loads, into one database: on DuckDB one file,
    fleetlake.duckdb, each API in its own dataset. An API that fails is reported and the others load.

    A resource that fails (a 404, a 400, an answer it cannot read) fails alone: the others load, the
    table says which did not and why, and the exit code is 7 (8 when a list may be incomplete).

    \b
    Example:
      fleetlake run                      # every configured API into fleetlake.duckdb
      fleetlake run tidb
      fleetlake run tidb --resources clusters,audit_logs --destination postgres
      fleetlake run skysql --strict      # all or nothing
    """
    from fleetlake.pipelines import (
        DEFAULT_DESTINATION,
        FLEET,
        build_model,
        duckdb_file,
        run,
        run_side_by_side,
        side_by_side_setting,
        writable_folder,
    )

    signal.signal(signal.SIGTERM, _terminate)
    names = [name.strip() for name in resources.split(",") if name.strip()] if resources else None
    if api is None and names:
        raise ConfigurationError(
            "--resources names one API's resources: name the API too, e.g. `fleetlake run tidb --resources "
            "clusters`, or leave --resources out to load every configured API whole."
        )
    apis = [api] if api is not None else _configured_apis()
    if pipelines_dir is not None:
        fix = "Set --pipelines-dir to a folder you can write to, or leave it out for dlt's own (~/.dlt/pipelines)."
        writable_folder(pipelines_dir, what=f"--pipelines-dir {pipelines_dir}", fix=fix)
    duckdb_path = None
    if destination == DEFAULT_DESTINATION:
        # one API: <pipeline>.duckdb in the current folder, where the seed pages' scripts find it; every API:
        # the one fleet file (unless DESTINATION__DUCKDB__CREDENTIALS names another)
        file_name = f"{api.pipeline_name if api is not None else FLEET}.duckdb"
        duckdb_path = None if api is not None else duckdb_file(None, FLEET)
        fix = "Run fleetlake from a folder you can write to, or load elsewhere with --destination."
        where = f"The current folder {Path.cwd()}, where run writes {file_name},"
        writable_folder(Path.cwd(), what=where, fix=fix)
        # 40 MB this process never needs; other destinations' drivers may import pandas (fleetlake/imports.py)
        keep_pandas_out()
    from fleetlake.accounts import configured_accounts, to_run

    # every (API, account) to load: an API's named accounts, or its one key of the seed pages' section
    jobs: list[tuple[ApiContract, Account | None]] = []
    failures: list[tuple[str, int]] = []
    for each in apis:
        try:
            accounts = configured_accounts(each)
        except ConfigurationError as error:
            if api is not None:
                raise
            click.echo(f"failed: {each.title}: {' '.join(str(error).split())}", err=True)
            failures.append((each.title, error.exit_code))
            continue
        jobs += [(each, account) for account in to_run(accounts)]
    run_progress = sys.stderr.isatty() if progress is None else progress

    def job(each: ApiContract, account: Account | None) -> Callable[[], RunReport]:
        return functools.partial(
            run,
            each,
            resources=names,
            destination=destination,
            duckdb_path=duckdb_path,
            dataset_name=dataset_name,
            pipelines_dir=pipelines_dir,
            progress=run_progress,
            strict=strict,
            wait=wait,
            on_wait=_say,
            table_format=table_format,
            account=account,
        )

    model_failed = False
    # accounts and APIs side by side, each under its own quota; their loads take turns at the destination
    results = run_side_by_side([job(each, account) for each, account in jobs], workers=side_by_side_setting())
    reports: list[RunReport] = []
    for (each, account), result in zip(jobs, results, strict=True):
        label = f"{each.title} ({account.name})" if account else each.title
        if isinstance(result, BaseException):
            if len(jobs) == 1 and not failures:
                raise result  # one API, one account: its error is the command's
            # several: one that fails (a refused key, an unreachable host) costs the others nothing
            message, code = explain(result, each)
            click.echo(f"failed: {label}: {' '.join(message.split())}", err=True)
            failures.append((label, code))
            continue
        _print_report(result, label=label)
        reports.append(result)
    _note_accounts_left(jobs, [r for r in results if not isinstance(r, BaseException)])
    if reports and (api is None if model is None else model):
        # the fleet model from what every API's last complete load holds, failed accounts' included
        try:
            # each API's dataset: its seed name, or --dataset's
            sources = {each.dataset_name: dataset_name for each in apis} if dataset_name else None
            file = duckdb_path or duckdb_file(None, reports[0].api.pipeline_name)
            _print_model(build_model(destination, duckdb_path=file, pipelines_dir=pipelines_dir, sources=sources))
        except Exception as error:
            message, _ = explain(error)
            click.echo(f"failed: the fleet model: {' '.join(message.split())}", err=True)
            model_failed = True
    if failures and not reports:
        raise SystemExit(failures[0][1])
    if failures:
        titles = ", ".join(title for title, _ in failures)
        total = len(reports) + len(failures)
        click.echo(
            f"partial run: {len(reports)} of {total} loaded; {titles} failed (see above) and keep their last "
            f"complete load (exit {PARTIAL_EXIT}).",
            err=True,
        )
        _finish(reports)
        raise SystemExit(PARTIAL_EXIT)
    if model_failed:
        click.echo(
            f"partial run: every account loaded; the fleet model failed (see above) and keeps its last build "
            f"(exit {PARTIAL_EXIT}).",
            err=True,
        )
        _finish(reports)
        raise SystemExit(PARTIAL_EXIT)
    _finish(reports)


def _configured_apis() -> list[ApiContract]:
    """The APIs whose secret settings are set (in .dlt/secrets.toml or the environment), in registry order;
    a note names the others, and none configured is an error saying how to configure one."""
    import dlt

    from fleetlake.accounts import setting

    configured: list[ApiContract] = []
    left: list[ApiContract] = []
    for contract in REGISTRY.values():
        present = [bool(dlt.secrets.get(f"sources.{contract.section}.{name}")) for name in contract.secret_settings]
        named = setting(f"sources.{contract.section}.accounts") is not None
        (configured if named or (present and all(present)) else left).append(contract)
    if not configured:
        example = REGISTRY[API_NAMES[0]]
        keys = ", ".join(example.secret_settings)
        raise ConfigurationError(
            f"No API is configured: set the keys of at least one under [sources.<section>] in .dlt/secrets.toml "
            f"or the environment (for {example.title}: {keys} under [sources.{example.section}]), or name an "
            "API (`fleetlake run tidb`) to see what it is missing. `fleetlake demo` needs no keys."
        )
    if left:
        click.echo(f"not configured, not loaded: {', '.join(c.title for c in left)}", err=True)
    return configured


@cli.command()
@common_options
@api_argument
def check(api: ApiContract) -> None:
    """Make one cheap request per server and say what works and what does not.

    \b
    Example:
      fleetlake check tidb
    """
    from fleetlake.accounts import configured_accounts, to_run
    from fleetlake.sources.checks import verdict

    failures = []
    for account in to_run(configured_accounts(api)):
        if account is not None:
            click.echo(f"account {account.name}:")
        results: list[CheckResult] = api.check(**(account.settings if account else {}))
        for result in results:
            mark = "ok  " if result.ok else "FAIL"
            click.echo(f"{mark} {result.server:<22} {result.url}\n     {result.message}")
        title = f"{api.title} ({account.name})" if account else api.title
        failure = verdict(title, results)
        if failure is not None:
            failures.append(failure)
    if failures:
        raise failures[0]


class _FaultsEpilog(click.Command):
    """`fleetlake emulate --help` ends with the fault kinds, read from the emulators when asked for."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from fleetlake.emulators.faults import describe_kinds

        self.epilog = (
            "\b\nFault kinds for --fault. PATH is a glob on the request path (default: every path);\n"
            "`after` matching requests pass first; `times` is 1 unless said, or `forever`.\n" + describe_kinds()
        )
        super().format_epilog(ctx, formatter)


@cli.command(cls=_FaultsEpilog)
@common_options
@api_argument
@click.option("--port", default=8700, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option(
    "--scale",
    default="demo",
    show_default=True,
    help="Size of the data: demo or large (every API), medium (tidb: some 250 clusters).",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic data.")
@click.option("--rate-limit", default=100, show_default=True, help="Requests per window per key; 0 disables the limit.")
@click.option("--rate-window", default=60.0, show_default=True, help="Quota window in seconds.")
@click.option("--now", default=None, help="The emulator's clock at start (ISO-8601); default: now.")
@click.option(
    "--organizations",
    default=1,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Organizations on the one server, each with its own keys, data and quota.",
)
@click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help="An emulator-specific option, e.g. page_token_mode=none (skysql), next_link_style=vendor (secoda).",
)
@click.option(
    "--fault",
    "-f",
    "faults",
    multiple=True,
    metavar="KIND[@PATH][,after=N][,times=N|forever][,seconds=S][,field=NAME][,status=CODE]",
    help="Inject a fault (repeatable; the first whose path matches plays). Kinds: see below.",
)
def emulate(
    api: ApiContract,
    port: int,
    scale: str,
    seed: int,
    rate_limit: int,
    rate_window: float,
    now: str | None,
    organizations: int,
    options: Sequence[str],
    faults: Sequence[str],
) -> None:
    """Run the API's emulator on 127.0.0.1 for your own tests, until Ctrl-C.

    \b
    Example:
      fleetlake emulate tidb --port 8700 --scale large --rate-limit 100 --rate-window 1
      fleetlake emulate skysql -o page_token_mode=none -o seed_only_endpoints=serve
      fleetlake emulate secoda -o next_link_style=vendor -o catalog_cap=1000
      fleetlake emulate tidb -f '503@*/clusters,after=1,times=3' -f 'revoke,after=40'
      fleetlake emulate skysql --organizations 2   # two organizations, a key each
    """
    start = None
    if now:
        try:
            start = datetime.fromisoformat(now)
        except ValueError:
            raise ConfigurationError(f"--now {now!r} is not an ISO-8601 time; use e.g. 2026-11-01T00:00:00Z.") from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    from fleetlake.emulators.base import EmulatorSetup, Organizations
    from fleetlake.emulators.faults import FaultSpecError, parse_fault

    extra = dict(_emulator_option(text) for text in options)
    try:
        injected = [parse_fault(text) for text in faults]
    except FaultSpecError as error:
        raise ConfigurationError(f"--fault: {error}. `fleetlake emulate --help` lists the kinds.") from None
    try:
        setup = EmulatorSetup(
            seed=seed,
            scale=scale,
            now=start,
            rate_limit=rate_limit or None,
            rate_window_seconds=rate_window,
            faults=injected,
            options=extra,
        )
        served = Organizations(api.emulator(), setup, organizations)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"The {api.title} emulator refused its options: {error}.") from None
    server = served.server(port=port)
    click.echo(f"{api.title} emulator on {server.url} (Ctrl-C to stop)")
    for number, settings in enumerate(served.source_settings(server.url), start=1):
        if organizations > 1:
            click.echo(f"organization {number} of {organizations}:")
        click.echo(
            f"settings for [sources.{api.section}] in .dlt/secrets.toml (the emulator's own demo key, not a real one):"
        )
        for setting, value in settings.items():
            click.echo(f"  {setting} = {json.dumps(value)}")
        click.echo(f"or in the environment, then `fleetlake run {api.name}` from another shell:")
        for setting, value in settings.items():
            click.echo(f"  export {env_variable(f'sources.{api.section}', setting)}={shlex.quote(str(value))}")
    click.echo(f"advance its clock: curl -X POST '{server.url}/_emulator/advance?seconds=86400'")
    for fault in injected:
        times = "every time" if fault.times is None else f"{fault.times} time(s)"
        click.echo(f"fault: {fault.kind} on {fault.path}, after {fault.after} request(s), {times}")
    server.serve_forever()


def _emulator_option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise ConfigurationError(f"--option {text!r} is not NAME=VALUE; for example -o page_token_mode=none.")
    value: Any = raw
    for convert in (int, float):
        try:
            value = convert(raw)
            break
        except ValueError:
            continue
    return name.strip(), value


def model_options(func: F) -> F:
    """Where the fleet model is: the model pipeline's folder and the DuckDB file (`model`, `checks`)."""
    func = click.option(
        "--file",
        "duckdb_path",
        type=click.Path(path_type=Path),
        default=None,
        help="The DuckDB file (default fleetlake.duckdb, or DESTINATION__DUCKDB__CREDENTIALS).",
    )(func)
    return click.option(
        "--pipelines-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Folder for the model pipeline's state (default: dlt's, ~/.dlt/pipelines).",
    )(func)


@cli.command()
@common_options
@click.argument("name", type=click.Choice([*API_NAMES, "fleet"]), metavar="API")
def resources(name: str) -> None:
    """List the API's resources (tables) with a one-line description; `fleet`: the fleet model's tables
    and their columns.

    \b
    Example:
      fleetlake resources tidb
      fleetlake resources fleet
    """
    if name == "fleet":
        from fleetlake.fleet.model import TABLES

        for table in TABLES:
            click.echo(f"{table.name}  {table.description}")
            width = max(len(column.name) for column in table.columns)
            for column in table.columns:
                click.echo(f"    {column.name.ljust(width)}  {column.data_type:<9}  {column.description}")
        return
    described = get_api(name).resource_descriptions()
    width = max(len(resource) for resource in described)
    for resource, description in described.items():
        click.echo(f"{resource.ljust(width)}  {description}")


@cli.command()
@common_options
@destination_option
@model_options
def model(destination: str, pipelines_dir: Path | None, duckdb_path: Path | None) -> None:
    """Rebuild the fleet dataset (fleet.clusters, fleet.costs in FOCUS, fleet.audit_events, the clusters'
    history and its changes) from what the database holds; `fleetlake run` does it after its loads.

    \b
    Example:
      fleetlake model                     # in fleetlake.duckdb
      fleetlake model --destination postgres
    """
    from fleetlake.pipelines import build_model

    _print_model(build_model(destination, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir))


def _clip(text: str, width: int) -> str:
    """`text`, cut to `width` characters with an ellipsis (a table column stays readable; the whole value
    is in fleet.findings)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_findings(report: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """The posture checks' findings of a model build as a table, worst first (the first `limit`), with each
    rule's fix."""
    from fleetlake.fleet.rules import SEVERITIES

    order = {severity: n for n, severity in enumerate(reversed(SEVERITIES))}
    findings = sorted(
        report.findings,
        key=lambda f: (order[f["severity"]], f["rule_id"], f["account"] or "", f["resource_name"] or ""),
    )
    if findings:
        header = ("rule", "severity", "vendor", "account", "type", "resource", "detail")
        rows = [
            (f["rule_id"], f["severity"], f["vendor"] or "", f["account"] or "", f["resource_type"] or "",
             _clip(f["resource_name"] or f["resource_id"] or "", 40), f["detail"] or "")
            for f in findings
        ]  # fmt: skip
        widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header) - 1)]
        for row in (header, *rows[:limit]):
            cells = [str(value).ljust(width) for value, width in zip(row[:-1], widths, strict=True)]
            click.echo("  ".join([*cells, row[-1]]))
        if limit is not None and len(rows) > limit:
            click.echo(f"... and {len(rows) - limit} more in fleet.findings")
    counts = {severity: sum(f["severity"] == severity for f in findings) for severity in reversed(SEVERITIES)}
    summary = ", ".join(f"{n} {severity}" for severity, n in counts.items() if n)
    click.echo(f"\n{len(findings)} findings{': ' + summary if summary else ''} (in fleet.findings, {report.location})")
    fixes = {f["rule_id"]: (f["title"], f["fix"]) for f in findings}
    for rule_id, (title, fix) in fixes.items():
        click.echo(f"  {rule_id} {title}: {fix}")
    return findings


CHECKS_DIR_SETTING = "fleetlake.checks_dir"
"""`[fleetlake] checks_dir = "rules"` (FLEETLAKE__CHECKS_DIR): a folder of your own check rules."""


@cli.command()
@common_options
@destination_option
@model_options
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="A folder of your own rules (.sql files) run beside the bundled ones (or [fleetlake] checks_dir).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "critical", "none"]),
    default="none",
    show_default=True,
    help="Exit 12 when a finding of this severity or worse is open: a CI job's gate.",
)
@click.option("--list", "list_rules", is_flag=True, help="List the rules and exit, checking nothing.")
def checks(
    destination: str,
    pipelines_dir: Path | None,
    duckdb_path: Path | None,
    rules_dir: Path | None,
    fail_on: str,
    list_rules: bool,
) -> None:
    """Run the posture checks over the fleet model and the raw tables (rebuilding the model first), print
    what they find, and keep it in fleet.findings with when each was first and last seen.

    \b
    Example:
      fleetlake checks
      fleetlake checks --fail-on high        # exit 12 when a high or critical finding is open
      fleetlake checks --rules ./my-rules    # your own .sql rules beside the bundled ones
    """
    import dlt

    from fleetlake.fleet.rules import FINDINGS_EXIT, at_least, load_rules
    from fleetlake.pipelines import build_model

    if rules_dir is None:
        configured: Any = dlt.config.get(CHECKS_DIR_SETTING)
        rules_dir = Path(str(configured)).expanduser() if configured else None
    rules = load_rules(rules_dir)
    if list_rules:
        for rule in rules:
            click.echo(f"{rule.id:<7} {rule.severity:<9} {rule.title}")
        return
    report = build_model(destination, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir, rules=rules)
    findings = _print_findings(report)
    for rule_id, error in report.rule_errors.items():
        click.echo(f"failed: rule {rule_id} could not run: {error}", err=True)
    if fail_on != "none":
        failing = [f for f in findings if at_least(f["severity"], fail_on)]
        if failing:
            click.echo(f"{len(failing)} findings of severity {fail_on} or worse (exit {FINDINGS_EXIT}).", err=True)
            raise SystemExit(FINDINGS_EXIT)
    if report.rule_errors:
        raise SystemExit(PARTIAL_EXIT)


REPORT_DIR = Path("fleetlake_report")


def _print_report_written(result: Any) -> None:
    charts, seconds = len(result.pngs), result.seconds
    click.echo(
        f"\nReport: {result.html.resolve()} ({charts} charts, one PNG each beside it; written in {seconds:.1f} s)"
    )


@cli.command()
@common_options
@destination_option
@model_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=REPORT_DIR,
    show_default=True,
    help="Folder for the page (fleetlake_report.html) and the charts' PNG files.",
)
def report(destination: str, pipelines_dir: Path | None, duckdb_path: Path | None, out_dir: Path) -> None:
    """Rebuild the fleet model and write a report of it: one self-contained HTML page (it needs no network to
    open) with spend, the fleet, its changes, audit activity, the Secoda catalog and the posture findings,
    and a PNG of each chart.

    \b
    Example:
      fleetlake report                          # fleetlake.duckdb into ./fleetlake_report/
      fleetlake report --destination postgres --out /srv/www/fleet
    """
    from fleetlake.fleet.report import build_and_write
    from fleetlake.pipelines import writable_folder

    writable_folder(out_dir, what=f"--out {out_dir}", fix="Set --out to a folder you can write to.")
    model, result = build_and_write(destination, out_dir, duckdb_path=duckdb_path, pipelines_dir=pipelines_dir)
    _print_model(model)
    _print_report_written(result)


def seed_script(name: str) -> None:
    """What the seed pages' scripts (`tidb_instance_pipeline.py`, ...) run: the API's pipeline under the
    pages' names, dlt's load info printed as the pages show it, then each resource that did not simply
    load; exits 7 or 8 for a partial run, and with the error's code and paragraph when the run stops."""
    from fleetlake.pipelines import run

    api = get_api(name)
    _configure_logging("WARNING", explicit=False)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        report = run(api, on_wait=_say)
    except (Exception, KeyboardInterrupt) as error:
        message, code = explain(error, api)
        click.echo(f"error: {' '.join(message.split())}", err=True)
        raise SystemExit(code) from None
    click.echo(report.load_info)
    for outcome in report.not_loaded():
        click.echo(f"{outcome.status.value}: {outcome.resource}: {' '.join(outcome.reason.split())}", err=True)
    if report.exit_code:
        raise SystemExit(report.exit_code)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="fleetlake")
    except FleetlakeError as error:  # raised while parsing arguments (an unknown API name)
        click.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
