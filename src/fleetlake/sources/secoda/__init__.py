"""Secoda: catalog resources, documents, collections, integrations, audit log.

This module is the API's declared contract, cheap to import; the dlt source is in `source.py` and the
emulator in `fleetlake.emulators.secoda`, each imported when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fleetlake.sources.api import ApiContract, SourceFactory
from fleetlake.sources.secoda import settings

if TYPE_CHECKING:
    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult


def _source() -> SourceFactory:
    from fleetlake.sources.secoda.source import secoda_source

    return secoda_source


def _check() -> Callable[..., list[CheckResult]]:
    from fleetlake.sources.secoda.source import check_secoda

    return check_secoda


def _identify() -> Callable[..., str]:
    from fleetlake.sources.secoda.source import secoda_organization

    return secoda_organization


def _emulator() -> type[Emulator]:
    from fleetlake.emulators.secoda import SecodaEmulator

    return SecodaEmulator


CONTRACT = ApiContract(
    name="secoda",
    title=settings.TITLE,
    section=settings.SECTION,
    pipeline_name=settings.PIPELINE_NAME,
    dataset_name=settings.DATASET_NAME,
    source=_source,
    checker=_check,
    emulator=_emulator,
    identifier=_identify,
    descriptions=settings.resource_descriptions,
    organization="resource_catalog",
    example_query=(
        "SELECT native_type, count(*) AS resources FROM {dataset}.resource_catalog GROUP BY 1 ORDER BY 2 DESC"
    ),
    companions={"resource_detail": ("resource_catalog",)},
)
