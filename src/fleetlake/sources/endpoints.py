"""What every source shares: endpoints described as data, record shaping, and the loops over pages.

A source lists its endpoints as `Endpoint` rows and gives an `ApiClient` its REST clients and how each
paging style is driven; `build_resources` turns the rows into dlt resources (children as transformers
fetched in parallel), each failing alone (`fleetlake.sources.guard`). Only what a table cannot say is
written per API.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import dlt
from dlt.common import jsonpath
from dlt.common.runtime import signals
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Response

from fleetlake import outcomes as run_outcomes
from fleetlake.errors import ApiError, MissingPrimaryKeyError, RunAbortedError
from fleetlake.http.prefetch import prefetched
from fleetlake.http.responses import ResponseHook, raise_for_api_status
from fleetlake.http.session import PacedAdapter
from fleetlake.imports import import_pandas_before_threads
from fleetlake.outcomes import RunOutcomes
from fleetlake.sources.guard import guarded, stop_if_aborted
from fleetlake.sources.lists import Endpoint
from fleetlake.sources.paging import MayEndEarly, PagingStyle
from fleetlake.sources.values import VARIANT_SUFFIX, Typer, UntypableValueError, to_timestamp

logger = logging.getLogger("fleetlake.sources")

T = TypeVar("T")

# credentials that some answers carry and that must never reach a table
CREDENTIAL_FIELDS = frozenset(
    {
        "secretKey", "rootPassword", "root_password", "password", "secret", "secret_access_key",
        "sasToken", "serviceAccountKey", "service_account_key", "privateKey", "private_key",
        "credentials", "api_key", "apiKey", "token", "access_token",
    }
)  # fmt: skip
# and any field named like one, whatever its prefix (a changefeed's `schemaRegistry.basicAuthPassword`,
# a `client_secret`): compared without case and underscores
CREDENTIAL_SUFFIXES = ("password", "secret", "secretkey", "sastoken", "privatekey", "accesstoken", "apikey")


@lru_cache(maxsize=1024)
def is_credential(key: str) -> bool:
    """Whether a field of an answer holds a credential and must be dropped before loading."""
    return key in CREDENTIAL_FIELDS or key.lower().replace("_", "").endswith(CREDENTIAL_SUFFIXES)


@lru_cache(maxsize=256)
def selector(keys: tuple[str, ...] | None) -> Any:
    """A compiled JSONPath picking whichever of `keys` the answer has; `$` when the answer is the list;
    None (dlt detects the list, bare or in an envelope) when `keys` is None.

    Compiled once: dlt parses a string selector again on every page (a yacc parse, ~1 ms a page).
    """
    if keys is None:
        return None
    if not keys:
        text = "$"
    elif len(keys) == 1:
        text = keys[0]
    else:
        text = "[" + ",".join(f"'{key}'" for key in keys) + "]"
    return jsonpath.compile_path(text)


INT64 = range(-(2**63), 2**63)


def _beyond_64_bits(value: Any) -> bool:
    # JSON parsers hand such integers over as floats (orjson: 3.16e+24), which dlt coerces into an
    # integer column all the same: both are kept as text
    if isinstance(value, float):
        return abs(value) >= 2.0**63 and value == value
    return isinstance(value, int) and not isinstance(value, bool) and value not in INT64


def sanitized(value: Any) -> Any:
    """A record as fleetlake loads it, at any depth: credential fields (secret keys, passwords, tokens)
    removed, and integers beyond 64 bits (no database column holds them, and one failed dlt's whole
    normalize step) moved to the field's variant column as text, `<field>__v_text` (a list holding
    one moves there whole, as JSON): dlt would coerce their digits back into the integer column."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if is_credential(key):
                continue
            if _beyond_64_bits(item):
                out[key + VARIANT_SUFFIX] = repr(item) if isinstance(item, float) else str(item)
            elif isinstance(item, list) and any(_beyond_64_bits(element) for element in item):
                out[key + VARIANT_SUFFIX] = json.dumps(item, default=str)
            else:
                out[key] = sanitized(item)
        return out
    if isinstance(value, list):
        return [sanitized(v) for v in value]
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """A time in any form the vendors send as an aware UTC datetime; None when empty. Raises
    `UntypableValueError` (a `ValueError`) for a value no form fits."""
    return to_timestamp(value)


