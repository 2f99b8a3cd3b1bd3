"""Secoda's records as JSON, in the field order of the vendor's reference samples.

Every record is computed from (seed, index) and the data clock when a page is rendered. Field values
the vendor's samples print as Python strings ("None", "False") are real JSON nulls and booleans here.
"""

from __future__ import annotations

import random
from typing import Any

from fleetlake.emulators.secoda import words
from fleetlake.emulators.secoda.data import (
    AUDIT_OFFSET,
    CHART,
    DOCUMENT,
    ENTITY_TYPES,
    NATIVE_TYPES,
    NO_INTEGRATION,
    TERM,
    VIEW,
    SecodaData,
)
from fleetlake.emulators.secoda.ids import DAY_US, HOUR_US, iso

APP = "https://app.secoda.co"
EMAIL_DOMAIN = "northwind.example"
URL_KINDS = {"dictionary_term": "dictionary", "database": "database"}
DIALECT_TYPES = {
    "bigquery": {"NUMBER": "INT64", "VARCHAR": "STRING", "DECIMAL": "NUMERIC", "BOOLEAN": "BOOL"},
    "postgres": {"NUMBER": "bigint", "VARCHAR": "text", "DECIMAL": "numeric", "TIMESTAMP": "timestamptz"},
    "redshift": {"NUMBER": "BIGINT", "VARCHAR": "VARCHAR(256)", "TIMESTAMP": "TIMESTAMP"},
    "snowflake": {"TIMESTAMP": "TIMESTAMP_NTZ", "DECIMAL": "NUMBER(38,2)"},
}


def _sample(r: random.Random, population: int, choices: tuple[int, ...]) -> list[int]:
    return sorted(r.sample(range(population), min(population, r.choice(choices))))


def _cased(title: str) -> str:
    return title.replace("_", " ").title() if title.islower() or title.isupper() else title


def _between(r: random.Random, low: int, high: int) -> int:
    return low + r.randrange(max(1, high - low))


def resource(data: SecodaData, i: int, now_us: int) -> dict[str, Any]:
    """A catalog resource as `resource/catalog` and `resource/all/{id}` answer it."""
    a = data.arrays(now_us)
    r = data.hash.rng(11, i)
    ntype, title, flags, rid = a.ntype[i], data.title(i), data.flags(i), data.resource_ids.encode(i)
    tags = _sample(r, data.scale.tags, (0, 0, 0, 1, 1, 2))
    if flags.pii and 0 not in tags:
        tags.insert(0, 0)
    entity = ENTITY_TYPES[ntype]
    return {
        "id": rid,
        "created_at": iso(a.created[i]),
        "updated_at": iso(data.updated_all(now_us)[i]),
        "entity_type": entity,
        "native_type": NATIVE_TYPES[ntype],
        "bookmarked_by": [],
        "icon": words.ICONS[r.randrange(len(words.ICONS))] if ntype == DOCUMENT else None,
        "title": title,
        "title_full": data.title_full(i),
        "title_cased": _cased(title),
        "description": data.description(i),
        "definition": _definition(ntype, title),
        "multiplayers": [],
        "multiplayer_last_modified_by": None,
        "multiplayer_last_modified": None,
        "owners": [data.user_ids.encode(u) for u in _sample(r, data.scale.users, (0, 1, 1, 2))],
        "owners_groups": [],
        "collections": [data.collection_ids.encode(r.randrange(data.scale.collections))] if r.random() < 0.12 else [],
        "tags": [data.tag_ids.encode(t) for t in tags],
        "teams": [data.team_ids.encode(t) for t in data.teams_of(i)],
        "workspace_id": data.workspace_id,
        "integration_id": None if a.integ[i] == NO_INTEGRATION else data.integrations[a.integ[i]].id,
        "parent_id": None if a.parent[i] < 0 else data.resource_ids.encode(a.parent[i]),
        "total_usage": a.usage[i],
        "published": flags.published,
        "archived": flags.archived,
        "pii": flags.pii,
        "verified": flags.verified,
        "url": f"{APP}/{URL_KINDS.get(entity, entity)}/{rid}",
    }


def _definition(ntype: int, title: str) -> str:
    if ntype == DOCUMENT:
        return f"# {title}\n\nOwned by the data team. Ask in #data-help if anything here is unclear.\n"
    if ntype == TERM:
        return f"**{title}** is measured the same way in every dashboard; see the linked metrics.\n"
    return ""


