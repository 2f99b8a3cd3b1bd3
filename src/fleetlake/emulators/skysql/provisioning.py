"""`/provisioning/v1`: services, their allow-lists and credentials, configs and the offering (topologies,
sizes, products, tiers, volume types, zones...).

Shapes follow the vendor's current reference (services, configs, allow-lists) and the 2022 provisioning
spec for the offering lists. Every list answers a bare JSON array, paged by `page_size`/`page_order`/
`page_token`; the next page's token comes back in the `X-Next-Page-Token` header (the vendor does
not document where it comes back). A product's config keys are the one object answer
(`v1.ProductConfigResponse`), its `variables` paged the same way. Services carry integer epoch times;
sizes carry ISO times. `/databases` and `/users` appear only on the seed page and are served only when
asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call
from fleetlake.emulators.seeded import mix
from fleetlake.emulators.skysql import catalog
from fleetlake.emulators.skysql.context import Context, Reply, api_route, flag, token_list
from fleetlake.emulators.skysql.data import HOUR
from fleetlake.emulators.skysql.errors import ApiError

PREFIX = "/provisioning/v1"
DEFAULT_CONFIG_CREATED = 1_665_585_600
"""When the default configs were published (2022-10-12), the same for every organization."""


def fqdn(ctx: Context, s: int) -> str:
    """The service's host name."""
    return f"{ctx.data.service(s).id}.sysp{mix(ctx.data.seed, 'cell', s) % 8:04d}.db1.skysql.com"


def _ports(topology: str, nosql: bool) -> list[dict[str, Any]]:
    ports = [{"name": "readwrite", "port": 3306, "purpose": "readwrite"}]
    if topology in ("es-replica", "csdw"):
        ports.append({"name": "readonly", "port": 3307, "purpose": "readonly"})
    if topology == "sa":
        ports = [{"name": "sql", "port": 443, "purpose": "sql"}]
    if nosql:
        ports.append({"name": "nosql", "port": 27017, "purpose": "nosql"})
    return ports


OPEN_TO_ALL = "0.0.0.0/0"


def allow_list(ctx: Context, s: int) -> list[dict[str, str]]:
    """Who may connect to service `s`'s public endpoint, as `{ip, comment}` entries: an office address,
    for some a VPN too, and for a few also the whole internet (a posture worth seeing). A private service
    (Private Link, Private Service Connect) has none. Its record nests the same list in
    `endpoints[].allow_list`, and `/services/{service_id}/security/allowlist` answers it."""
    if ctx.data.service(s).private:
        return []
    entries = [{"comment": "office", "ip": f"203.0.113.{s % 250}/32"}]
    extra = mix(ctx.data.seed, "allow-list", s) % 4
    if extra >= 2:
        entries.append({"comment": "vpn", "ip": f"198.51.100.{mix(ctx.data.seed, 'vpn', s) % 250}/32"})
    if extra == 3:
        entries.append({"comment": "temporary: open to all", "ip": OPEN_TO_ALL})
    return entries


def _endpoint(ctx: Context, s: int) -> dict[str, Any]:
    v = ctx.data.service(s)
    account = str(10**11 + mix(ctx.data.seed, "account", s) % (9 * 10**11))
    aws, gcp = v.private and v.provider == "aws", v.private and v.provider == "gcp"
    return {
        "allow_list": allow_list(ctx, s),
        "allowed_accounts": [account] if aws else [],
        "endpoint_service": f"com.amazonaws.vpce.{v.region.name}.vpce-svc-{account[:8]}" if aws else "",
        "fqdn": fqdn(ctx, s),
        "ips": [],
        "mechanism": "privatelink" if aws else ("privateconnect" if gcp else "nlb"),
        "name": "primary",
        "ports": _ports(v.topology, v.nosql),
        "private_link": {"accounts": [{"alias": "app-vpc", "id": account}] if aws else []},
        "private_service_connect": {"projects": [{"alias": "app", "id": f"app-{account[:6]}"}] if gcp else []},
        "visibility": "private" if v.private else "public",
    }


def config_id(ctx: Context, s: int) -> str:
    """The id of the config service `s` uses: a custom one, or its topology's default."""
    v = ctx.data.service(s)
    return ctx.data.uid("config", v.config) if v.config >= 0 else catalog.uid("default-config", v.topology)


