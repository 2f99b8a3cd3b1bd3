"""Explains a failure in one paragraph: what went wrong, which setting, and the fix."""

from __future__ import annotations

import errno
import re
import signal
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dlt
import requests
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
    LookupTraces,
)
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.configuration.specs import CredentialsConfiguration, RuntimeConfiguration
from dlt.common.destination.client import DestinationClientConfiguration
from dlt.common.destination.exceptions import UnknownDestinationModule
from dlt.common.exceptions import MissingDependencyException, SignalReceivedException

from fleetlake.destinations import EXAMPLES, EXTRAS
from fleetlake.errors import ConfigurationError, FleetlakeError, RunAbortedError, UnreachableError, env_variable
from fleetlake.http.urls import connection_failure
from fleetlake.locks import BusyError
from fleetlake.sources import ApiContract
from fleetlake.working_copy import describe_process, lock_holders

DISK_FULL_EXIT = 11

# what an output path answers when it cannot be created or written
PATH_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ENOSPC}
)


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (dlt wraps source errors in pipeline step errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RunAbortedError):
            # a resource stopped because another one stopped the run: that one is the cause
            current = current.original
            continue
        yield current
        wrapped = getattr(current, "exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else (current.__cause__ or current.__context__)


def _missing_destination_settings(error: ConfigFieldMissingException) -> str:
    config = error.config
    name = str(getattr(config, "destination_type", "") or "the destination").rsplit(".", 1)[-1]
    setting, example = EXAMPLES.get(name, ("credentials", "the connection string dlt documents for it"))
    missing = _missing_leaves(error)
    if "bucket_url" in missing:
        setting, example = EXAMPLES["filesystem"]
    return (
        f"Settings of destination {name} are missing ({missing}). Put them in [destination.{name}] of "
        f'.dlt/secrets.toml ({setting} = "{example}"), or set DESTINATION__{name.upper()}__{setting.upper()}.'
    )


def _missing_destination_credentials(error: ConfigFieldMissingException) -> str:
    """Credentials of a storage (S3, GCS, Azure) that a destination asked for, never an API's."""
    kind = type(error.config).__name__.removesuffix("Credentials").removesuffix("Configuration") or "storage"
    fields = ", ".join(error.fields)
    first = error.fields[0] if error.fields else "aws_access_key_id"
    return (
        f"{kind} credentials of the filesystem destination are missing ({fields}). Put them in "
        f"[destination.filesystem.credentials] of .dlt/secrets.toml, or set "
        f"DESTINATION__FILESYSTEM__CREDENTIALS__{first.upper()} and the others; S3 also needs `uv sync --extra s3`."
    )


def _missing_package(cause: BaseException) -> str | None:
    """A destination's driver or a table format's library that is not installed, with the extra to install."""
    if isinstance(cause, MissingDependencyException):
        # "s3fs>=2022", or dlt's own extras: "dlt[s3]"
        names = [str(d).split("[")[0].split(">")[0].split("=")[0].strip() for d in cause.dependencies]
        names += [
            e.strip() for d in cause.dependencies if "[" in str(d) for e in str(d).split("[")[1].rstrip("]").split(",")
        ]
        wanted = " ".join(str(d) for d in cause.dependencies)
    elif isinstance(cause, ModuleNotFoundError) and cause.name:
        names, wanted = [cause.name.split(".")[0]], cause.name.split(".")[0]
    else:
        return None
    extras = sorted({EXTRAS[n] for n in names if n in EXTRAS})
    fix = f"`uv sync --extra {extras[0]}`" if extras else f"`uv pip install {wanted}`"
    return (
        f"A package this destination needs is not installed ({wanted}). Install it with {fix} (or pip install "
        "the same into fleetlake's environment), then run again."
    )


def _missing_leaves(error: ConfigFieldMissingException) -> str:
    """The innermost missing fields (`password`, not `credentials`)."""
    names: list[str] = []
    for field, traces in error.traces.items():
        nested = [trace for trace in traces if isinstance(trace, LookupTraces)]
        if nested:
            names.extend(key for trace in nested for key in trace.traces)
        else:
            names.append(field)
    return ", ".join(names)


def _missing_credentials(error: ConfigFieldMissingException, api: ApiContract | None) -> str:
    if isinstance(error.config, DestinationClientConfiguration):
        return _missing_destination_settings(error)
    if isinstance(error.config, CredentialsConfiguration):
        return _missing_destination_credentials(error)
    fields = ", ".join(error.fields)
    if api is None:
        return f"Required settings are missing: {fields}. Put them in .dlt/secrets.toml or the environment."
    section = api.section
    env = " and ".join(env_variable(f"sources.{section}", field) for field in error.fields)
    return (
        f"{api.title} credentials are missing ({fields}). Put them in .dlt/secrets.toml under "
        f"[sources.{section}] (see .dlt/example.secrets.toml), or set {env}. "
        f"To try fleetlake without credentials, run `fleetlake demo {api.name}`."
    )


def _configured(api: ApiContract, setting: str) -> Any:
    key = f"sources.{api.section}.{setting}"
    try:
        values: list[Any] = [dlt.config.get(key), dlt.secrets.get(key)]
    except Exception:  # a value that cannot be read cannot be named either
        return None
    return next((value for value in values if value), None)


def _unreachable(error: requests.RequestException, api: ApiContract | None) -> str:
    url = error.request.url if error.request is not None and error.request.url else ""
    host = urlsplit(url).netloc or "the API host"
    what, fix = connection_failure(error)
    where = ""
    if api is not None:
        settings = [name for name in api.url_settings if urlsplit(str(_configured(api, name) or "")).netloc == host]
        if settings:
            verb = "points" if len(settings) == 1 else "point"
            where = f"{', '.join(f'`{name}`' for name in settings)} in [sources.{api.section}] {verb} there. "
        else:
            named = " or ".join(f"`{name}`" for name in api.url_settings)
            where = f"It is {api.title}'s own address ({named} in [sources.{api.section}] not set). "
    return f"{host} {what}. {where}{fix} fleetlake retried before giving up; tables keep their last complete load."


def _not_coerced(error: ConfigValueCannotBeCoercedException, api: ApiContract | None) -> str:
    kinds = {int: "a whole number", float: "a number", bool: "true or false"}
    kind = kinds.get(error.hint, f"a {getattr(error.hint, '__name__', error.hint)}")
    secret = api is not None and error.field_name in api.secret_settings
    value = "not shown (a secret)" if secret else repr(error.field_value)
    if error.field_name in RuntimeConfiguration.get_resolvable_fields():
        # dlt's own run settings (request_timeout, ...) live in [runtime], whatever section asked for them
        where = f" (in [runtime] of .dlt/config.toml, or {env_variable('runtime', error.field_name)})"
    elif api:
        where = (
            f" (in [sources.{api.section}] of .dlt/config.toml, or "
            f"{env_variable(f'sources.{api.section}', error.field_name)})"
        )
    else:
        where = ""
    return (
        f"The setting `{error.field_name}` is {value}, which is not {kind}. Set `{error.field_name}`{where} to "
        f"{kind}, or remove it to use the default."
    )


def _unwritable(error: OSError) -> str:
    return (
        f"Cannot write {error.filename}: {error.strerror}. Choose a folder you can write to (--dir of demo, "
        "--pipelines-dir of run; run puts its DuckDB file in the current folder)."
    )


def _unreadable_toml(error: TomlProviderReadException) -> str:
    """Which TOML file is broken and where, from Python's own TOML reader; never the values in it."""
    for name in error.full_paths:
        path = Path(name)
        if not path.is_file():
            continue
        try:
            tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
        except tomllib.TOMLDecodeError as problem:
            return (
                f"{path} is not valid TOML: {problem}. Fix that line (fleetlake does not show the values in the "
                "file): a value needs quotes and must end on its line, a section is [sources.name], a setting "
                'name = "value". Then run again.'
            )
    return (
        f"{error.file_name} could not be read ({' '.join(str(error).split())[-160:]}). Check the file's syntax; "
        "fleetlake does not show its values."
    )


def _unexpected(error: BaseException, api: ApiContract | None) -> str:
    """An error no rule explains: where the run was, the innermost cause, and what to do."""
    chain = list(causes(error))
    step = next((str(getattr(cause, "step", "")) for cause in chain if getattr(cause, "step", None)), "")
    innermost = next(
        (cause for cause in reversed(chain) if " ".join(str(cause).split())), chain[-1] if chain else error
    )
    text = " ".join(str(innermost).split())
    # dlt's wrappers end their first line at "with exception:"; the cause is named instead
    text = text.split(" with exception: ")[-1][:400] or "no message"
    who = f"{api.title} " if api else ""
    where = f"while dlt was at its {step} step" if step else "before the run started"
    return (
        f"The {who}run stopped {where}: {type(innermost).__name__}: {text}. Run it again with --debug for the "
        "traceback and report it to fleetlake; what earlier runs loaded is kept, and a next run finishes what "
        "this one extracted."
    )


def _interrupted(error: BaseException, signal_code: int) -> tuple[str, int]:
    names: dict[int, str] = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
    name = names.get(signal_code, f"signal {signal_code}")
    # fleetlake's own note of the step first (it knows sync from load), then dlt's
    step = next(
        (
            str(value)
            for attribute in ("fleetlake_step", "step")
            for cause in causes(error)
            if (value := getattr(cause, attribute, None))
        ),
        "",
    )
    where = f" during the {step} step" if step else ""
    return (
        f"interrupted by {name}{where}. Nothing of this run is visible yet: the tables keep their last complete "
        "load. The next run resumes what this one left (a load it started is finished first, an extraction is "
        "done again).",
        128 + signal_code,
    )


def _disk_full(error: BaseException) -> str:
    path = getattr(error, "filename", None)
    text = " ".join(str(error).split())
    if not path:
        quoted = re.search(r'"([^"]+)"', text) or re.search(r"'(/[^']+)'", text)
        path = quoted.group(1) if quoted else None
    where = f" while writing {path}" if path else ""
    folder = f" (the disk that holds {Path(path).parent})" if path else ""
    return (
        f"The disk is full: No space left on device{where}. Nothing of this run is visible: the tables keep their "
        f"last complete load. Free some space{folder}, then run again; the next run resumes this one's work. "
        "A DuckDB run needs room for a second copy of its database while it loads."
    )


def linked(error: BaseException) -> Iterator[BaseException]:
    """Every error reachable from `error` through what wraps what (`exception`, `__cause__`) and what
    happened while handling what (`__context__`): a full disk often surfaces as a secondary error (a
    file that could not be written, then read), with the ENOSPC as its context."""
    seen: set[int] = set()
    queue: list[BaseException] = [error]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "exception", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                queue.append(nxt)


def _is_disk_full(cause: BaseException) -> bool:
    if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        return True
    return "No space left on device" in str(cause)


def _duckdb_locked(cause: BaseException) -> str | None:
    """DuckDB's "Could not set lock on file" as a paragraph naming the file and its holder."""
    text = " ".join(str(cause).split())
    if "Could not set lock on file" not in text:
        return None
    match = re.search(r'file "([^"]+)"', text)
    path = Path(match.group(1)) if match else None
    holders = lock_holders(path) if path else []
    who = ", ".join(describe_process(pid) for pid in holders) if holders else "another process"
    return (
        f"The DuckDB file {path or ''} is held by {who}, so fleetlake cannot load into it. Close that program, or "
        "open the file read-only there (`duckdb -readonly`), then run again."
    )


def explain(error: BaseException, api: ApiContract | None = None) -> tuple[str, int]:
    """A one-paragraph message and an exit code for any error a command can raise."""
    for cause in causes(error):
        if isinstance(cause, SignalReceivedException):
            return _interrupted(error, cause.signal_code)
        if isinstance(cause, KeyboardInterrupt):
            return _interrupted(error, signal.SIGINT)
    full = next((cause for cause in linked(error) if _is_disk_full(cause)), None)
    if full is not None:
        return _disk_full(full), DISK_FULL_EXIT
    for cause in causes(error):
        locked = _duckdb_locked(cause)
        if locked:
            return locked, BusyError.exit_code
        if isinstance(cause, FleetlakeError):
            return cause.message, cause.exit_code
        if isinstance(cause, TomlProviderReadException):
            return _unreadable_toml(cause), ConfigurationError.exit_code
        if isinstance(cause, ConfigFieldMissingException):
            return _missing_credentials(cause, api), ConfigurationError.exit_code
        if isinstance(cause, UnknownDestinationModule):
            return (
                f"Destination {cause.ref!r} could not be set up: dlt knows no destination of that name. Set "
                "--destination to a dlt destination name such as duckdb, postgres, filesystem, bigquery or "
                "snowflake.",
                ConfigurationError.exit_code,
            )
        if isinstance(cause, ConfigValueCannotBeCoercedException):
            return _not_coerced(cause, api), ConfigurationError.exit_code
        if isinstance(cause, requests.ConnectionError | requests.Timeout):
            return _unreachable(cause, api), UnreachableError.exit_code
        if isinstance(cause, requests.HTTPError):
            return str(cause), 4
        if isinstance(cause, OSError) and cause.filename and cause.errno in PATH_ERRNOS:
            return _unwritable(cause), ConfigurationError.exit_code
        package = _missing_package(cause)
        if package:
            return package, ConfigurationError.exit_code
    return _unexpected(error, api), 1
