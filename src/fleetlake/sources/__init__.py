"""The registry of APIs fleetlake loads: each API's declared `ApiContract`, in load order.

An API is one package, `fleetlake/sources/<api>/`, whose `__init__.py` declares its `CONTRACT`, and
one emulator package. The bundled ones are listed below; another package can add its own through the
entry point group `fleetlake.apis` (`[project.entry-points."fleetlake.apis"]`, each naming a contract):
the CLI, the demo and the checks then offer it like the bundled ones.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from fleetlake.errors import ConfigurationError
from fleetlake.sources import secoda, skysql, tidb_cloud
from fleetlake.sources.api import ApiContract

__all__ = ["BUNDLED", "ENTRY_POINT_GROUP", "REGISTRY", "ApiContract", "get_api", "register"]

logger = logging.getLogger("fleetlake.sources")

ENTRY_POINT_GROUP = "fleetlake.apis"

REGISTRY: dict[str, ApiContract] = {}


def register(contract: ApiContract) -> ApiContract:
    """Add an API to the registry; a name or section already taken by another API is refused."""
    for known in REGISTRY.values():
        if known.name == contract.name and known is not contract:
            raise ConfigurationError(f"Two APIs are named {contract.name!r}: {known.title} and {contract.title}.")
        if known.section == contract.section and known.name != contract.name:
            raise ConfigurationError(
                f"{contract.title} and {known.title} both read [sources.{contract.section}]; each API needs its own."
            )
    REGISTRY[contract.name] = contract
    return contract


def _installed() -> None:
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            contract = point.load()
        except Exception as error:  # one broken plugin must not take the bundled APIs down
            logger.warning("the API plugin %s (%s) could not be loaded: %s", point.name, point.value, error)
            continue
        if not isinstance(contract, ApiContract):
            logger.warning("the API plugin %s (%s) is not an ApiContract; left out", point.name, point.value)
            continue
        register(contract)


BUNDLED: tuple[ApiContract, ...] = (tidb_cloud.CONTRACT, skysql.CONTRACT, secoda.CONTRACT)
"""The APIs fleetlake ships (the README documents each)."""

for _contract in BUNDLED:
    register(_contract)
_installed()


def get_api(name: str) -> ApiContract:
    """The contract of an API by its command-line name, or a `ConfigurationError` listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise ConfigurationError(f"Unknown API {name!r}. fleetlake loads: {known}.") from None