def service_json(ctx: Context, s: int) -> dict[str, Any]:
    """A service as `GET /provisioning/v1/services` lists it (the reference's sample fields)."""
    data, now = ctx.data, ctx.now()
    v = data.service(s)
    status = data.status(s, now)
    serverless = v.topology == "sa"
    creator = data.user(v.creator).id
    return {
        "analytics": None,
        "architecture": v.architecture,
        "assigned_on": v.assigned,
        "availability_zone": v.zone,
        "config_id": config_id(ctx, s),
        "created_by": creator,
        "created_on": v.created,
        "custom_ssl": None,
        "data_center": f"{v.provider}-{v.region.name}",
        "domains": [],
        "endpoints": [_endpoint(ctx, s)],
        "errors": [],
        "fqdn": fqdn(ctx, s),
        "id": v.id,
        "is_active": status != "stopped",
        "maintenance_window": catalog.MAINTENANCE_WINDOWS[v.region.area],
        "maxscale_nodes": v.maxscale_nodes,
        "maxscale_size": catalog.MAXSCALE_SIZE if v.maxscale_nodes else "",
        "name": v.name,
        "nodes": v.nodes,
        "nosql_enabled": v.nosql,
        "outbound_ips": list(v.outbound_ips),
        "primary_host": "",
        "project_id": data.uid("project", v.project),
        "provider": v.provider,
        "region": v.region.name,
        "replication_enabled": False,
        "scale_options": {
            "max_compute": 8 if serverless else 0,
            "min_compute": 1 if serverless else 0,
            "suspend_enabled": serverless,
        },
        "service_type": v.service_type,
        "size": v.size,
        "ssl_enabled": v.ssl,
        "status": status,
        "storage_volume": {
            "iops": v.iops,
            "size": v.storage_gb,
            "throughput": v.throughput,
            "volume_type": v.volume_type,
        },
        "tags": dict(v.tags),
        "tenancy": "dedicated" if v.tier == "power" else "shared",
        "tier": v.tier,
        "topology": v.topology,
        "updated_by": creator,
        "updated_on": data.updated(s, now),
        "upgrades": {
            "kubernetes_upgrade_deadline": "",
            "kubernetes_upgrade_in_progress": False,
            "kubernetes_upgrade_status": "",
        },
        "version": v.version,
        "volume_modified_on": v.volume_modified,
    }


def secret(ctx: Context, kind: str, *parts: int | str) -> str:
    """A made-up database password (deterministic; these are not anyone's secrets)."""
    text = "|".join([str(ctx.data.seed), kind, *map(str, parts)])
    return "Fl" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def credentials_json(ctx: Context, s: int) -> dict[str, Any]:
    """`v1.CredentialsResponse`: the service's default user and its password."""
    v = ctx.data.service(s)
    return {"host": fqdn(ctx, s), "password": secret(ctx, "service-password", s), "username": v.id}


def _latest_version(topology: str) -> catalog.Version:
    return [v for v in catalog.VERSIONS if v.topology == topology][-1]


def configs(ctx: Context, include_default: bool) -> list[dict[str, Any]]:
    """The configs, oldest first: the defaults (when asked for), then the organization's own."""
    data = ctx.data
    services = range(data.scale.services)
    owner = data.user(0).id
    out: list[dict[str, Any]] = []
    if include_default:
        for t in catalog.TOPOLOGIES:
            users = [s for s in services if data.service(s).config < 0 and data.service(s).topology == t.name]
            out.append(
                {
                    "created_by": "system",
                    "created_date": DEFAULT_CONFIG_CREATED + t.order * 60,
                    "id": catalog.uid("default-config", t.name),
                    "name": f"{t.name}-default",
                    "public": True,
                    "services": [data.service(s).id for s in users],
                    "topology_id": t.id,
                    "updated_by": "system",
                    "updated_date": DEFAULT_CONFIG_CREATED + t.order * 60,
                    "version_id": _latest_version(t.name).id,
                }
            )
    for c in range(data.scale.custom_configs):
        topology = catalog.TOPOLOGY_BY_NAME[data.config_topology(c)]
        created = data.config_created(c)
        purpose = ("tuned", "large-buffer", "strict-mode", "audit")[c % 4]
        out.append(
            {
                "created_by": owner,
                "created_date": created,
                "id": data.uid("config", c),
                "name": f"{topology.name}-{purpose}-{c + 1}",
                "public": False,
                "services": [data.service(s).id for s in services if data.service(s).config == c],
                "topology_id": topology.id,
                "updated_by": owner,
                "updated_date": created + mix(data.seed, "config-updated", c) % (48 * HOUR),
                "version_id": _latest_version(topology.name).id,
            }
        )
    return out


