"""`iam.tidbapi.com/v1beta1`: API keys, console audit logs and organization members.

Shapes follow tidb-cloud-iam-v1beta1-openapi-original.json. Audit log entry i has a time computed
from i, so `startTime`/`endTime` map to an index range and deep pages cost one page; filtering by
event type or keyword scans the range once and remembers the matching indexes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import rng
from fleetlake.emulators.tidb_cloud import catalog
from fleetlake.emulators.tidb_cloud.context import Context, iso, mask
from fleetlake.emulators.tidb_cloud.data import LOWER_ALNUM, UPPER_ALNUM, Member
from fleetlake.emulators.tidb_cloud.errors import iam_error

PREFIX = "/iam/v1beta1"
EXTRA_KEY_NAMES = ("ci-readonly", "terraform", "grafana-exporter", "billing-export", "backup-automation")
EXTRA_KEY_ROLES = ("org:owner", "org:billing_viewer", "project:owner", "project:readonly")
MEMBER_ORDERS = {
    "email asc": (lambda m: m.email, False),
    "email desc": (lambda m: m.email, True),
    "invite_time asc": (lambda m: m.invited, False),
    "invite_time desc": (lambda m: m.invited, True),
    "login_time asc": (lambda m: m.last_login or 0, False),
    "login_time desc": (lambda m: m.last_login or 0, True),
}


def api_keys(ctx: Context) -> list[dict[str, Any]]:
    """The organization's API keys: the ones the emulator accepts, then a few others."""
    org = ctx.data.org_id
    out = [
        {
            "accessKey": public,
            "displayName": key.display_name,
            "name": f"orgs/{org}/apiKeys/{n + 1}",
            "role": key.roles[0] if key.roles else "",
            "secretKey": mask(key.private_key),
        }
        for n, (public, key) in enumerate(ctx.keys.items())
    ]
    for k in range(ctx.data.scale.extra_api_keys):
        r = rng(ctx.data.seed, "api-key", k)
        name = EXTRA_KEY_NAMES[k % len(EXTRA_KEY_NAMES)]
        out.append(
            {
                "accessKey": "".join(r.choice(UPPER_ALNUM) for _ in range(8)),
                "displayName": name if k < len(EXTRA_KEY_NAMES) else f"{name}-{k // len(EXTRA_KEY_NAMES) + 1}",
                "name": f"orgs/{org}/apiKeys/{len(out) + 1}",
                "role": r.choice(EXTRA_KEY_ROLES),
                "secretKey": mask("".join(r.choice(LOWER_ALNUM) for _ in range(4))),
            }
        )
    return out


def _details(ctx: Context, event: str, cluster: int | None, r: Any) -> str:
    data = ctx.data
    if cluster is not None and event in ("CreateCluster", "UpdateCluster"):
        c = data.cluster(cluster)
        if not c.dedicated:
            return json.dumps({"tier_type": c.plan.lower()}, separators=(",", ":"))
        return json.dumps(
            {
                "port_number": "4000",
                "tidb_node_group_id": "",
                "tidb_quantity": str(c.tidb_nodes),
                "tidb_size": c.tidb_spec,
                "tier_type": "dedicated",
                "tikv_quantity": str(c.tikv_nodes),
                "tikv_size": c.tikv_spec,
                "tikv_storage_size": str(c.tikv_storage),
            },
            separators=(",", ":"),
        )
    if event == "UpdateIPAccessList":
        return json.dumps({"ip_list": f"{r.randint(20, 200)}.{r.randint(0, 255)}.0.0/16"}, separators=(",", ":"))
    if event in ("InviteUser", "UpdateUserRole"):
        invited = data.member(r.randrange(data.scale.members))
        return json.dumps({"email": invited.email, "role": invited.org_role}, separators=(",", ":"))
    return "{}"


def audit_entry(ctx: Context, i: int) -> dict[str, Any]:
    """Audit log entry `i`, in the fields of controller.orgAuditLog."""
    data = ctx.data
    r = rng(data.seed, "audit", i)
    event = data.audit_type(i)
    member = data.member(r.randrange(data.scale.members))
    by_api = event not in ("Login", "Logout") and r.random() < 0.2
    project = data.project(r.randrange(data.scale.projects))
    cluster = None
    if event in catalog.CLUSTER_EVENTS:
        cluster = project.first_cluster + r.randrange(project.cluster_count)
    c = data.cluster(cluster) if cluster is not None else None
    first_octet = r.choice((34, 52, 81, 93, 104, 147, 185, 203))
    ip = f"{first_octet}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    out = {
        "clusterId": c.id if c else "",
        "clusterName": c.name if c else "",
        "clusterType": ("Dedicated" if c.dedicated else c.plan) if c else "",
        "details": _details(ctx, event, cluster, r),
        "endTime": iso(data.audit_time(i)),
        "eventType": event,
        "id": data.audit_ids.encode(i),
        "operationEmail": member.email,
        "operationId": str(10**18 + r.getrandbits(59)),
        "operationIp": ip,
        "operationLoginMethod": "api-key" if by_api else r.choice(catalog.LOGIN_METHODS),
        "operationType": "API" if by_api else "User",
        "organizationId": data.org_id,
        "organizationName": data.org_name,
        "projectId": project.id,
        "projectName": project.name,
        "result": "Failure" if r.random() < 0.05 else "Success",
        "tranceId": f"{r.getrandbits(128):032x}",
    }
    if ctx.shape == "seed":
        out["timestamp"] = out.pop("endTime")
    return out