def _get_path(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def shape_records(
    endpoint: Endpoint,
    records: Iterable[dict[str, Any]],
    parent: Mapping[str, Any] | None = None,
    *,
    api: str = "",
    outcomes: RunOutcomes | None = None,
) -> list[dict[str, Any]]:
    """Sanitize (`sanitized`), type timestamps, lift nested ids and copy the parent's keys onto each record.

    Primary key values that come as numbers are loaded as text, as the vendors document them (a key
    whose type flips would split a merge). A record without its primary key fails the resource
    (`MissingPrimaryKeyError`) before anything of it loads: merged on a null key it would overwrite, or
    be overwritten by, every other such record.
    """
    typer = Typer(api, endpoint.name, outcomes)
    out: list[dict[str, Any]] = []
    for raw in records:
        if not isinstance(raw, dict):
            raise UntypableValueError(
                f"record {len(out) + 1} of a page of {endpoint.path} is a {type(raw).__name__}, not an object"
            )
        record = sanitized(raw)
        for path in endpoint.timestamps:
            typer.convert(record, path, to_timestamp)
        if endpoint.lift_id and "id" not in record:
            record["id"] = _get_path(raw, endpoint.lift_id)
        if parent is not None:
            for column, parent_field in endpoint.parent_columns.items():
                record.setdefault(column, parent.get(parent_field))
        for key in endpoint.primary_key:
            value = record.get(key)
            if value is None or value == "":
                raise _missing_key(api, endpoint, key, record, len(out))
            if isinstance(value, int | float) and not isinstance(value, bool):
                record[key] = str(value)
        out.append(record)
    return out


def _missing_key(api: str, endpoint: Endpoint, key: str, record: Mapping[str, Any], index: int) -> Exception:
    fields = ", ".join(sorted(record)[:12]) or "none"
    return MissingPrimaryKeyError(
        f"{api} {endpoint.name} answered a record without its primary key `{key}` (record {index + 1} of a page "
        f"of {endpoint.path}; its fields: {fields}). It cannot be merged without a key, so this resource loads "
        f"nothing from this run and keeps its last complete load; the others load. Report it to the API's "
        f"support; meanwhile --resources without it runs clean."
    )


def parent_has_children(endpoint: Endpoint, parent: Mapping[str, Any]) -> bool:
    """False for parents the endpoint does not apply to (backups of a Starter cluster)."""
    if endpoint.parent_filter is None:
        return True
    name, expected = endpoint.parent_filter
    return parent.get(name) == expected


@dataclass
class ApiClient:
    """The REST clients of one API (one per server), sharing a session, an auth and a quota.

    `paging` maps each endpoint's `paging` name to its `PagingStyle` (paginator and page size).
    `outcomes` is the run's record of what each resource came to: the collector current when the
    client is built (`fleetlake.outcomes.collecting`), or a strict one outside fleetlake's runner.
    """

    api: str
    credentials_hint: str
    by_server: dict[str, RESTClient]
    paging: Mapping[str, PagingStyle]
    section: str = ""
    """The source's config section (`tidb_instance_source`), so a 404 names the base URL setting."""
    concurrency: int = 8
    outcomes: RunOutcomes = field(default_factory=run_outcomes.current)
    executor: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        # before any of this client's or dlt's worker threads can race to import it (fleetlake.imports)
        import_pandas_before_threads()
        # bounded concurrency for children: one pool per API client, shared by all its child lists
        self.executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"fleetlake-{self.api}")
        # threads end with the client, not with the process (orchestrators build many sources)
        weakref.finalize(self, self.executor.shutdown, wait=False)
        # a request waiting for the quota gives up when the run stops
        for rest in self.by_server.values():
            for adapter in rest.session.adapters.values():
                if isinstance(adapter, PacedAdapter):
                    adapter.abort = self.stopped

    def guard(
        self, resource: str, function: Callable[..., Iterator[Any]], *, parent: str | None = None
    ) -> Callable[..., Iterator[Any]]:
        """`function` (a resource's or transformer's generator function) failing alone as `resource`."""
        return guarded(self.api, self.outcomes, resource, function, parent=parent)

    def shape(
        self, endpoint: Endpoint, records: Iterable[dict[str, Any]], parent: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """`shape_records` for this API and run."""
        return shape_records(endpoint, records, parent, api=self.api, outcomes=self.outcomes)

    def pages(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        missing_ok: bool = False,
        missing_reason: str = "Its parent was probably deleted after it was listed.",
        prefetch: bool = False,
        paginator: BasePaginator | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The endpoint's records, page by page; 4xx/5xx become fleetlake errors naming the endpoint.

        With `prefetch`, the next page is fetched while the caller handles the current one. `paginator`
        replaces the style's own (a list read from its second page on, its first already in hand).
        """
        pages = self._pages(
            endpoint, path, params, missing_ok=missing_ok, missing_reason=missing_reason, paginator=paginator
        )
        return prefetched(pages, abort=self.stopped) if prefetch else pages

    def stopped(self) -> BaseException | None:
        """The error to stop with when another resource stopped the run or a signal (Ctrl-C, SIGTERM) came,
        else None: worker threads stop waiting at once, and dlt's extract raises the signal."""
        if signals.was_signal_received():
            return signals.exception_for_signal()
        aborted = self.outcomes.aborted
        return RunAbortedError(aborted) if aborted is not None else None

    def map(self, function: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
        """`function` over `items` in the client's pool, results in order; stops at once when the run
        stops (dlt gives its worker threads 2 s to end, and this runs in one of them)."""
        futures = [self.executor.submit(function, item) for item in items]
        try:
            for future in futures:
                while True:
                    try:
                        yield future.result(timeout=0.1)
                        break
                    except FutureTimeout:
                        stopped = self.stopped()
                        if stopped is not None:
                            raise stopped from None
        finally:
            for future in futures:
                future.cancel()

    def _hook(self, name: str, check: ResponseHook, on_answer: ResponseHook | None = None) -> ResponseHook:
        """A response hook: remember the URL (for a failure to name), check the status, stop if the run stops."""

        def hook(response: Response, *args: Any, **kwargs: Any) -> None:
            self.outcomes.note_url(name, f"{response.request.method} {response.url}")
            stop_if_aborted(self.outcomes)
            check(response, *args, **kwargs)
            if on_answer is not None:
                on_answer(response)

        return hook

    def _pages(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        missing_ok: bool,
        missing_reason: str,
        paginator: BasePaginator | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        name = endpoint.name

        def not_offered(detail: str) -> None:
            self.outcomes.not_offered(
                name, f"{endpoint.path} answered 404 ({detail}): the API does not offer it here; nothing to load."
            )

        def vanished(detail: str) -> None:
            self.outcomes.missing(
                name,
                ApiError(
                    f"{self.api} {name} ({self.outcomes.url_of(name)}) answered 404 Not Found: {detail}. Check "
                    f"{self._setting(endpoint.server)}, or leave this resource out with --resources.",
                    status=404,
                ),
            )

        status = raise_for_api_status(
            self.api,
            name,
            credentials_hint=self.credentials_hint,
            base_url_setting=self._setting(endpoint.server),
            missing_ok=missing_ok or endpoint.optional,
            missing_reason=missing_reason if not endpoint.optional else "The API does not offer it here.",
            on_missing=not_offered if endpoint.optional else vanished if missing_ok else None,
        )
        stated: list[int] = []

        def count(response: Response) -> None:
            if response.status_code < 300:
                self.outcomes.answered(name)
            # the count the first page states, for a list that ends short of it
            if endpoint.total and not stated and response.status_code < 300:
                body = response.json()
                value = body.get(endpoint.total) if isinstance(body, dict) else None
                if isinstance(value, int | str) and str(value).isdigit():
                    stated.append(int(value))

        style = self.paging[endpoint.paging]
        paginator = paginator or style.paginator(f"{self.api} {name}")
        records = 0
        for page in self.by_server[endpoint.server].paginate(
            path,
            params={**endpoint.params, **style.params(), **(params or {})},
            paginator=paginator,
            data_selector=selector(endpoint.selectors),
            hooks={"response": [self._hook(name, status, count)]},
        ):
            records += len(page)
            yield list(page)
        # the list ran to its end (a consumer that stops early, at an incremental cursor, never gets here)
        if isinstance(paginator, MayEndEarly) and paginator.incomplete:
            self.outcomes.incomplete(name, paginator.incomplete)
        elif stated and records < stated[0]:
            self.outcomes.incomplete(
                name,
                f"{path} said it holds {stated[0]} records (`{endpoint.total}`), but its pages ended after "
                f"{records}: the next-page pointer was missing early. What loaded is right; some records may "
                f"be missing. Run again; if it persists, report it to {self.api}.",
            )

    def _setting(self, server: str) -> str:
        return f"`{server}` in [sources.{self.section}]" if self.section else "the base URL setting of this server"

    def get_json(self, server: str, name: str, path: str, **kwargs: Any) -> Any:
        """One request's JSON answer, errors raised as for `pages`."""
        status = raise_for_api_status(
            self.api, name, credentials_hint=self.credentials_hint, base_url_setting=self._setting(server)
        )
        response = self.by_server[server].request(path, hooks={"response": [self._hook(name, status)]}, **kwargs)
        return response.json()


def _hints(endpoint: Endpoint) -> dict[str, Any]:
    return {"primary_key": list(endpoint.primary_key), "write_disposition": "merge"}


def incremental(cursor: str, **options: Any) -> dlt.sources.incremental[Any]:
    """dlt's incremental cursor as every fleetlake resource uses it: a record whose cursor value is missing
    (or was kept as text, fitting no time format) is loaded, not a reason to fail the run."""
    return dlt.sources.incremental(cursor, on_cursor_value_missing="include", **options)


def _incremental(endpoint: Endpoint) -> dlt.sources.incremental[Any]:
    assert endpoint.incremental is not None
    return incremental(endpoint.incremental, **endpoint.incremental_options)


def list_resource(client: ApiClient, endpoint: Endpoint) -> DltResource:
    """A top-level list as a dlt resource, merged on its primary key (incremental when asked)."""

    def fetch() -> Iterator[list[dict[str, Any]]]:
        for page in client.pages(endpoint, endpoint.path, prefetch=True):
            yield client.shape(endpoint, page)

    # parallelized: dlt steps independent lists in its worker pool, so their requests overlap
    resource = dlt.resource(
        client.guard(endpoint.name, fetch), name=endpoint.name, parallelized=True, **_hints(endpoint)
    )
    if endpoint.incremental:
        resource.apply_hints(incremental=_incremental(endpoint))
    return resource


def child_resource(client: ApiClient, endpoint: Endpoint, parent: DltResource) -> DltResource:
    """A list per parent record, fetched in parallel; a parent gone by the time of the fetch is skipped."""

    def children(record: dict[str, Any]) -> list[dict[str, Any]]:
        values = {ph: record[name] for ph, name in endpoint.parent_fields.items()}
        path = endpoint.path.format(**values)
        # parent values with no placeholder in the path go in the query (?service_id=...)
        params = {ph: value for ph, value in values.items() if "{" + ph + "}" not in endpoint.path}
        return [row for page in client.pages(endpoint, path, params, missing_ok=True) for row in page]

    def fetch(parents: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        # the parents of one page are fetched at once, bounded by the client's pool
        wanted = [record for record in parents if parent_has_children(endpoint, record)]
        for record, rows in zip(wanted, client.map(children, wanted), strict=True):
            yield client.shape(endpoint, rows, parent=record)

    resource = dlt.transformer(
        client.guard(endpoint.name, fetch, parent=endpoint.parent),
        data_from=parent,
        name=endpoint.name,
        parallelized=True,
        **_hints(endpoint),
    )
    if endpoint.incremental:
        resource.apply_hints(incremental=_incremental(endpoint))
    return resource


def build_resources(client: ApiClient, endpoints: Iterable[Endpoint]) -> dict[str, DltResource]:
    """Every endpoint as a resource, children wired to their parents, in table order."""
    built: dict[str, DltResource] = {}
    for endpoint in endpoints:
        if endpoint.parent is None:
            built[endpoint.name] = list_resource(client, endpoint)
        else:
            built[endpoint.name] = child_resource(client, endpoint, built[endpoint.parent])
        if endpoint.max_table_nesting is not None:
            built[endpoint.name].max_table_nesting = endpoint.max_table_nesting
    return built
