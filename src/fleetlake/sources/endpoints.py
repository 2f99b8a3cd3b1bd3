"""What every source shares: endpoints described as data, record shaping, and the loops over pages.

A source lists its endpoints as `Endpoint` rows and gives an `ApiClient` its REST clients and how each
paging style is driven; `build_resources` turns the rows into dlt resources (children as transformers
fetched in parallel). Only what a table cannot say is written per API.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import dlt
from dlt.common import jsonpath
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from fleetlake.errors import MissingPrimaryKeyError
from fleetlake.http.prefetch import prefetched
from fleetlake.http.responses import raise_for_api_status
from fleetlake.imports import import_pandas_before_threads

logger = logging.getLogger("fleetlake.sources")

# credentials that some answers carry and that must never reach a table
CREDENTIAL_FIELDS = frozenset(
    {
        "secretKey", "rootPassword", "root_password", "password", "secret", "secret_access_key",
        "sasToken", "serviceAccountKey", "service_account_key", "privateKey", "private_key",
        "credentials", "api_key", "apiKey", "token", "access_token",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint and the table it fills.

    `path` placeholders are filled from the parent record via `parent_fields` (placeholder -> parent
    field); the same parent values are copied onto each child record under `parent_columns`.
    """

    name: str
    server: str
    path: str
    selectors: tuple[str, ...]  # keys holding the list, alternatives in order; () = the answer is the list
    paging: str  # a paging style the API's client knows
    primary_key: tuple[str, ...]
    description: str
    parent: str | None = None
    parent_fields: Mapping[str, str] = field(default_factory=dict)
    parent_columns: Mapping[str, str] = field(default_factory=dict)
    # only parents whose field equals the value have children (backups exist for Dedicated only)
    parent_filter: tuple[str, str] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # dotted paths of ISO-8601 timestamps and of unix epochs (strings or numbers), typed as timestamps
    timestamps: tuple[str, ...] = ()
    epoch_timestamps: tuple[str, ...] = ()
    # a dotted path lifted to a top-level `id` when the record keeps its id nested
    lift_id: str | None = None
    # a timestamp column: re-runs load only records whose cursor moved (merged on the primary key)
    incremental: str | None = None
    # more arguments for `dlt.sources.incremental` (row_order, lag, ...)
    incremental_options: Mapping[str, Any] = field(default_factory=dict)
    # a 404 means the endpoint is not offered: warn and load nothing instead of failing
    optional: bool = False


@lru_cache(maxsize=256)
def selector(keys: tuple[str, ...]) -> Any:
    """A compiled JSONPath picking whichever of `keys` the answer has; `$` when the answer is the list.

    Compiled once: dlt parses a string selector again on every page (a yacc parse, ~1 ms a page).
    """
    if not keys:
        text = "$"
    elif len(keys) == 1:
        text = keys[0]
    else:
        text = "[" + ",".join(f"'{key}'" for key in keys) + "]"
    return jsonpath.compile_path(text)


