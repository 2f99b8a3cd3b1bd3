"""Widgets: a small API that exists only in the tests, to prove that an API is its own two packages
(this one and `tests.widgets_emulator`) and one registration (the `fleetlake.apis` entry point that
`tests/conftest.py` installs), with no edit anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fleetlake.sources.api import ApiContract, SourceFactory
from tests.widgets import settings

if TYPE_CHECKING:
    from fleetlake.emulators.base import Emulator
    from fleetlake.sources.checks import CheckResult


def _source() -> SourceFactory:
    from tests.widgets.source import widgets_source

    return widgets_source


def _check() -> Callable[..., list[CheckResult]]:
    from tests.widgets.source import check_widgets

    return check_widgets


def _emulator() -> type[Emulator]:
    from tests.widgets_emulator import WidgetsEmulator

    return WidgetsEmulator


CONTRACT = ApiContract(
    name="widgets",
    title=settings.TITLE,
    section=settings.SECTION,
    pipeline_name=settings.PIPELINE_NAME,
    dataset_name=settings.DATASET_NAME,
    source=_source,
    checker=_check,
    emulator=_emulator,
    descriptions=settings.resource_descriptions,
    example_query="SELECT color, count(*) AS widgets FROM {dataset}.widgets GROUP BY 1 ORDER BY 1",
)