def table(data: SecodaData, i: int, now_us: int) -> dict[str, Any]:
    """A table or view as `table/tables` lists it."""
    a = data.arrays(now_us)
    base = resource(data, i, now_us)
    schema = a.parent[i]
    database = a.parent[schema]
    return {
        "id": base["id"],
        "created_at": base["created_at"],
        "updated_at": base["updated_at"],
        "entity_type": "table",
        "type": "view" if a.ntype[i] == VIEW else "table",
        "name": base["title"],
        "title": base["title"],
        "description": base["description"],
        "database": data.title(database),
        "schema": data.title(schema),
        "cluster": None,
        "columns": [data.title(c) for c in data.children(i, now_us)],
        "integration": base["integration_id"],
        "parent_id": base["parent_id"],
        "owners": base["owners"],
        "tags": base["tags"],
        "pii": base["pii"],
        "pristine": base["updated_at"] == base["created_at"],
        "published": base["published"],
        "verified": base["verified"],
    }


def column(data: SecodaData, i: int, now_us: int) -> dict[str, Any]:
    """A column as `table/columns` lists it."""
    a = data.arrays(now_us)
    base = resource(data, i, now_us)
    generic = data.column_type(i)
    dialect = data.integrations[a.integ[i]].type
    return {
        "id": base["id"],
        "created_at": base["created_at"],
        "updated_at": base["updated_at"],
        "entity_type": "column",
        "name": base["title"],
        "title": base["title"],
        "title_full": base["title_full"],
        "type": DIALECT_TYPES.get(dialect, {}).get(generic, generic),
        "description": base["description"],
        "parent_id": base["parent_id"],
        "integration": base["integration_id"],
        "sort_order": a.ordinal[i],
        "is_primary_key": base["title"].lower() == "id",
        "owners": base["owners"],
        "tags": base["tags"],
        "pii": base["pii"],
        "published": base["published"],
        "verified": base["verified"],
    }


def _credentials(kind: str, r: random.Random, name: str) -> dict[str, Any]:
    """Plausible secrets, so the client's redaction has something to redact."""
    secret = "".join(r.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(32))
    host = f"{name.split()[0].lower()}-{r.randint(100, 999)}"
    if kind == "snowflake":
        return {
            "account": f"nw{r.randint(10000, 99999)}.eu-central-1",
            "user": "SECODA_SVC",
            "password": secret,
            "role": "SECODA_READER",
            "warehouse": "SECODA_WH",
        }
    if kind == "bigquery":
        key = "-----BEGIN PRIVATE KEY-----\n" + secret * 4 + "\n-----END PRIVATE KEY-----\n"
        return {
            "project_id": f"northwind-analytics-{r.randint(100, 999)}",
            "credentials_json": {
                "type": "service_account",
                "client_email": "secoda@northwind-analytics.iam.gserviceaccount.com",
                "private_key_id": secret[:20].lower(),
                "private_key": key,
            },
        }
    if kind in ("postgres", "redshift"):
        return {
            "host": f"{host}.db.northwind.example",
            "port": 5432 if kind == "postgres" else 5439,
            "user": "secoda",
            "password": secret,
            "database": "analytics",
        }
    if kind == "tableau":
        return {
            "server_url": "https://prod-useast-b.online.tableau.com",
            "site_id": "northwind",
            "token_name": "secoda",
            "token_secret": secret,
        }
    return {"base_url": "https://northwind.looker.com", "client_id": secret[:20], "client_secret": secret}


def integration(data: SecodaData, g: int, now_us: int) -> dict[str, Any]:
    """An integration, with its (secret) credentials as the vendor answers them."""
    item = data.integrations[g]
    r = data.hash.rng(12, g)
    last_run = now_us - now_us % DAY_US + item.extraction_hour * HOUR_US
    if last_run > now_us:
        last_run -= DAY_US
    return {
        "id": item.id,
        "created_at": iso(item.created_us),
        "updated_at": iso(max(item.created_us, last_run)),
        "name": item.name,
        "type": item.type,
        "credentials": _credentials(item.type, r, item.name),
        "workspace_id": data.workspace_id,
        "ssh_tunnel": None,
        "execute_access": [],
        "scheduled_extractions_hour": item.extraction_hour,
        "scheduled_extractions_frequency": "daily",
        "scheduled_extractions_next_run": iso(last_run + DAY_US),
        "scheduled_extractions_last_run": iso(last_run),
        "properties": {"resources": item.size},
        "preview_access_users": [],
        "preview_access_roles": ["Admin", "Editor"],
        "preview_access_groups": [],
        "teams": [data.team_ids.encode(t) for t in item.teams],
    }


