"""`/organization/v1`: the organization's projects and users, each a bare array with integer epochs.

Users are `dto.User` with the `dto.Org` inside, as the vendor's reference declares; an organization
without users answers 204 No Content. Neither list takes paging parameters.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call
from fleetlake.emulators.seeded import mix
from fleetlake.emulators.skysql.context import Context, Reply, api_route
from fleetlake.emulators.skysql.data import DAY, HOUR

PREFIX = "/organization/v1"
DESCRIPTIONS = ("", "Customer-facing databases", "Reporting and BI", "Pre-production", "Card payments")


def project_json(ctx: Context, p: int) -> dict[str, Any]:
    """A project as `GET /organization/v1/projects` lists it."""
    data = ctx.data
    created = data.project_created(p)
    owner = data.user(0).id
    return {
        "id": data.uid("project", p),
        "name": data.project_name(p),
        "description": DESCRIPTIONS[p % len(DESCRIPTIONS)],
        "is_default": p == 0,
        "created_by": owner,
        "updated_by": owner,
        "created_on": created,
        "updated_on": created + mix(data.seed, "project-updated", p) % (30 * DAY),
    }


def org_json(ctx: Context, org_id: str) -> dict[str, Any]:
    """`dto.Org`: the calling key's organization."""
    data = ctx.data
    owner = data.user(0).id
    return {
        "created_by": owner,
        "created_on": data.org_start,
        "current_owner": owner,
        "id": org_id,
        "is_active": True,
        "is_deleted": False,
        "name": data.org_name,
        "tier": "foundation",
        "updated_by": owner,
        "updated_on": data.org_start + HOUR,
    }


def user_json(ctx: Context, u: int, org: dict[str, Any]) -> dict[str, Any]:
    """`dto.User`, as `GET /organization/v1/users` lists it."""
    data = ctx.data
    user = data.user(u)
    inviter = data.user(0).id if u else user.id
    return {
        "created_by": inviter,
        "created_on": user.created,
        "email": user.email,
        "first_name": user.first_name,
        "id": user.id,
        "invited": user.invited,
        "is_active": user.active,
        "is_deleted": False,
        "last_name": user.last_name,
        "mfa_enabled": user.mfa,
        "org": org,
        "org_id": org["id"],
        "roles": list(user.roles),
        "updated_by": inviter,
        "updated_on": user.created + mix(data.seed, "user-updated", u) % DAY,
    }


def routes(ctx: Context) -> list[Route]:
    """The /organization/v1 routes, relative to the prefix."""
    data = ctx.data

    def projects(call: Call) -> list[dict[str, Any]]:
        return [project_json(ctx, p) for p in range(data.scale.projects)]

    def users(call: Call) -> list[dict[str, Any]] | Reply:
        org = org_json(ctx, ctx.org_of(call))
        out = [user_json(ctx, u, org) for u in range(data.scale.users)]
        return out if out else Reply(None, status=204)

    return [api_route(ctx, "/projects", projects), api_route(ctx, "/users", users)]
