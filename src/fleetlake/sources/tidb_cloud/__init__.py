"""TiDB Cloud: projects, clusters, backups, restores, imports, regions, node specs, API keys, audit logs, bills.

This module is the API's declared contract, cheap to import; the dlt source is in `source.py` and the
emulator in `fleetlake.emulators.tidb_cloud`, each imported when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fleetlake.sources.api import ApiContract, SourceFactory
from fleetlake.sources.tidb_cloud import settings

if TYPE_CHECKING:
    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult


def _source() -> SourceFactory:
    from fleetlake.sources.tidb_cloud.source import tidb_instance_source

    return tidb_instance_source


def _check() -> Callable[..., list[CheckResult]]:
    from fleetlake.sources.tidb_cloud.source import check_tidb_cloud

    return check_tidb_cloud


def _identify() -> Callable[..., str]:
    from fleetlake.sources.tidb_cloud.source import tidb_cloud_organization

    return tidb_cloud_organization


def _emulator() -> type[Emulator]:
    from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator

    return TiDBCloudEmulator


CONTRACT = ApiContract(
    name="tidb",
    title=settings.TITLE,
    section=settings.SECTION,
    pipeline_name=settings.PIPELINE_NAME,
    dataset_name=settings.DATASET_NAME,
    source=_source,
    checker=_check,
    emulator=_emulator,
    identifier=_identify,
    descriptions=settings.resource_descriptions,
    organization="projects",
    example_query="SELECT name, cluster_type, region, status__cluster_status FROM {dataset}.clusters ORDER BY name",
)
