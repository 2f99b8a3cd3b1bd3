"""Several accounts of one API: named in configuration, each with its own keys, loaded side by side.

The seed pages' single section (`[sources.tidb_instance_source]` with one key) stays one account, loaded
exactly as before. Naming accounts turns the section into their defaults:

    [sources.tidb_instance_source]
    accounts = ["prod", "staging"]       # or SOURCES__TIDB_INSTANCE_SOURCE__ACCOUNTS='["prod","staging"]'

    [sources.tidb_instance_source.prod]  # SOURCES__TIDB_INSTANCE_SOURCE__PROD__PUBLIC_KEY, ...
    public_key = "..."
    private_key = "..."

Each account's settings are read from its own section and fall back to the API's (a shared `base_url`),
except its secrets, which must be its own: a key that silently fell back would load one organization
twice under two names. Each account is its own dlt pipeline (`tidb_instance_pipeline_prod`), so its
state and incremental cursors are its own, loading into the API's one dataset; every row carries the
account's name in `fleetlake_account`, which leads every primary key, so two organizations with the same
ids never collide and removing an account from the list removes none of its rows.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleetlake.errors import ConfigurationError, FleetlakeError, OrganizationChangedError, env_variable
from fleetlake.sources.api import ApiContract

ACCOUNT_COLUMN = "fleetlake_account"
"""The column naming the account of every row, first in every primary key."""
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
Lookup = Callable[[str, Any], Any]
"""Reads a setting by its key, as a type (or None: as written)."""


@dataclass(frozen=True)
class Account:
    """One configured account of an API: its name and the settings given in its own section."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict, repr=False)  # holds secrets: never shown

    def pipeline_name(self, api: ApiContract) -> str:
        return f"{api.pipeline_name}_{self.name}"


def _names(raw: Any, api: ApiContract) -> list[str]:
    where = f"`accounts` in [sources.{api.section}] (or {env_variable(f'sources.{api.section}', 'accounts')})"
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",")]
        except ValueError:
            raise ConfigurationError(f"{where} is {raw!r}, which is not a list of names.") from None
    if not isinstance(raw, list) or not raw or not all(isinstance(name, str) for name in raw):
        raise ConfigurationError(
            f'{where} must be a list of account names, e.g. accounts = ["prod", "staging"]; it is {raw!r}.'
        )
    for name in raw:
        if not NAME.fullmatch(name):
            raise ConfigurationError(
                f"{where} names {name!r}: an account name is lower-case letters, digits and underscores, starting "
                "with a letter (it names the account's pipeline and its section)."
            )
    if len(set(raw)) != len(raw):
        raise ConfigurationError(f"{where} names an account twice: {raw!r}.")
    return list(raw)


def account_names(api: ApiContract, lookup: Lookup | None = None) -> list[str] | None:
    """The names in the API's `accounts` setting, or None when it names none; no key is read."""
    raw = (lookup or setting)(f"sources.{api.section}.accounts", None)
    return None if raw is None else _names(raw, api)


def configured_accounts(api: ApiContract, lookup: Lookup | None = None) -> list[Account] | None:
    """The API's named accounts with their own settings, or None when it names none (the seed pages' one key).

    `lookup(key, type)` reads a setting as that type (dlt's secrets, then its config, by default).
    """
    get = lookup or setting
    names = account_names(api, get)
    if names is None:
        return None
    accounts = []
    function = inspect.unwrap(api.source())
    hints = typing.get_type_hints(function)
    parameters = [name for name in inspect.signature(function).parameters if name != "accounts"]
    for name in names:
        section = f"sources.{api.section}.{name}"
        settings: dict[str, Any] = {}
        for parameter in parameters:
            # typed as the source declares it (a page size from the environment is text until then)
            hint = hints.get(parameter)
            value: Any = get(f"{section}.{parameter}", hint if hint in (int, float, bool) else None)
            if value is not None:
                settings[parameter] = value
        missing = [secret for secret in api.secret_settings if not settings.get(secret)]
        if missing:
            variables = ", ".join(env_variable(section, secret) for secret in missing)
            raise ConfigurationError(
                f"Account {name!r} of {api.title} has no {', '.join(missing)} of its own: set "
                f"{', '.join(missing)} under [{section}] in .dlt/secrets.toml (or {variables}). An account's keys are "
                "never taken from another section: that would load one organization under two names."
            )
        accounts.append(Account(name, settings))
    return accounts


