"""`/skybackup/v1`: backups, backup schedules and restores, paged by page number in an envelope.

Lists answer `{<items>, <items>_count, pages_count}` and take `page` (from 1), `page_size` (from 1,
default 10, clamped to 100: the vendor documents no maximum) and `order` (asc, the default, or desc
by time). Backup ids are `<hex>:<service id>:<pod>`, schedule and restore ids are integers, times are
ISO strings. Schedules need `service_id`, as the reference says.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call
from fleetlake.emulators.seeded import mix, rng
from fleetlake.emulators.skysql.context import Context, api_route, iso, number_page, wall
from fleetlake.emulators.skysql.data import DAY, HOUR, SCHEDULE_KINDS, Backup
from fleetlake.emulators.skysql.errors import ApiError

PREFIX = "/skybackup/v1"


def _pod(ctx: Context, s: int) -> str:
    v = ctx.data.service(s)
    return f"{v.name}-xpand-0" if v.topology == "xpand" else f"{v.name}-mdb-ms-0"


def backup_id(ctx: Context, b: Backup) -> str:
    """`<hex>:<service id>:<pod>`, the shape of the reference's sample id."""
    text = f"{ctx.data.seed}|backup|{b.service}|{b.day}"
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"{digest}:{ctx.data.service(b.service).id}:{_pod(ctx, b.service)}"


def _human(size: int) -> str:
    return f"{size / (1 << 30):.1f}G"


def backup_json(ctx: Context, b: Backup) -> dict[str, Any]:
    """`v1.Backup`: one nightly full backup."""
    v = ctx.data.service(b.service)
    n = b.day - v.backup_first_day + 1
    ok = b.status == "Succeeded"
    disk = b.size * 13 // 10
    return {
        "binlog_file": f"mariadb-bin.{n:06d}",
        "binlog_gtid_position": f"0-{1000 + b.service}-{n * 7919 + mix(ctx.data.seed, 'gtid', b.service) % 9973}",
        "binlog_position": str(256 + mix(ctx.data.seed, "binlog-position", b.service, b.day) % 10**9),
        "cloud_provider": v.provider,
        "disk_size": _human(disk),
        "disk_size_bytes": disk,
        "end_time": iso(b.end),
        "id": backup_id(ctx, b),
        "is_external_storage": False,
        "method": "xpand-backup" if v.topology == "xpand" else "mariabackup",
        "point_in_time": wall(b.end),
        "reference_full_backup": "",
        "server_pod": _pod(ctx, b.service),
        "service_id": v.id,
        "service_name": v.name,
        "start_time": iso(b.start),
        "status": b.status,
        "storage_bytes": b.size if ok else 0,
        "type": "full",
    }


