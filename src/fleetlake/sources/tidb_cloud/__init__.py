"""TiDB Cloud: projects, clusters, backups, restores, imports, regions, node specs, API keys, audit logs, bills.

This module is the API's declared contract, cheap to import; the dlt source is in `source.py` and the
emulator in `fleetlake.emulators.tidb_cloud`, each imported when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fleetlake.sources.api import ApiContract, SourceFactory, call_with
from fleetlake.sources.tidb_cloud import settings

if TYPE_CHECKING:
    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult


def _source() -> SourceFactory:
    from fleetlake.sources.tidb_cloud.source import tidb_instance_source

    return tidb_instance_source


def _check(**settings: Any) -> list[CheckResult]:
    from fleetlake.sources.tidb_cloud.source import check_tidb_cloud

    result: list[CheckResult] = call_with(check_tidb_cloud, settings)
    return result


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
    check=_check,
    emulator=_emulator,
    descriptions=settings.resource_descriptions,
    organization=("projects", "org_id"),
    example_query="SELECT name, cluster_type, region, status__cluster_status FROM {dataset}.clusters ORDER BY name",
)
