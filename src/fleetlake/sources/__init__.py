"""The registry of APIs fleetlake loads: one `ApiSpec` line per API.

Adding an API means writing `sources/<api>/`, an emulator module, and one line in `REGISTRY`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dlt.extract.source import DltSource

from fleetlake.errors import ConfigurationError


@dataclass(frozen=True)
class ApiSpec:
    """What the pipeline runner and the CLI need to know about one API."""

    name: str  # as typed on the command line
    title: str
    section: str  # [sources.<section>] in .dlt/secrets.toml
    pipeline_name: str
    dataset_name: str
    source: str  # "module:function" of the @dlt.source
    descriptions: str  # "module:function" returning {table: description}
    check: str  # "module:function" making one cheap request per server
    emulator: str  # "module:class" of the bundled emulator
    example_query: str = ""  # a first SQL query to suggest, with {dataset} for the dataset name
    # resources that must load along with another: their parent keeps a cursor that only moves
    # safely when the parent's own rows are loaded too
    companions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secret_settings: tuple[str, ...] = field(default=())
    # settings holding the servers' addresses, to name the one pointing at a host that fails
    url_settings: tuple[str, ...] = ("base_url",)

    def load(self, target: str) -> Any:
        module, _, attr = getattr(self, target).partition(":")
        return getattr(importlib.import_module(module), attr)

    def make_source(self, **kwargs: Any) -> DltSource:
        factory: Callable[..., DltSource] = self.load("source")
        return factory(**kwargs)

    def resource_descriptions(self) -> Mapping[str, str]:
        described: Callable[[], Mapping[str, str]] = self.load("descriptions")
        return described()


REGISTRY: dict[str, ApiSpec] = {
    spec.name: spec
    for spec in (
        ApiSpec(
            name="tidb",
            title="TiDB Cloud",
            section="tidb_instance_source",
            pipeline_name="tidb_instance_pipeline",
            dataset_name="tidb_instance_data",
            source="fleetlake.sources.tidb_cloud:tidb_instance_source",
            descriptions="fleetlake.sources.tidb_cloud:resource_descriptions",
            check="fleetlake.sources.tidb_cloud:check_tidb_cloud",
            emulator="fleetlake.emulators.tidb_cloud:TiDBCloudEmulator",
            example_query=(
                "SELECT name, cluster_type, region, status__cluster_status FROM {dataset}.clusters ORDER BY name"
            ),
            secret_settings=("public_key", "private_key"),
            url_settings=(
                "base_url",
                "dedicated_base_url",
                "serverless_base_url",
                "iam_base_url",
                "billing_base_url",
            ),
        ),
        ApiSpec(
            name="skysql",
            title="SkySQL",
            section="skysql_source",
            pipeline_name="skysql_pipeline",
            dataset_name="skysql_data",
            source="fleetlake.sources.skysql:skysql_source",
            descriptions="fleetlake.sources.skysql:resource_descriptions",
            check="fleetlake.sources.skysql:check_skysql",
            emulator="fleetlake.emulators.skysql:SkySQLEmulator",
            example_query="SELECT name, topology, provider, region, status FROM {dataset}.services ORDER BY name",
            secret_settings=("api_key",),
        ),
        ApiSpec(
            name="secoda",
            title="Secoda",
            section="secoda_source",
            pipeline_name="secoda_pipeline",
            dataset_name="secoda_data",
            source="fleetlake.sources.secoda:secoda_source",
            descriptions="fleetlake.sources.secoda:resource_descriptions",
            check="fleetlake.sources.secoda:check_secoda",
            emulator="fleetlake.emulators.secoda:SecodaEmulator",
            companions={"resource_detail": ("resource_catalog",)},
            example_query=(
                "SELECT native_type, count(*) AS resources FROM {dataset}.resource_catalog GROUP BY 1 ORDER BY 2 DESC"
            ),
            secret_settings=("api_key",),
        ),
    )
}


def get_api(name: str) -> ApiSpec:
    """The spec of an API by its command-line name, or a `ConfigurationError` listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigurationError(f"Unknown API {name!r}. fleetlake loads: {known}.") from None
