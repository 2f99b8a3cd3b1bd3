"""The row type of the endpoint tables (`settings.ENDPOINTS` of each API), free of dlt and requests:
the CLI describes an API's resources, and the registry declares it, without importing either."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint and the table it fills.

    `path` placeholders are filled from the parent record via `parent_fields` (placeholder -> parent
    field); the same parent values are copied onto each child record under `parent_columns`.
    """

    name: str
    server: str
    path: str
    # keys holding the list, alternatives in order; () = the answer is the list; None = the answer is the
    # list or an envelope holding it (dlt detects which from the first page)
    selectors: tuple[str, ...] | None
    paging: str  # a paging style the API's client knows
    primary_key: tuple[str, ...]
    description: str
    parent: str | None = None
    parent_fields: Mapping[str, str] = field(default_factory=dict)
    parent_columns: Mapping[str, str] = field(default_factory=dict)
    # only parents whose field equals the value have children (backups exist for Dedicated only)
    parent_filter: tuple[str, str] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # dotted paths of times, typed as timestamps whatever form they come in (ISO-8601, unix seconds or
    # milliseconds); a value that fits none is kept as text (`fleetlake.sources.values`)
    timestamps: tuple[str, ...] = ()
    # a dotted path lifted to a top-level `id` when the record keeps its id nested
    lift_id: str | None = None
    # a timestamp column: re-runs load only records whose cursor moved (merged on the primary key)
    incremental: str | None = None
    # more arguments for `dlt.sources.incremental` (row_order, lag, ...)
    incremental_options: Mapping[str, Any] = field(default_factory=dict)
    # a 404 means the endpoint is not offered: warn and load nothing instead of failing
    optional: bool = False
    # fewer levels of nested tables than the source's 2, where a deeper one would get a name longer than
    # PostgreSQL's 63 characters (which it would cut and suffix with a hash): the deepest lists stay JSON
    max_table_nesting: int | None = None
    # the key of the answer stating how many records the list holds (`total`, `totalSize`, `count`): a
    # list whose pages end short of it is reported possibly incomplete
    total: str | None = None