def schedule_json(ctx: Context, s: int, j: int) -> dict[str, Any]:
    """Schedule `j` of service `s`: the first is the nightly full backup the backups list shows."""
    data = ctx.data
    v = data.service(s)
    base = 1 + mix(data.seed, "schedule-ids") % 500
    r = rng(data.seed, "schedule", s, j)
    if j == 0:
        kind, cron = "full", f"{v.backup_tod % HOUR // 60} {v.backup_tod // HOUR} * * *"
        created = v.assigned + 300
        first_run = (created // DAY + 1) * DAY + v.backup_tod
        suspended = False
    else:
        kind, cron = SCHEDULE_KINDS[r.randrange(len(SCHEDULE_KINDS))]
        created = v.assigned + r.randint(1, (data.t0 - v.assigned) // DAY - 2) * DAY + r.randint(0, DAY - 1)
        first_run = created + r.randint(5 * 60, 2 * HOUR)
        suspended = cron != "once" and r.random() < 0.2
    done = cron == "once"
    return {
        "cloud_provider": v.provider,
        "created_at": iso(created),
        "id": base + data.schedule_offsets[s] + j,
        "labels": {"origin": "system"} if j == 0 else {},
        "message": "backup completed" if done else "",
        "schedule": cron,
        "scheduled_at": iso(first_run),
        "service_id": v.id,
        "service_name": v.name,
        "status": "Succeeded" if done else ("Suspended" if suspended else "Scheduled"),
        "suspended": suspended,
        "type": kind,
        "updated_at": iso(first_run + 120 if done else created),
    }


def restore_json(ctx: Context, rid: int, b: Backup, created: int) -> dict[str, Any]:
    """`v1.RestoreResponse`: a backup restored into its own service."""
    v = ctx.data.service(b.service)
    failed = mix(ctx.data.seed, "restore-failed", rid) % 100 < 15
    scheme = "gs" if v.provider == "gcp" else "s3"
    return {
        "backup_id": backup_id(ctx, b),
        "bucket": f"{scheme}://skysql-backups-{v.region.name}/{ctx.data.org_id}",
        "created_at": iso(created),
        "id": rid,
        "message": "restore failed: the target service ran out of disk space" if failed else "",
        "service_id": v.id,
        "service_name": v.name,
        "status": "Failed" if failed else "Succeeded",
        "type": "physical",
    }


def routes(ctx: Context) -> list[Route]:
    """The /skybackup/v1 routes, relative to the prefix."""
    data = ctx.data

    def backups(call: Call) -> dict[str, Any]:
        now = ctx.now()
        wanted_service, wanted_status = call.query.get("service_id"), call.query.get("status")
        service = data.service_index(wanted_service) if wanted_service else None
        if wanted_service and service is None:
            pairs: list[tuple[int, int]] | None = []
        elif wanted_status:
            status = wanted_status.casefold()
            if service is None:
                everyone = data.all_backups(now)
            else:
                first = data.service(service).backup_first_day
                everyone = iter([(service, first + n) for n in range(data.backup_count(service, now))])
            pairs = [(s, d) for s, d in everyone if data.backup_status(s, d).casefold() == status]
        else:
            pairs = None
        if pairs is not None:
            total = len(pairs)
            page = number_page(call, total)
            items = [data.backup(*pairs[i]) for i in page.positions(total)]
        elif service is not None:
            total = data.backup_count(service, now)
            page = number_page(call, total)
            first = data.service(service).backup_first_day
            items = [data.backup(service, first + i) for i in page.positions(total)]
        else:
            total = data.total_backups(now)
            page = number_page(call, total)
            if page.descending:
                items = data.backup_slice(total - page.stop, total - page.start, now)[::-1]
            else:
                items = data.backup_slice(page.start, page.stop, now)
        return {
            "backups": [backup_json(ctx, b) for b in items],
            "backups_count": total,
            "pages_count": page.pages,
        }

    def schedules(call: Call) -> dict[str, Any]:
        wanted = call.query.get("service_id")
        if not wanted:
            raise ApiError(400, "service_id is required")
        if len(wanted) < 3:
            raise ApiError(400, f"invalid service_id {wanted!r}: must be at least 3 characters")
        s = data.service_index(wanted)
        items = [] if s is None else [schedule_json(ctx, s, j) for j in range(data.service(s).schedules)]
        kind = call.query.get("type")
        if kind:
            items = [item for item in items if item["type"] == kind]
        page = number_page(call, len(items))
        return {
            "pages_count": page.pages,
            "schedules": [items[i] for i in page.positions(len(items))],
            "schedules_count": len(items),
        }

    def restores(call: Call) -> dict[str, Any]:
        items = data.restores
        wanted = call.query.get("service_id")
        if wanted:
            items = [item for item in items if data.service(item[1].service).id == wanted]
        page = number_page(call, len(items))
        return {
            "pages_count": page.pages,
            "restores": [restore_json(ctx, *items[i]) for i in page.positions(len(items))],
            "restores_count": len(items),
        }

    return [
        api_route(ctx, "/backups", backups),
        api_route(ctx, "/backups/schedules", schedules),
        api_route(ctx, "/restores", restores),
    ]