def collection(data: SecodaData, c: int) -> dict[str, Any]:
    """A collection."""
    r = data.hash.rng(13, c)
    created = data.t0_us - r.randint(30, 500) * DAY_US - r.randrange(DAY_US)
    names = words.COLLECTIONS
    title = names[c % len(names)] + ("" if c < len(names) else f" {c // len(names) + 1}")
    return {
        "id": data.collection_ids.encode(c),
        "created_at": iso(created),
        "updated_at": iso(_between(r, created, data.t0_us)),
        "entity_type": "collection",
        "title": title,
        "description": f"Everything about {title.lower()}.",
        "definition": "",
        "icon": words.ICONS[r.randrange(len(words.ICONS))],
        "owners": [data.user_ids.encode(u) for u in _sample(r, data.scale.users, (1, 1, 2))],
        "tags": [],
        "teams": [data.team_ids.encode(r.randrange(data.scale.teams))],
        "published": True,
        "archived": False,
        "pii": False,
        "verified": r.random() < 0.3,
        "workspace_id": data.workspace_id,
    }


def user(data: SecodaData, u: int) -> dict[str, Any]:
    """A user: no creation or update time, as the vendor's sample."""
    first, last = data.user(u)
    r = data.hash.rng(14, u)
    pending = u > 0 and r.random() < 0.08
    role = "Admin" if u == 0 else r.choice(("Editor", "Editor", "Viewer", "Viewer", "Viewer", "Guest"))
    return {
        "id": data.user_ids.encode(u),
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}",
        "role": role,
        "workspace_id": data.workspace_id,
        "profile_picture": None,
        "pending": pending,
        "user_groups": [],
        "bookmarks": [],
        "workspace": data.workspace_id,
        "is_service_account": u == 1,
        "service_account_count_popularity": u != 1,
        "last_login": None if pending else iso(data.t0_us - r.randrange(40 * DAY_US)),
        "new_feature_acknowledged": r.random() < 0.7,
        "disabled": u > 1 and r.random() < 0.05,
    }


def team(data: SecodaData, t: int) -> dict[str, Any]:
    """A team; the one past the active teams is archived."""
    r = data.hash.rng(15, t)
    archived = t >= data.scale.teams
    names = words.TEAMS
    name = "Legacy BI" if archived else names[t % len(names)] + ("" if t < len(names) else f" {t // len(names) + 1}")
    created = data.t0_us - r.randint(200, 700) * DAY_US - r.randrange(DAY_US)
    sections = ("home", "catalog", "documents", "questions", "glossary", "collections")
    return {
        "id": data.team_ids.encode(t),
        "created_at": iso(created),
        "updated_at": iso(_between(r, created, data.t0_us)),
        "name": name,
        "icon": words.ICONS[t % len(words.ICONS)],
        "type": "CLOSED" if r.random() < 0.3 else "OPEN",
        "description": f"The {name} team's workspace.",
        "sidebar_settings": {s: r.random() < 0.85 for s in sections},
        "workspace_id": data.workspace_id,
        "archived": archived,
        "is_default_team": t == 0,
        "onboarding_complete": True,
    }


def tag(data: SecodaData, t: int) -> dict[str, Any]:
    """A tag; some come from an integration, the rest were made in Secoda."""
    r = data.hash.rng(16, t)
    name, color = words.TAGS[t % len(words.TAGS)]
    created = data.t0_us - r.randint(60, 600) * DAY_US - r.randrange(DAY_US)
    from_integration = t > 0 and r.random() < 0.25
    return {
        "id": data.tag_ids.encode(t),
        "created_at": iso(created),
        "updated_at": iso(_between(r, created, data.t0_us)),
        "name": name if t < len(words.TAGS) else f"{name} {t // len(words.TAGS) + 1}",
        "description": f"Resources marked {name}.",
        "color": color,
        "integration_id": data.integrations[r.randrange(len(data.integrations))].id if from_integration else None,
        "workspace_id": data.workspace_id,
    }


def lineage(data: SecodaData, e: int) -> dict[str, Any]:
    """A lineage edge between two resources."""
    source, target = data.edges()[e]
    a = data.arrays()
    r = data.hash.rng(17, e)
    created = min(max(a.created[source], a.created[target]) + r.randrange(10 * DAY_US), data.t0_us - HOUR_US)
    return {
        "id": data.lineage_ids.encode(e),
        "created_at": iso(created),
        "updated_at": iso(_between(r, created, data.t0_us)),
        "from_entity_id": data.resource_ids.encode(source),
        "to_entity_id": data.resource_ids.encode(target),
        "direction": "DOWNSTREAM" if r.random() < 0.7 else "UPSTREAM",
        "workspace_id": data.workspace_id,
        "is_manual": r.random() < 0.3 or a.ntype[target] == CHART,
    }


