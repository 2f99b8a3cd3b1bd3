"""The TiDB tables that are not one list per parent row: a list of names, one object per TiDB node
group (node groups are nested in each Dedicated cluster), and keys only of projects that use them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from fleetlake.sources.endpoints import ApiClient
from fleetlake.sources.lists import Endpoint

CLOUD_PROVIDERS = Endpoint(
    "dedicated_cloud_providers", "dedicated_base_url", "regions:showCloudProviders", ("cloudProviders",), "none",
    ("cloudProvider",), "cloud providers",
)  # fmt: skip
LINK_SERVICES = Endpoint(
    "dedicated_private_link_services", "dedicated_base_url",
    "clusters/{cluster_id}/tidbNodeGroups/{group_id}/privateLinkService", (), "none",
    ("clusterId", "tidbNodeGroupId"), "private link services", parent_columns={"clusterId": "clusterId"},
)  # fmt: skip
CMEK = Endpoint(
    "aws_cmek_keys", "base_url", "api/v1beta/projects/{project_id}/aws-cmek", ("items",), "none",
    ("project_id", "region"), "AWS CMEK", parent_columns={"project_id": "id"},
)  # fmt: skip


def cloud_providers(client: ApiClient) -> DltResource:
    """The providers `regions:showCloudProviders` names, one row each (the API answers bare names)."""

    def fetch() -> Iterator[list[dict[str, Any]]]:
        for page in client.pages(CLOUD_PROVIDERS, CLOUD_PROVIDERS.path):
            yield client.shape(CLOUD_PROVIDERS, [{"cloudProvider": name} for name in page])

    return dlt.resource(
        client.guard(CLOUD_PROVIDERS.name, fetch),
        name=CLOUD_PROVIDERS.name,
        primary_key=list(CLOUD_PROVIDERS.primary_key),
        write_disposition="merge",
        parallelized=True,
    )


def _node_groups(cluster: Mapping[str, Any]) -> list[str]:
    groups = (cluster.get("tidbNodeSetting") or {}).get("tidbNodeGroups") or []
    return [
        str(group["tidbNodeGroupId"]) for group in groups if isinstance(group, dict) and group.get("tidbNodeGroupId")
    ]


def private_link_services(client: ApiClient, clusters: DltResource) -> DltResource:
    """The private link service of each TiDB node group of each Dedicated cluster: a request per group."""

    def one(where: tuple[dict[str, Any], str]) -> list[dict[str, Any]]:
        cluster, group = where
        path = LINK_SERVICES.path.format(cluster_id=cluster["clusterId"], group_id=group)
        rows = [row for page in client.pages(LINK_SERVICES, path, missing_ok=True) for row in page]
        return client.shape(LINK_SERVICES, [{"tidbNodeGroupId": group, **row} for row in rows], parent=cluster)

    def fetch(parents: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        wanted = [(cluster, group) for cluster in parents for group in _node_groups(cluster)]
        yield from client.map(one, wanted)

    return dlt.transformer(
        client.guard(LINK_SERVICES.name, fetch, parent="dedicated_clusters"),
        data_from=clusters,
        name=LINK_SERVICES.name,
        primary_key=list(LINK_SERVICES.primary_key),
        write_disposition="merge",
        parallelized=True,
    )


def aws_cmek_keys(client: ApiClient, projects: DltResource) -> DltResource:
    """The AWS KMS keys of the projects with `aws_cmek_enabled`: no request for the others."""

    def one(project: dict[str, Any]) -> list[dict[str, Any]]:
        path = CMEK.path.format(project_id=project["id"])
        rows = [row for page in client.pages(CMEK, path, missing_ok=True) for row in page]
        return client.shape(CMEK, rows, parent=project)

    def fetch(parents: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        yield from client.map(one, [project for project in parents if project.get("aws_cmek_enabled") is True])

    return dlt.transformer(
        client.guard(CMEK.name, fetch, parent="projects"),
        data_from=projects,
        name=CMEK.name,
        primary_key=list(CMEK.primary_key),
        write_disposition="merge",
        parallelized=True,
    )