def member_json(ctx: Context, m: Member) -> dict[str, Any]:
    """A member as api.OpenApiUser."""
    data = ctx.data
    out: dict[str, Any] = {
        "email": m.email,
        "firstName": m.first_name,
        "instanceRoles": [{"rbacRole": role, "scopeId": data.cluster(g).id} for role, g in m.instance_roles],
        "inviteTime": iso(m.invited),
    }
    if m.last_login is not None:
        out["lastLoginTime"] = iso(m.last_login)
    out.update(
        {
            "lastName": m.last_name,
            "orgRole": {"rbacRole": m.org_role, "scopeId": data.org_id},
            "projectRoles": [{"rbacRole": role, "scopeId": data.project(p).id} for role, p in m.project_roles],
            "status": "Active" if m.active else "Pending",
            "userId": m.user_id,
        }
    )
    return out


def _time(call: Call, name: str, *, end: bool) -> int | None:
    raw = call.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise RouteError(400, f"invalid {name} {raw!r}: use ISO 8601, for example 2025-01-31T00:00:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = value.timestamp()
    # entries carry whole seconds: an inclusive bound rounds inwards
    return int(seconds) if end or seconds == int(seconds) else int(seconds) + 1


def routes(ctx: Context) -> list[Route]:
    """The IAM v1beta1 routes, relative to `/iam/v1beta1`."""
    data = ctx.data

    @lru_cache(maxsize=16)
    def matching(types: frozenset[str], keyword: str, start: int, stop: int) -> Sequence[int]:
        out = []
        for i in range(start, stop):
            if types and data.audit_type(i) not in types:
                continue
            if keyword:
                entry = audit_entry(ctx, i)
                if not any(keyword in str(value).lower() for value in entry.values()):
                    continue
            out.append(i)
        return out

    def list_keys(call: Call) -> dict[str, Any]:
        items = api_keys(ctx)
        page = token_page(call.query, ctx.tokens, token_scope("iam/apikeys", call.query), len(items), default_size=100)
        return {"apiKeys": [items[i] for i in page.slice.indices()], "nextPageToken": page.next_token}

    def audit_logs(call: Call) -> dict[str, Any]:
        start, end = _time(call, "startTime", end=False), _time(call, "endTime", end=True)
        window = data.audit_range(start, end, ctx.now())
        types = frozenset(t.strip() for t in call.query.get("auditEventTypes", "").split(",") if t.strip())
        keyword = call.query.get("keyword", "").strip().lower()
        indexes: Sequence[int] = window
        if types or keyword:
            indexes = matching(types, keyword, window.start, window.stop)
        scope = token_scope("iam/auditLogs", call.query)
        page = token_page(call.query, ctx.tokens, scope, len(indexes), default_size=100)
        return {
            "auditLogs": [audit_entry(ctx, indexes[i]) for i in page.slice.indices()],
            "nextPageToken": page.next_token,
            "totalSize": len(indexes),
        }

    def members(call: Call) -> dict[str, Any]:
        people = [data.member(i) for i in range(data.scale.members)]
        email = call.query.get("email", "").lower()
        roles = set(call.query.getlist("roles"))
        statuses = set(call.query.getlist("statuses"))
        project_id, instance_id = call.query.get("projectId"), call.query.get("instanceId")

        def keep(m: Member) -> bool:
            held = {m.org_role} | {role for role, _ in m.project_roles} | {role for role, _ in m.instance_roles}
            return (
                (not email or m.email == email)
                and (not roles or bool(roles & held))
                and (not statuses or ("Active" if m.active else "Pending") in statuses)
                and (not project_id or any(data.project(p).id == project_id for _, p in m.project_roles))
                and (not instance_id or any(data.cluster(g).id == instance_id for _, g in m.instance_roles))
            )

        people = [m for m in people if keep(m)]
        order = call.query.get("orderBy")
        if order:
            if order not in MEMBER_ORDERS:
                raise RouteError(400, f"invalid orderBy {order!r}: use one of {', '.join(MEMBER_ORDERS)}")
            by, descending = MEMBER_ORDERS[order]
            people.sort(key=by, reverse=descending)
        page = token_page(call.query, ctx.tokens, token_scope("iam/members", call.query), len(people), default_size=100)
        return {
            "nextPageToken": page.next_token,
            "totalSize": len(people),
            "users": [member_json(ctx, people[i]) for i in page.slice.indices()],
        }

    out = [route("/apikeys", list_keys, iam_error), route("/auditLogs", audit_logs, iam_error)]
    # the seed's OpenAPI file describes no members list: a server built from it answers 404 there
    return out if ctx.shape == "seed" else [*out, route("/members", members, iam_error)]