def service_type_json(t: catalog.ServiceType) -> dict[str, Any]:
    """A service type as the offering lists it (the DPS file's v1.ServiceType)."""
    return {
        "id": t.id,
        "name": t.name,
        "display_name": t.display_name,
        "short_description": t.short_description,
        "description": t.description,
        "order": t.order,
    }


def topology_json(t: catalog.Topology) -> dict[str, Any]:
    """A topology as the offering lists it."""
    return {
        "id": t.id,
        "name": t.name,
        "display_name": t.display_name,
        "service_type": t.service_type,
        "storage_engine": t.storage_engine,
        "order": t.order,
    }


def provider_json(p: catalog.Provider) -> dict[str, Any]:
    """A cloud provider as the offering lists it."""
    return {
        "id": p.id,
        "name": p.name,
        "display_name": p.display_name,
        "volume_size_min_gb": p.volume_size_min_gb,
        "volume_size_max_gb": p.volume_size_max_gb,
        "iops_per_gb": p.iops_per_gb,
        "iops_min": p.iops_min,
    }


def region_json(r: catalog.Region) -> dict[str, Any]:
    """A region as the offering lists it."""
    return {
        "id": r.id,
        "name": r.name,
        "region": r.area,
        "default": r.default,
        "provider": r.provider,
        "foundation_tier_maintenance_window": catalog.MAINTENANCE_WINDOWS[r.area],
    }


def size_json(z: catalog.Size) -> dict[str, Any]:
    """A node size as the offering lists it, with ISO `created_on`/`updated_on`."""
    return {
        "id": z.id,
        "name": z.name,
        "display_name": z.display_name,
        "service_type": catalog.TOPOLOGY_BY_NAME[z.topology].service_type,
        "provider": z.provider,
        "tier": z.tier,
        "architecture": z.architecture,
        "cpu": f"{z.cpu} vCPU",
        "ram": f"{z.ram_gb} GB",
        "updated_on": z.created,
        "created_on": z.created,
        "is_active": True,
        "topology": z.topology,
    }


def version_json(v: catalog.Version) -> dict[str, Any]:
    """A database version as the offering lists it."""
    return {
        "id": v.id,
        "name": v.name,
        "version": v.version,
        "topology": v.topology,
        "product": v.product,
        "display_name": f"{v.product} {v.version}",
        "is_major": v.is_major,
        "release_date": v.release_date,
        "release_notes_url": f"https://mariadb.com/docs/release-notes/{v.topology}/{v.version}",
    }


def volume_type_json(t: catalog.VolumeType) -> dict[str, Any]:
    """A provider's volume type (the DPS file's `v1.VolumeTypeResponse`, integer times)."""
    return {
        "id": t.id,
        "name": t.name,
        "display_name": t.display_name,
        "provider": t.provider,
        "is_default": t.is_default,
        "created_on": t.created,
        "updated_on": t.created,
    }


def zone_json(region: catalog.Region, zone: str) -> dict[str, Any]:
    """An availability zone of a region. The vendor documents only that the answer is an array (the
    Terraform provider and the old summary page list the path, with no shape): this follows the closest
    documented shape, the region's own (`id`, `name`, `provider`), with `region` naming the region as a
    service record's `region` does (a service's `availability_zone` is one of these names)."""
    zone_id = catalog.uid("zone", region.provider, zone)
    return {"id": zone_id, "name": zone, "region": region.name, "provider": region.provider}


def tier_json(t: catalog.Tier) -> dict[str, Any]:
    """A tier with the topologies it offers (the DPS file's `v1.Tier`)."""
    return {
        "id": t.id,
        "name": t.name,
        "display_name": t.display_name,
        "description": t.description,
        "is_active": True,
        "topologies": [topology_json(catalog.TOPOLOGY_BY_NAME[name]) for name in t.topologies],
    }


def product_json(p: catalog.Product) -> dict[str, Any]:
    """A product (the DPS file's `v1.Product`)."""
    return {"id": p.id, "name": p.name, "display_name": p.display_name}