def drop_credentials(value: Any) -> Any:
    """Remove credential fields (secret keys, passwords, tokens) at any depth."""
    if isinstance(value, dict):
        return {k: drop_credentials(v) for k, v in value.items() if k not in CREDENTIAL_FIELDS}
    if isinstance(value, list):
        return [drop_credentials(v) for v in value]
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string (with `Z`) as an aware UTC datetime; empty values become None."""
    if value in (None, "", "0001-01-01T00:00:00Z"):
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_epoch(value: Any) -> datetime | None:
    """Unix seconds (or milliseconds), as a number or a string, as an aware UTC datetime; 0 is None."""
    if value in (None, "", "0", 0):
        return None
    number = float(value)
    if number > 1e11:  # milliseconds
        number /= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def _convert_path(record: dict[str, Any], dotted: str, convert: Callable[[Any], Any]) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = record
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and leaf in node:
        node[leaf] = convert(node[leaf])


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
) -> list[dict[str, Any]]:
    """Drop credentials, type timestamps, lift nested ids and copy the parent's keys onto each record.

    A record without its primary key stops the run (`MissingPrimaryKeyError`) before anything loads:
    merged on a null key it would overwrite, or be overwritten by, every other such record.
    """
    out: list[dict[str, Any]] = []
    for raw in records:
        record = drop_credentials(raw)
        for path in endpoint.timestamps:
            _convert_path(record, path, parse_timestamp)
        for path in endpoint.epoch_timestamps:
            _convert_path(record, path, parse_epoch)
        if endpoint.lift_id and "id" not in record:
            record["id"] = _get_path(raw, endpoint.lift_id)
        if parent is not None:
            for column, parent_field in endpoint.parent_columns.items():
                record.setdefault(column, parent.get(parent_field))
        for key in endpoint.primary_key:
            if record.get(key) is None:
                raise _missing_key(api, endpoint, key, record, len(out))
        out.append(record)
    return out


def _missing_key(api: str, endpoint: Endpoint, key: str, record: Mapping[str, Any], index: int) -> Exception:
    fields = ", ".join(sorted(record)[:12]) or "none"
    return MissingPrimaryKeyError(
        f"{api} {endpoint.name} answered a record without its primary key `{key}` (record {index + 1} of a page "
        f"of {endpoint.path}; its fields: {fields}). It cannot be merged without a key, so the run was stopped "
        f"before loading and tables keep their last complete load. Report it to the API's support; meanwhile "
        f"leave this resource out with --resources to load the others."
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

    `paginator(endpoint)` and `page_params(endpoint)` say how the API pages each endpoint's style.
    """

    api: str
    credentials_hint: str
    by_server: dict[str, RESTClient]
    paginator: Callable[[Endpoint], BasePaginator]
    page_params: Callable[[Endpoint], dict[str, Any]]
    section: str = ""
    """The source's config section (`tidb_instance_source`), so a 404 names the base URL setting."""
    concurrency: int = 8
    executor: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        # before any of this client's or dlt's worker threads can race to import it (fleetlake.imports)
        import_pandas_before_threads()
        # bounded concurrency for children: one pool per API client, shared by all its child lists
        self.executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"fleetlake-{self.api}")
        # threads end with the client, not with the process (orchestrators build many sources)
        weakref.finalize(self, self.executor.shutdown, wait=False)

    def pages(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        missing_ok: bool = False,
        missing_reason: str = "Its parent was probably deleted after it was listed.",
        prefetch: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The endpoint's records, page by page; 4xx/5xx become fleetlake errors naming the endpoint.

        With `prefetch`, the next page is fetched while the caller handles the current one.
        """
        pages = self._pages(endpoint, path, params, missing_ok=missing_ok, missing_reason=missing_reason)
        return prefetched(pages) if prefetch else pages

    def _pages(
        self,
        endpoint: Endpoint,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        missing_ok: bool,
        missing_reason: str,
    ) -> Iterator[list[dict[str, Any]]]:
        hook = raise_for_api_status(
            self.api,
            endpoint.name,
            credentials_hint=self.credentials_hint,
            base_url_setting=self._setting(endpoint.server),
            missing_ok=missing_ok or endpoint.optional,
            missing_reason=missing_reason if not endpoint.optional else "The API does not offer it here.",
        )
        for page in self.by_server[endpoint.server].paginate(
            path,
            params={**endpoint.params, **self.page_params(endpoint), **(params or {})},
            paginator=self.paginator(endpoint),
            data_selector=selector(endpoint.selectors),
            hooks={"response": [hook]},
        ):
            yield list(page)

    def _setting(self, server: str) -> str:
        return f"`{server}` in [sources.{self.section}]" if self.section else "the base URL setting of this server"

    def get_json(self, server: str, name: str, path: str, **kwargs: Any) -> Any:
        """One request's JSON answer, errors raised as for `pages`."""
        hook = raise_for_api_status(
            self.api, name, credentials_hint=self.credentials_hint, base_url_setting=self._setting(server)
        )
        response = self.by_server[server].request(path, hooks={"response": [hook]}, **kwargs)
        return response.json()


def _hints(endpoint: Endpoint) -> dict[str, Any]:
    return {"primary_key": list(endpoint.primary_key), "write_disposition": "merge"}


def _incremental(endpoint: Endpoint) -> dlt.sources.incremental[Any]:
    assert endpoint.incremental is not None
    return dlt.sources.incremental(endpoint.incremental, **endpoint.incremental_options)


def list_resource(client: ApiClient, endpoint: Endpoint) -> DltResource:
    """A top-level list as a dlt resource, merged on its primary key (incremental when asked)."""

    def fetch() -> Iterator[list[dict[str, Any]]]:
        for page in client.pages(endpoint, endpoint.path, prefetch=True):
            yield shape_records(endpoint, page, api=client.api)

    # parallelized: dlt steps independent lists in its worker pool, so their requests overlap
    resource = dlt.resource(fetch, name=endpoint.name, parallelized=True, **_hints(endpoint))
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
        for record, rows in zip(wanted, client.executor.map(children, wanted), strict=True):
            yield shape_records(endpoint, rows, parent=record, api=client.api)

    resource = dlt.transformer(fetch, data_from=parent, name=endpoint.name, parallelized=True, **_hints(endpoint))
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
    return built
