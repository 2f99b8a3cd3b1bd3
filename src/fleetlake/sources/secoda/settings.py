"""Secoda endpoints as data: regions, limits and one row per plain list.

Shapes follow the vendor's docs (`../shared/specs/secoda-api-endpoints.md`): lists answer
`{links: {next, previous}, meta, count, total_pages, results}`; the older audit log
(`/notification/workspace/`, read where `/activity_log/audit_logs/` answers 404: `audit.py`) answers
`{count, next, previous, results}`. Table names follow the dltHub page where it names them.
"""

from __future__ import annotations

from dataclasses import replace

from fleetlake.sources.lists import Endpoint

TITLE = "Secoda"
SECTION = "secoda_source"
PIPELINE_NAME = "secoda_pipeline"
DATASET_NAME = "secoda_data"

REGIONS: dict[str, str] = {
    "us": "https://api.secoda.co/api/v1",
    "eu": "https://eapi.secoda.co/api/v1",
    "apac": "https://aapi.secoda.co/api/v1",
}
CATALOG_CAP = 10_000  # resources one catalog query returns across all its pages
AUDIT_LOG_DAYS = 90  # the audit log keeps 90 days
AUDIT_PAGE_SIZE = 100
TIMESTAMPS = ("created_at", "updated_at")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("document", "base_url", "document/", ("results",), "next", ("id",),
             "Documents (listed by the dltHub page; no vendor reference page confirms it: a 404 is a warning).",
             timestamps=TIMESTAMPS, optional=True),
    Endpoint("collection", "base_url", "collection/collections", ("results",), "next", ("id",),
             "Collections and what they hold.", timestamps=TIMESTAMPS),
    Endpoint("integration", "base_url", "integration/integrations", ("results",), "next", ("id",),
             "Integrations (warehouses, BI tools, dbt...); their credentials are never loaded.",
             timestamps=(*TIMESTAMPS, "scheduled_extractions_next_run", "scheduled_extractions_last_run")),
    Endpoint("users", "base_url", "user", ("results",), "next", ("id",),
             "Users of the workspace: role, groups, service accounts.", timestamps=("last_login",)),
    Endpoint("teams", "base_url", "auth/teams/", ("results",), "next", ("id",),
             "Teams, archived ones included.", params={"include_archived": "true"}, timestamps=TIMESTAMPS),
    Endpoint("tags", "base_url", "tag", ("results",), "next", ("id",),
             "Tags and their colors.", timestamps=TIMESTAMPS),
    Endpoint("lineage", "base_url", "lineage/manual/", ("results",), "next", ("id",),
             "Manual lineage edges between resources.", timestamps=TIMESTAMPS),
    Endpoint("tables", "base_url", "table/tables", ("results",), "next", ("id",),
             "Tables with schema, database and columns.", timestamps=TIMESTAMPS),
    Endpoint("columns", "base_url", "table/columns", ("results",), "next", ("id",),
             "Columns of every table.", timestamps=TIMESTAMPS),
    Endpoint("terms", "base_url", "dictionary/terms", ("results",), "next", ("id",),
             "Glossary terms.", timestamps=TIMESTAMPS),
    Endpoint("questions", "base_url", "question/questions", ("results",), "next", ("id",),
             "Questions asked in the workspace.", timestamps=TIMESTAMPS),
)  # fmt: skip

# every list states its size as `count`: a list ending short of it is reported possibly incomplete
ENDPOINTS = tuple(replace(endpoint, total="count") for endpoint in ENDPOINTS)

SPECIAL_RESOURCES: dict[str, str] = {
    "resource_catalog": (
        "Every catalog resource, past the API's 10,000-per-query cap (split by integration, type and parent); "
        "re-runs read only what changed."
    ),
    "resource_detail": "One resource's full record, for resources new or changed since the last run (off by default).",
    "audit_log": "Workspace audit log (90 days kept), incremental on event time.",
}


def resource_descriptions() -> dict[str, str]:
    """Every table the source can load, with a one-line description."""
    out = {"resource_catalog": SPECIAL_RESOURCES["resource_catalog"]}
    out.update({endpoint.name: endpoint.description for endpoint in ENDPOINTS})
    out["resource_detail"] = SPECIAL_RESOURCES["resource_detail"]
    out["audit_log"] = SPECIAL_RESOURCES["audit_log"]
    return out
