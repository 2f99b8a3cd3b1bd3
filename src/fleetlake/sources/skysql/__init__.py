"""SkySQL (MariaDB Cloud): services, topologies, backups and schedules, billing.

This module is the API's declared contract, cheap to import; the dlt source is in `source.py` and the
emulator in `fleetlake.emulators.skysql`, each imported when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fleetlake.sources.api import ApiContract, SourceFactory
from fleetlake.sources.skysql import settings

if TYPE_CHECKING:
    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult


def _source() -> SourceFactory:
    from fleetlake.sources.skysql.source import skysql_source

    return skysql_source


def _check() -> Callable[..., list[CheckResult]]:
    from fleetlake.sources.skysql.source import check_skysql

    return check_skysql


def _identify() -> Callable[..., str]:
    from fleetlake.sources.skysql.source import skysql_organization

    return skysql_organization


def _emulator() -> type[Emulator]:
    from fleetlake.emulators.skysql import SkySQLEmulator

    return SkySQLEmulator


CONTRACT = ApiContract(
    name="skysql",
    title=settings.TITLE,
    section=settings.SECTION,
    pipeline_name=settings.PIPELINE_NAME,
    dataset_name=settings.DATASET_NAME,
    source=_source,
    checker=_check,
    emulator=_emulator,
    identifier=_identify,
    descriptions=settings.resource_descriptions,
    organization="billing_account",
    example_query="SELECT name, topology, provider, region, status FROM {dataset}.services ORDER BY name",
)