def question(data: SecodaData, q: int) -> dict[str, Any]:
    """A question asked about a table, with the reply accepted as its answer (if any)."""
    r = data.hash.rng(18, q)
    tables = data.tables0()
    subject = tables[r.randrange(len(tables))]
    created = question_time(data, q)
    starts = data.reply_starts()
    replies = range(starts[q], starts[q + 1])
    answered = bool(replies) and r.random() < 0.7
    updated = max((reply_time(data, k) for k in replies), default=created)
    return {
        "id": data.question_ids.encode(q),
        "created_at": iso(created),
        "updated_at": iso(updated),
        "entity_type": "question",
        "title": words.QUESTIONS[r.randrange(len(words.QUESTIONS))].format(data.title(subject)),
        "description": "",
        "definition": f"Asked from the {data.title_full(subject)} page.",
        "owners": [data.user_ids.encode(r.randrange(data.scale.users))],
        "assignee": data.user_ids.encode(r.randrange(data.scale.users)),
        "status": "answered" if answered else "open",
        "priority": r.choice(("low", "medium", "medium", "high")),
        "accepted_answer": data.reply_ids.encode(replies[0]) if answered else None,
        "parent_id": data.resource_ids.encode(subject),
        "teams": [data.team_ids.encode(t) for t in data.teams_of(subject)],
        "published": True,
        "archived": False,
        "workspace_id": data.workspace_id,
    }


def question_time(data: SecodaData, q: int) -> int:
    """When question `q` was asked: in the 300 days before the initial time."""
    return data.t0_us - 2 * DAY_US - data.hash(22, q) % (298 * DAY_US)


def reply_time(data: SecodaData, k: int) -> int:
    """When reply `k` was written: hours after its question, before the initial time."""
    q = data.question_of(k)
    asked = question_time(data, q)
    step = data.hash(19, k) % (24 * HOUR_US) + HOUR_US
    return min(asked + (k - data.reply_starts()[q] + 1) * step, data.t0_us - 1)


def reply(data: SecodaData, k: int) -> dict[str, Any]:
    """A reply to a question."""
    q = data.question_of(k)
    at = reply_time(data, k)
    r = data.hash.rng(20, k)
    accepted = question(data, q)["accepted_answer"] == data.reply_ids.encode(k)
    return {
        "id": data.reply_ids.encode(k),
        "created_at": iso(at),
        "updated_at": iso(at),
        "question_id": data.question_ids.encode(q),
        "definition": words.REPLIES[r.randrange(len(words.REPLIES))],
        "owners": [data.user_ids.encode(r.randrange(data.scale.users))],
        "accepted_answer": accepted,
        "workspace_id": data.workspace_id,
    }


def _audit_parts(data: SecodaData, e: int) -> tuple[int, int]:
    """The resource and the user of audit entry `e`."""
    r = data.hash.rng(21, e)
    i = r.randrange(data.initial_count)
    return i, r.randrange(data.scale.users)


def audit_entry(data: SecodaData, e: int) -> dict[str, Any]:
    """An audit log entry of `/notification/workspace/`: who did what to which resource."""
    i, u = _audit_parts(data, e)
    return {
        "id": data.audit_ids.encode(e + AUDIT_OFFSET),
        "created_at": iso(data.audit_time(e)),
        "event": data.audit_event(e),
        "resource_id": data.resource_ids.encode(i),
        "resource_type": ENTITY_TYPES[data.arrays().ntype[i]],
        "performer": {"id": data.user_ids.encode(u), "name": data.user_name(u)},
    }


def audit_log(data: SecodaData, e: int) -> dict[str, Any]:
    """The same audit entry as `/activity_log/audit_logs/` answers it: same id, time, event, resource, user.

    Field names from the sample of the vendor's "List Audit Logs" page (https://docs.secoda.co/api/reference/
    audit-logs; `../shared/specs/secoda-api-endpoints.md` does not describe this endpoint): `activity_type`
    for the event, `performer_id`, `performer_type` and `performer_metadata` for the user, `logged_at`.
    The sample's `resource_metadata`, `event_blocks` and `version_history_id` are left out: nothing the
    workspace lays out fills them.
    """
    i, u = _audit_parts(data, e)
    first, last = data.user(u)
    user_id = data.user_ids.encode(u)
    moment = iso(data.audit_time(e))
    return {
        "id": data.audit_ids.encode(e + AUDIT_OFFSET),
        "parent_id": None,
        "activity_type": data.audit_event(e),
        "performer_id": user_id,
        "performer_type": "USER",
        "performer_metadata": {
            "id": user_id,
            "email": f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}",
            "first_name": first,
            "last_name": last,
            "name": data.user_name(u),
        },
        "resource_id": data.resource_ids.encode(i),
        "resource_type": ENTITY_TYPES[data.arrays().ntype[i]],
        "related_resource_ids": [],
        "logged_at": moment,
        "created_at": moment,
        "updated_at": moment,
        "is_legacy": False,
    }