def setting(key: str, expected: Any = None) -> Any:
    """A setting from dlt's secrets (secrets.toml, the environment), else its config (config.toml), as the
    `expected` type (dlt's own coercion: "2" from the environment is 2 for an int)."""
    import dlt

    value: Any = dlt.secrets.get(key, expected)
    return value if value is not None else dlt.config.get(key, expected)


ORGANIZATION_COLUMN = "fleetlake_organization"
"""The vendor's organization or workspace id behind an account, second in every primary key."""
ORGANIZATION_STATE = "fleetlake_organization"
"""Where an account's pipeline keeps the organization it loads (its source state, in the destination too)."""


def organization_to_load(api: ApiContract, account: Account, settings: dict[str, Any], known: str | None) -> str | None:
    """The organization an account's rows are keyed by this run, asked of the API before anything extracts.

    `known` is what the account's pipeline loaded before (its state). A key that now answers for another
    organization is refused (`OrganizationChangedError`), so one account name never holds two
    organizations' rows. The first organization stored stays the key: an account first loaded while its
    answers named none (an empty workspace) keeps "" rather than splitting every row into two. A question
    that fails alone (a role the key lacks on that list) keys the rows by the organization known from
    before; on a first run by "", which is then stored like an answer for the same reason: an id stored
    only later would key the same rows a second time.
    """
    try:
        seen = api.identify(**settings)
    except FleetlakeError as error:
        if error.stops_run:
            raise
        logging.getLogger("fleetlake").warning(
            "%s (%s): could not ask which organization the key answers for (%s); its rows are keyed by the "
            "organization its pipeline loaded before, %r.",
            api.title, account.name, error.message, known or "",
        )  # fmt: skip
        return known if known is not None else ""
    if seen is None:
        return None
    if known and seen != known:
        raise organization_changed(api, account, seen, known)
    return known if known is not None else seen


def organization_changed(api: ApiContract, account: Account, seen: str, known: str) -> OrganizationChangedError:
    pipeline = account.pipeline_name(api)
    return OrganizationChangedError(
        f"Account {account.name!r} of {api.title} now answers for organization {seen}, but its pipeline "
        f"{pipeline} loaded organization {known} before: the key under [sources.{api.section}."
        f"{account.name}] belongs to another organization, so nothing of this run loads. Put the key "
        "back; or, if this is another organization, give it an account name of its own (its rows then "
        f"load beside the first one's); or start the account over (`dlt pipeline {pipeline} drop "
        "--drop-all`, and delete its rows)."
    )


def tag_rows(source: Any, account: Account, organization: str | None) -> Any:
    """Every resource of `source` writes `fleetlake_account` (and, where the API names one, the vendor's
    `fleetlake_organization`) on its rows, first in its primary key; the organization is kept in the
    account pipeline's state, where the next run compares it."""
    tagged = [ACCOUNT_COLUMN] if organization is None else [ACCOUNT_COLUMN, ORGANIZATION_COLUMN]
    for resource in source.resources.values():
        columns = resource.compute_table_schema().get("columns", {})
        key = [column_name for column_name, column in columns.items() if column.get("primary_key")]
        resource.add_map(_tagger(account.name, organization))
        if key:
            resource.apply_hints(primary_key=[*tagged, *key])
    return source


def _tagger(name: str, organization: str | None) -> Callable[[Any], Any]:
    tags: dict[str, Any] = {ACCOUNT_COLUMN: name}
    if organization is not None:
        tags[ORGANIZATION_COLUMN] = organization
    remembered = False

    def tag(item: Any) -> Any:
        nonlocal remembered
        if organization is not None and not remembered:
            import dlt

            dlt.current.source_state().setdefault(ORGANIZATION_STATE, organization)
            remembered = True
        if isinstance(item, dict):
            return {**tags, **item}
        if isinstance(item, list):
            return [{**tags, **row} if isinstance(row, dict) else row for row in item]
        return _tag_arrow(item, tags)

    return tag


def _tag_arrow(item: Any, tags: dict[str, Any]) -> Any:
    """An Arrow table or batch with the account (and organization) as first columns (the audit logs come
    as Arrow)."""
    columns = getattr(item, "column_names", None)
    if columns is None or ACCOUNT_COLUMN in columns:
        return item
    import pyarrow as pa

    for position, (column, value) in enumerate(tags.items()):
        item = item.add_column(position, column, pa.array([value] * item.num_rows, pa.string()))
    return item


def to_run(accounts: list[Account] | None) -> list[Account | None]:
    """The accounts to run: the named ones, or (None) the one account of the seed pages' single section."""
    return list(accounts) if accounts is not None else [None]
