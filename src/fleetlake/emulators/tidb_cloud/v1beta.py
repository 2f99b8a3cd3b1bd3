"""`api.tidbcloud.com/api/v1beta`: projects, clusters, backups, restores, imports, provider regions
(private endpoints, the private endpoint service and AWS CMEK keys in `network`).

Shapes follow tidb-cloud-v1beta-openapi-original.json: snake_case, `{items, total}` lists paged by
`page`/`page_size`, ids as uint64 strings, `create_timestamp` as unix seconds in a string on
projects, clusters and imports, and as ISO 8601 on backups and restores.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import number_page
from fleetlake.emulators.seeded import mix
from fleetlake.emulators.tidb_cloud import catalog, network
from fleetlake.emulators.tidb_cloud.context import Context, iso
from fleetlake.emulators.tidb_cloud.data import HOUR, Backup, Cluster, ImportTask, Restore
from fleetlake.emulators.tidb_cloud.errors import v1beta_error

PREFIX = "/api/v1beta"
CLUSTER_STATUS = {
    "ACTIVE": "AVAILABLE",
    "PAUSED": "PAUSED",
    "MODIFYING": "MODIFYING",
    "UPGRADING": "MAINTAINING",
    "IMPORTING": "IMPORTING",
    "RESTORING": "MAINTAINING",
}
GIB = 1 << 30


def _spec(key: str) -> catalog.NodeSpec:
    return next(s for s in catalog.NODE_SPECS if s.key == key)


def _nodes(cluster: Cluster, component: str, size: str, count: int, storage: int | None) -> list[dict[str, Any]]:
    spec = _spec(size) if cluster.dedicated else None
    zones = cluster.region.zones
    out = []
    for n in range(count):
        node: dict[str, Any] = {
            "node_name": f"{component}-{n}",
            "availability_zone": zones[n % len(zones)],
            "node_size": size,
            "vcpu_num": spec.vcpu if spec else 0,
            "ram_bytes": str(spec.memory_gi * GIB if spec else 0),
        }
        if storage is not None:
            node["storage_size_gib"] = storage
        node["status"] = "NODE_STATUS_AVAILABLE"
        out.append(node)
    return out


def cluster_json(ctx: Context, g: int) -> dict[str, Any]:
    """A cluster as v1beta lists it."""
    now = ctx.now()
    c = ctx.data.cluster(g)
    status = CLUSTER_STATUS[ctx.data.state(g, now)]
    if c.dedicated:
        components: dict[str, Any] = {
            "tidb": {"node_size": c.tidb_spec, "node_quantity": c.tidb_nodes},
            "tikv": {
                "node_size": c.tikv_spec,
                "storage_size_gib": c.tikv_storage,
                "node_quantity": c.tikv_nodes,
            },
        }
        if c.tiflash_spec:
            components["tiflash"] = {
                "node_size": c.tiflash_spec,
                "storage_size_gib": c.tiflash_storage,
                "node_quantity": c.tiflash_nodes,
            }
        host = f"tidb.{c.host_tag}.clusters.tidb-cloud.com"
        user = "root"
    else:
        components = {
            "tidb": {"node_size": "Shared0", "node_quantity": 1},
            "tikv": {"node_size": "Shared0", "storage_size_gib": 1, "node_quantity": 1},
        }
        host = f"gateway01.{c.region.code}.prod.aws.tidbcloud.com"
        user = f"{c.user_prefix}.root"
    state: dict[str, Any] = {"tidb_version": f"v{c.version}", "cluster_status": status}
    if status in ("AVAILABLE", "MODIFYING"):
        tidb, tikv = components["tidb"], components["tikv"]
        node_map: dict[str, Any] = {
            "tidb": _nodes(c, "tidb", tidb["node_size"], tidb["node_quantity"], None),
            "tikv": _nodes(c, "tikv", tikv["node_size"], tikv["node_quantity"], tikv["storage_size_gib"]),
        }
        if "tiflash" in components:
            tiflash = components["tiflash"]
            node_map["tiflash"] = _nodes(
                c, "tiflash", tiflash["node_size"], tiflash["node_quantity"], tiflash["storage_size_gib"]
            )
        state["node_map"] = node_map
    state["connection_strings"] = {
        "default_user": user,
        "standard": {"host": host, "port": 4000},
        "vpc_peering": {
            "host": f"private-{host}" if c.dedicated else host.replace("01.", "01-privatelink."),
            "port": 4000,
        },
    }
    return {
        "id": c.id,
        "project_id": ctx.data.project(c.project).id,
        "name": c.name,
        "cluster_type": "DEDICATED" if c.dedicated else "DEVELOPER",
        "cloud_provider": c.region.provider.upper(),
        "region": c.region.code,
        "create_timestamp": str(c.created),
        "config": {"port": 4000, "components": components},
        "status": state,
    }


def project_json(ctx: Context, p: int) -> dict[str, Any]:
    """A project as v1beta lists it."""
    project = ctx.data.project(p)
    out: dict[str, Any] = {
        "id": project.id,
        "org_id": ctx.data.org_id,
        "name": project.name,
        "cluster_count": project.cluster_count,
        "user_count": ctx.data.user_count(p),
        "create_timestamp": str(project.created),
        "aws_cmek_enabled": network.cmek_enabled(p),
    }
    if ctx.project_types:
        # added to the vendor's file on 2026-04-14: dedicated, tidbx or tidbx_virtual; every emulated
        # project holds Dedicated clusters
        out["type"] = "dedicated"
    return out


def backup_json(ctx: Context, g: int, backup: Backup) -> dict[str, Any]:
    """A backup as v1beta lists it."""
    now = ctx.now()
    if backup.auto:
        name = f"auto-backup-{iso(backup.time)[:10].replace('-', '')}"
        description = ""
        if now - backup.time < HOUR // 2:
            status = "RUNNING"
        elif mix(ctx.data.seed, "backup-failed", g, backup.number) % 40 == 0:
            status = "FAILED"
        else:
            status = "SUCCESS"
    else:
        name = f"manual-backup-{backup.number + 1}"
        description = ("backup before upgrading TiDB", "before schema migration", "quarterly snapshot")[
            mix(ctx.data.seed, "backup-description", g, backup.number) % 3
        ]
        status = "SUCCESS"
    return {
        "id": backup.id,
        "name": name,
        "description": description,
        "type": "AUTO" if backup.auto else "MANUAL",
        "create_timestamp": iso(backup.time),
        "size": str(backup.size),
        "status": status,
    }


def restore_json(restore: Restore) -> dict[str, Any]:
    """A restore task as v1beta lists it."""
    return {
        "id": restore.id,
        "create_timestamp": iso(restore.created),
        "backup_id": restore.backup_id,
        "cluster_id": restore.source.id,
        "status": "FAILED" if restore.failed else "SUCCESS",
        "cluster": {
            "id": restore.restored_id,
            "name": f"{restore.source.name}-restored-{restore.number + 1}",
            "status": "UNAVAILABLE" if restore.failed else "AVAILABLE",
        },
        "error_message": "Restore failed: not enough TiKV storage for the backup data." if restore.failed else "",
    }


def import_json(task: ImportTask) -> dict[str, Any]:
    """An import task as v1beta (deprecated imports) lists it."""
    source: dict[str, Any] = {"type": task.source_type, "uri": task.uri, "format": {"type": task.file_type}}
    if task.file_type == "CSV":
        source["format"]["csv_config"] = {
            "delimiter": ",",
            "quote": '"',
            "backslash_escape": True,
            "has_header_row": True,
        }
    if task.role_arn:
        source["aws_assume_role_access"] = {"assume_role": task.role_arn}
    elif task.access_key_id:
        # the vendor redacts the key when a task is read back
        source["aws_key_access"] = {
            "access_key_id": task.access_key_id[:4] + "*" * 16,
            "secret_access_key": "*" * 40,
        }
    extension = {"CSV": "csv", "PARQUET": "parquet", "SQL": "sql"}[task.file_type]
    done = task.state == "COMPLETED"
    progress = 100.0 if done else float(task.size % 90 + 5)
    return {
        "metadata": {"id": task.id, "name": task.name, "create_timestamp": str(task.created)},
        "spec": {
            "source": source,
            "target": {
                "tables": [
                    {
                        "database_name": db,
                        "table_name": table,
                        "file_name_pattern": f"{db}.{table}.*.{extension}",
                    }
                    for db, table in task.tables
                ]
            },
        },
        "status": {
            "phase": task.state,
            "error_message": task.error,
            "start_timestamp": str(task.created),
            "end_timestamp": str(task.completed),
            "progress": {"import_progress": progress, "validation_progress": progress if done else 0.0},
            "source_total_size_bytes": str(task.size),
        },
    }


def provider_regions() -> list[dict[str, Any]]:
    """The cloud providers, regions and node sizes v1beta offers for new clusters."""
    out: list[dict[str, Any]] = []
    tikv_min, _, tikv_max = catalog.STORAGE_RANGE["TIKV"]
    flash_min, _, flash_max = catalog.STORAGE_RANGE["TIFLASH"]
    for region in catalog.DEDICATED_REGIONS:
        out.append(
            {
                "cluster_type": "DEDICATED",
                "cloud_provider": region.provider.upper(),
                "region": region.code,
                "tidb": [
                    {"node_size": s.key, "node_quantity_range": {"min": 1, "step": 1}} for s in catalog.specs_of("TIDB")
                ],
                "tikv": [
                    {
                        "node_size": s.key,
                        "node_quantity_range": {"min": 3, "step": 3},
                        "storage_size_gib_range": {"min": tikv_min, "max": tikv_max},
                    }
                    for s in catalog.specs_of("TIKV")
                ],
                "tiflash": [
                    {
                        "node_size": s.key,
                        "node_quantity_range": {"min": 0, "step": 1},
                        "storage_size_gib_range": {"min": flash_min, "max": flash_max},
                    }
                    for s in catalog.specs_of("TIFLASH")
                ],
            }
        )
    shared = {"node_size": "Shared0", "node_quantity_range": {"min": 1, "step": 1}}
    shared_storage = {**shared, "storage_size_gib_range": {"min": 1, "max": 1}}
    for region in catalog.SERVERLESS_REGIONS:
        out.append(
            {
                "cluster_type": "DEVELOPER",
                "cloud_provider": region.provider.upper(),
                "region": region.code,
                "tidb": [shared],
                "tikv": [shared_storage],
                "tiflash": [shared_storage],
            }
        )
    return out


def _uint64(value: str, name: str) -> str:
    if not (value.isascii() and value.isdigit()) or int(value) >= 1 << 64:
        raise RouteError(400, f"invalid {name} {value!r}: must be a uint64")
    return value


def _project(ctx: Context, call: Call) -> int:
    project_id = _uint64(call.path_params["project_id"], "project_id")
    p = ctx.data.project_index(project_id)
    if p is None:
        raise RouteError(404, f"project {project_id} not found")
    return p


def _cluster(ctx: Context, call: Call) -> int:
    p = _project(ctx, call)
    cluster_id = _uint64(call.path_params["cluster_id"], "cluster_id")
    g = ctx.data.cluster_index(cluster_id)
    if g is None or ctx.data.project_of(g) != p:
        raise RouteError(404, f"cluster {cluster_id} not found in project {call.path_params['project_id']}")
    return g


def routes(ctx: Context) -> list[Route]:
    """The v1beta routes, relative to `/api/v1beta`."""
    data = ctx.data

    def projects(call: Call) -> dict[str, Any]:
        page = number_page(call.query, data.scale.projects)
        return {"items": [project_json(ctx, p) for p in page.indices()], "total": data.scale.projects}

    def clusters(call: Call) -> dict[str, Any]:
        members = data.clusters_of(_project(ctx, call))
        page = number_page(call.query, len(members))
        return {"items": [cluster_json(ctx, members[i]) for i in page.indices()], "total": len(members)}

    def cluster(call: Call) -> dict[str, Any]:
        return cluster_json(ctx, _cluster(ctx, call))

    def backups(call: Call) -> dict[str, Any]:
        g = _cluster(ctx, call)
        if not data.is_dedicated(g):
            raise RouteError(400, "backups are not supported for TiDB Cloud Starter clusters")
        items = data.backups(g, ctx.now())
        page = number_page(call.query, len(items))
        return {"items": [backup_json(ctx, g, items[i]) for i in page.indices()], "total": len(items)}

    def restores(call: Call) -> dict[str, Any]:
        items = data.restores(_project(ctx, call))
        page = number_page(call.query, len(items))
        return {"items": [restore_json(items[i]) for i in page.indices()], "total": len(items)}

    def imports(call: Call) -> dict[str, Any]:
        items = data.imports(_cluster(ctx, call))
        page = number_page(call.query, len(items))
        return {"items": [import_json(items[i]) for i in page.indices()], "total": len(items)}

    def regions(call: Call) -> dict[str, Any]:
        return {"items": provider_regions()}

    return [
        route("/projects", projects, v1beta_error),
        route("/projects/{project_id}/clusters", clusters, v1beta_error),
        route("/projects/{project_id}/clusters/{cluster_id}", cluster, v1beta_error),
        route("/projects/{project_id}/clusters/{cluster_id}/backups", backups, v1beta_error),
        route("/projects/{project_id}/restores", restores, v1beta_error),
        route("/projects/{project_id}/clusters/{cluster_id}/imports", imports, v1beta_error),
        route("/clusters/provider/regions", regions, v1beta_error),
        *network.v1beta_routes(ctx, _project, _cluster),
    ]