def variable_json(v: catalog.ConfigVariable) -> dict[str, Any]:
    """A config key of a product (the DPS file's `v1.ConfigVariableResponse`)."""
    return {
        "name": v.name,
        "type": v.type,
        "values": list(v.values),
        "requires_restart": v.requires_restart,
        "keywords": list(v.keywords),
    }


def matching(items: Sequence[Any], call: Call, **fields: str) -> list[Any]:
    """The items whose attributes equal every filter given in the query (`param=attribute`)."""
    out = list(items)
    for param, attribute in fields.items():
        wanted = call.query.get(param)
        if wanted:
            out = [i for i in out if str(getattr(i, attribute)) == wanted]
    return out


def service_of(ctx: Context, call: Call) -> int:
    """The service a path names; 404 when there is none."""
    s = ctx.data.service_index(call.path_params["service_id"])
    if s is None:
        raise ApiError(404, f"service {call.path_params['service_id']!r} not found", location="path")
    return s


def services_filtered(ctx: Context, call: Call) -> range:
    """All services, or the one the `service_id` query parameter names (none when unknown)."""
    wanted = call.query.get("service_id")
    if not wanted:
        return range(ctx.data.scale.services)
    s = ctx.data.service_index(wanted)
    return range(0) if s is None else range(s, s + 1)


def database_json(ctx: Context, s: int, k: int) -> dict[str, Any]:
    """Database `k` of service `s` (seed page only)."""
    v = ctx.data.service(s)
    names = catalog.DATABASE_NAMES
    name = names[(k + mix(ctx.data.seed, "db-name", s)) % len(names)]
    return {
        "id": ctx.data.uid("database", s, k),
        "name": name if k < len(names) else f"{name}_{k}",
        "service_id": v.id,
        "created_on": v.assigned + (k + 1) * 2 * HOUR + mix(ctx.data.seed, "db-created", s, k) % HOUR,
    }


def db_user_json(ctx: Context, s: int, k: int) -> dict[str, Any]:
    """Database user `k` of service `s` (seed page only), password included as a trap for clients."""
    v = ctx.data.service(s)
    names = catalog.DB_USER_NAMES
    return {
        "id": ctx.data.uid("db-user", s, k),
        "username": names[k % len(names)] + ("" if k < len(names) else str(k)),
        "service_id": v.id,
        "host": "%",
        "password": secret(ctx, "db-user-password", s, k),
        "created_on": v.assigned + (k + 1) * 3 * HOUR + mix(ctx.data.seed, "db-user-created", s, k) % HOUR,
    }


def flat(offsets: list[int], services: range) -> list[tuple[int, int]]:
    """(service, k) pairs of a per-service list for the given services, in service order."""
    return [(s, k) for s in services for k in range(offsets[s + 1] - offsets[s])]


