"""The contract of one API: everything the CLI, the runner and the tests need to know about it.

Each `fleetlake/sources/<api>/__init__.py` declares its `CONTRACT` from its own `settings.py`; the
registry (`fleetlake.sources`) imports those for real. A contract is cheap to import: the source, its
check and its emulator are imported only when asked for (`source()`, `check()`, `emulator()`), so
`fleetlake --help` and `fleetlake resources` answer without importing dlt.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlt.extract.source import DltSource

    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult

SourceFactory = Callable[..., "DltSource"]


@dataclass(frozen=True)
class ApiContract:
    """One API fleetlake loads.

    `source`, `checker` and `emulator` return the real objects, imported on first call: each API's package
    writes them as small functions with a real import inside, so mypy checks them like any import.
    """

    name: str
    """As typed on the command line (`fleetlake run tidb`)."""
    title: str
    section: str
    """`[sources.<section>]` in .dlt/secrets.toml, as the seed pages name it."""
    pipeline_name: str
    dataset_name: str
    source: Callable[[], SourceFactory]
    """The `@dlt.source` function."""
    checker: Callable[[], Callable[..., list[CheckResult]]]
    """The check: one cheap request per server, its settings resolved as the source resolves them."""
    emulator: Callable[[], type[Emulator]]
    """The bundled emulator's class."""
    descriptions: Callable[[], Mapping[str, str]]
    """Each resource's table name and what it holds, in load order."""
    example_query: str = ""
    """A first SQL query to suggest, with {dataset} for the dataset name."""
    companions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Resources that must load along with another: their parent keeps a cursor that only moves safely
    when the parent's own rows are loaded too."""
    identifier: Callable[[], Callable[..., str]] | None = None
    """Asks which organization a key answers for, in one cheap request ("" when the answer names none):
    an account's rows carry it beside the account's name, in every primary key, and an account whose key
    starts answering for another organization is refused before anything of it loads."""
    organization: str | None = None
    """The table of the list that `identifier` asks (one row per organization or a few): where a run
    counts the accounts a dataset holds."""

    def make_source(self, **settings: Any) -> DltSource:
        return self.source()(**settings)

    def check(self, **settings: Any) -> list[CheckResult]:
        """The check, given those of `settings` it takes (an account's own win over the configuration)."""
        check = self.checker()
        taken = inspect.signature(inspect.unwrap(check)).parameters
        return check(**{name: value for name, value in settings.items() if name in taken})

    def identify(self, **settings: Any) -> str | None:
        """The organization the account's key answers for (None for an API that names none)."""
        if self.identifier is None:
            return None
        identify = self.identifier()
        taken = inspect.signature(inspect.unwrap(identify)).parameters
        return identify(**{name: value for name, value in settings.items() if name in taken})

    def resource_descriptions(self) -> Mapping[str, str]:
        return self.descriptions()

    @property
    def secret_settings(self) -> tuple[str, ...]:
        """The source's arguments typed as secrets (`TSecretStrValue`): never shown, never stored."""
        return _arguments(self.source())[0]

    @property
    def url_settings(self) -> tuple[str, ...]:
        """The source's arguments holding a server's address (`base_url`, `iam_base_url`, ...), to name
        the one pointing at a host that fails."""
        return _arguments(self.source())[1]


@functools.cache
def _arguments(factory: SourceFactory) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from dlt.common.configuration.specs.base_configuration import is_secret_hint

    function = inspect.unwrap(factory)  # dlt's decorator keeps the function as `__wrapped__`
    hints = typing.get_type_hints(function, include_extras=True)
    names = list(inspect.signature(function).parameters)
    secrets = tuple(name for name in names if name in hints and is_secret_hint(hints[name]))
    urls = tuple(name for name in names if name == "base_url" or name.endswith("_base_url"))
    return secrets, urls