def routes(ctx: Context, *, seed_only: bool) -> list[Route]:
    """The /provisioning/v1 routes, relative to the prefix; `seed_only` adds /databases and /users."""
    data = ctx.data

    def services(call: Call) -> Reply:
        return token_list(ctx, call, "services", range(data.scale.services), lambda s: service_json(ctx, s))

    def service(call: Call) -> dict[str, Any]:
        return service_json(ctx, service_of(ctx, call))

    def credentials(call: Call) -> dict[str, Any]:
        return credentials_json(ctx, service_of(ctx, call))

    def config_list(call: Call) -> Reply:
        return token_list(ctx, call, "configs", configs(ctx, flag(call, "include_default")), lambda c: c)

    def service_types(call: Call) -> Reply:
        return token_list(ctx, call, "service-types", catalog.SERVICE_TYPES, service_type_json)

    def topologies(call: Call) -> Reply:
        # the vendor's file marks service_type required, and its servers refuse a request without it
        if not call.query.get("service_type"):
            raise ApiError(400, "Request query must have required property 'service_type'", location="query")
        items = matching(catalog.TOPOLOGIES, call, service_type="service_type")
        return token_list(ctx, call, "topologies", items, topology_json)

    def providers(call: Call) -> Reply:
        return token_list(ctx, call, "providers", matching(catalog.PROVIDERS, call, name="name"), provider_json)

    def regions(call: Call) -> Reply:
        items = matching(catalog.REGIONS, call, provider="provider")
        return token_list(ctx, call, "regions", items, region_json)

    def sizes(call: Call) -> Reply:
        items = matching(
            catalog.SIZES, call, topology="topology", provider="provider", architecture="architecture", tier="tier"
        )
        wanted = call.query.get("service_type")
        if wanted:
            items = [z for z in items if catalog.TOPOLOGY_BY_NAME[z.topology].service_type == wanted]
        return token_list(ctx, call, "sizes", items, size_json)

    def versions(call: Call) -> Reply:
        return token_list(ctx, call, "versions", matching(catalog.VERSIONS, call, topology="topology"), version_json)

    def allowlist(call: Call) -> list[dict[str, str]]:
        # `{ip, comment}` entries as the vendor's Terraform provider reads them and the current reference's
        # service record nests them; the 2022 DPS file describes an older per-endpoint shape
        # (`v1.AllowListEndpoint {name, allowList: [ip]}`, no field required), which the source also reads.
        # The DPS file declares no paging parameters here: the whole list in one answer.
        return allow_list(ctx, service_of(ctx, call))

    def products(call: Call) -> Reply:
        items = list(catalog.PRODUCTS)
        wanted = call.query.get("topology_id")
        if wanted:
            items = [p for p in items if any(catalog.TOPOLOGY_BY_NAME[t].id == wanted for t in p.topologies)]
        return token_list(ctx, call, "products", items, product_json)

    def product_configs(call: Call) -> Reply:
        name = call.path_params["product_name"]
        product = catalog.PRODUCT_BY_NAME.get(name)
        if product is None:
            raise ApiError(404, f"product {name!r} not found", location="path")
        # one object (v1.ProductConfigResponse), its variables paged like the bare lists
        page = token_list(ctx, call, f"products/{name}/configs", product.variables, variable_json)
        body = page.payload
        if isinstance(body, dict):  # the "body" token mode: {items, next_page_token}
            return Reply({"product": name, "variables": body["items"], "next_page_token": body["next_page_token"]})
        return Reply({"product": name, "variables": body}, headers=page.headers)

    def tiers(call: Call) -> Reply:
        return token_list(ctx, call, "tiers", catalog.TIERS, tier_json)

    def volume_types(call: Call) -> Reply:
        name = call.path_params["provider_name"]
        if not any(p.name == name for p in catalog.PROVIDERS):
            raise ApiError(404, f"provider {name!r} not found", location="path")
        items = [t for t in catalog.VOLUME_TYPES if t.provider == name]
        return token_list(ctx, call, f"providers/{name}/volume-types", items, volume_type_json)

    def zones(call: Call) -> Reply:
        name = call.path_params["region"]
        region = next((r for r in catalog.REGIONS if r.name == name), None)
        if region is None:
            raise ApiError(404, f"region {name!r} not found", location="path")
        return token_list(ctx, call, f"regions/{name}/zones", region.zones, lambda zone: zone_json(region, zone))

    def databases(call: Call) -> Reply:
        items = flat(data.database_offsets, services_filtered(ctx, call))
        return token_list(ctx, call, "databases", items, lambda item: database_json(ctx, *item))

    def db_users(call: Call) -> Reply:
        items = flat(data.db_user_offsets, services_filtered(ctx, call))
        return token_list(ctx, call, "users", items, lambda item: db_user_json(ctx, *item))

    out = [
        api_route(ctx, "/services", services),
        api_route(ctx, "/services/{service_id}", service),
        api_route(ctx, "/services/{service_id}/security/credentials", credentials),
        api_route(ctx, "/services/{service_id}/security/allowlist", allowlist),
        api_route(ctx, "/configs", config_list),
        api_route(ctx, "/service-types", service_types),
        api_route(ctx, "/topologies", topologies),
        api_route(ctx, "/providers", providers),
        api_route(ctx, "/providers/{provider_name}/volume-types", volume_types),
        api_route(ctx, "/regions", regions),
        api_route(ctx, "/regions/{region}/zones", zones),
        api_route(ctx, "/sizes", sizes),
        api_route(ctx, "/versions", versions),
        api_route(ctx, "/products", products),
        api_route(ctx, "/products/{product_name}/configs", product_configs),
        api_route(ctx, "/tiers", tiers),
    ]
    if seed_only:
        out += [api_route(ctx, "/databases", databases), api_route(ctx, "/users", db_users)]
    return out
