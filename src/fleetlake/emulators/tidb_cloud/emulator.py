"""`TiDBCloudEmulator`: the five TiDB Cloud hosts behind one Digest-authenticated, rate-limited server."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Scope

from fleetlake.emulators.base import Emulator, EmulatorSetup, FaultPlan, FaultTarget
from fleetlake.emulators.core import (
    AppSpec,
    Clock,
    LatencyMiddleware,
    QuotaPolicy,
    RequestLog,
    build_app,
    json_response,
    request_header,
)
from fleetlake.emulators.digest import DigestAuthenticator, DigestVerifier
from fleetlake.emulators.faults import Fault
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.tidb_cloud import (
    billing,
    catalog,
    changefeeds,
    database_audit,
    dedicated,
    iam,
    network,
    serverless,
    v1beta,
)
from fleetlake.emulators.tidb_cloud.context import ApiKey, Context
from fleetlake.emulators.tidb_cloud.data import DAY, SCALES, TiDBData, TiDBScale
from fleetlake.emulators.tidb_cloud.errors import (
    iam_error,
    quota_body,
    rpc_error,
    unauthorized_body,
    v1beta_error,
)

DEFAULT_PUBLIC_KEY = "fleetlake-demo-public"
DEFAULT_PRIVATE_KEY = "fleetlake-demo-private"
REALM = "tidb.cloud"
SERVERS: tuple[tuple[str, str], ...] = (
    (v1beta.PREFIX, "v1beta"),
    (dedicated.PREFIX, "dedicated"),
    (serverless.PREFIX, "serverless"),
    (iam.PREFIX, "iam"),
    (billing.PREFIX, "billing"),
)
ENVELOPES = {
    "v1beta": v1beta_error,
    "dedicated": rpc_error,
    "serverless": rpc_error,
    "iam": iam_error,
    "billing": iam_error,
}
TABLES = (
    "projects",
    "clusters",
    "backups",
    "restores",
    "imports",
    "provider_regions",
    "dedicated_clusters",
    "dedicated_regions",
    "dedicated_node_specs",
    "dedicated_imports",
    "dedicated_integrations",
    "dedicated_changefeeds",
    "dedicated_changefeed_rcus",
    "dedicated_private_endpoint_connections",
    "dedicated_private_link_services",
    "dedicated_node_quotas",
    "dedicated_cloud_providers",
    "dedicated_log_redaction_policies",
    "private_endpoints",
    "private_endpoint_services",
    "aws_cmek_keys",
    "serverless_clusters",
    "serverless_regions",
    "serverless_branches",
    "serverless_exports",
    "serverless_imports",
    "serverless_audit_log_configs",
    "serverless_audit_log_filter_rules",
    "serverless_audit_log_files",
    "api_keys",
    "audit_logs",
    "members",
    "bills",
    "bill_details",
    "cost_explorer",
)
"""The client's table names, in the order `expected_counts` lists them."""


def _rate_headers(decision: QuotaDecision) -> list[tuple[str, str]]:
    return [
        ("X-Ratelimit-Limit-Minute", str(decision.limit)),
        ("X-Ratelimit-Remaining-Minute", str(decision.remaining)),
        ("X-Ratelimit-Reset", decision.reset_header()),
    ]


def _over_quota(decision: QuotaDecision) -> Response:
    return json_response(quota_body(decision.limit), status=429)


def _not_found(path: str, status: int, message: str) -> Response:
    server = next((name for prefix, name in SERVERS if path.startswith(prefix + "/") or path == prefix), "v1beta")
    text = f"no such endpoint: {path}" if status == 404 else f"{message}: {path}"
    return json_response(ENVELOPES[server](status, text), status=status)


class TiDBCloudEmulator(Emulator):
    """An offline TiDB Cloud: v1beta, Dedicated, Starter/Essential, IAM and billing on one server.

    Every host answers under a path prefix of one server (`base_urls` maps them), behind HTTP Digest
    auth and one quota per API key shared by all hosts, like the vendor's gateway. Data is computed
    from `seed`, `scale` and the data clock, so equal arguments give byte-identical answers.
    `project_types=False` answers v1beta projects without `type`, as the API did before 2026-04-14.

    Example:
        emulator = TiDBCloudEmulator(seed=1)
        with emulator.serve() as server:
            urls = emulator.base_urls(server.url)
    """

    FAULT_PLAN = FaultPlan(
        resources=("audit_logs", "dedicated_clusters", "projects", "clusters"),
        paged=FaultTarget("/iam/v1beta1/auditLogs", "audit_logs", 5, "endTime", "end_time"),
        looping=FaultTarget("/dedicated/v1beta1/clusters", "dedicated_clusters", 5),
        keyed=FaultTarget("/dedicated/v1beta1/clusters", "dedicated_clusters", 5, "clusterId"),
        # the audit log has no numeric field: the clusters' node counts change type instead
        retyped=FaultTarget("/dedicated/v1beta1/clusters", "dedicated_clusters", 2),
        settings={"page_size": 5},
    )

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: str | TiDBScale = "demo",
        now: datetime | None = None,
        rate_limit: int | None = 100,
        rate_window_seconds: float = 60.0,
        nonce_ttl_seconds: float = 300,
        nonce_secret: bytes | None = None,
        keys: Mapping[str, ApiKey] | None = None,
        shape: str = "vendor",
        project_types: bool = True,
        time_source: Callable[[], float] = time.monotonic,
        hooks: Sequence[Middleware] = (),
        faults: Sequence[Fault] = (),
        latency_seconds: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(scale, str):
            if scale not in SCALES:
                raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)} or a TiDBScale")
            scale = SCALES[scale]
        if shape not in ("vendor", "seed"):
            raise ValueError(f"unknown shape {shape!r}: use 'vendor' or 'seed'")
        self.seed = seed
        self.scale = scale
        self.shape = shape
        self.keys: dict[str, ApiKey] = (
            dict(keys)
            if keys is not None
            else {DEFAULT_PUBLIC_KEY: ApiKey(DEFAULT_PRIVATE_KEY, ("org:owner",), "fleetlake demo")}
        )
        self.clock = clock or Clock(now)
        self.data = TiDBData(seed, scale, int(self.clock.initial.timestamp()))
        self.requests = RequestLog()
        self.context = Context(self.data, self.clock, self.keys, shape, project_types)
        self.quota = QuotaLimiter(rate_limit, rate_window_seconds, time_source=time_source)
        self.verifier = DigestVerifier(
            realm=REALM,
            passwords=lambda user: self.keys[user].private_key if user in self.keys else None,
            nonce_ttl_seconds=nonce_ttl_seconds,
            secret=nonce_secret,
            time_source=time_source,
        )
        mounts = [
            Mount(v1beta.PREFIX, routes=v1beta.routes(self.context)),
            Mount(dedicated.PREFIX, routes=dedicated.routes(self.context)),
            Mount(serverless.PREFIX, routes=serverless.routes(self.context)),
            Mount(iam.PREFIX, routes=iam.routes(self.context)),
            Mount(billing.PREFIX, routes=billing.routes(self.context)),
        ]
        if shape == "seed":
            # a server built from the seed's OpenAPI file: its three hosts only (no v1beta, no Starter/Essential)
            mounts = [m for m in mounts if m.path not in (v1beta.PREFIX, serverless.PREFIX)]
        self.app: Starlette = build_app(
            AppSpec(
                routes=mounts,
                clock=self.clock,
                log=self.requests,
                servers=SERVERS,
                not_found=_not_found,
                authenticator=DigestAuthenticator(self.verifier, unauthorized_body),
                quota=QuotaPolicy(self.quota, _rate_headers, _over_quota),
                # latency first: a slow network delays even requests the gateway rejects
                hooks=[*([Middleware(LatencyMiddleware, seconds=latency_seconds)] if latency_seconds else []), *hooks],
                faults=list(faults),
            )
        )

    @classmethod
    def setup_arguments(cls, setup: EmulatorSetup) -> dict[str, Any]:
        """Its key, if given, is the private key of `DEFAULT_PUBLIC_KEY`, an owner; organizations on one
        server sign their digest nonces with the server's secret."""
        private = setup.key or setup.demo_key(DEFAULT_PRIVATE_KEY)
        keys = {setup.demo_key(DEFAULT_PUBLIC_KEY): ApiKey(private, ("org:owner",), "fleetlake demo")}
        return {"keys": keys, "nonce_secret": setup.server_secret}

    def _cost_explorer_rows(self, first_day: int) -> int:
        """The rows of the client's query (by service, per day, every available month) in the model."""
        start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=first_day)
        period = {"startDate": start.date().isoformat(), "endDate": self.clock.now().date().isoformat()}
        query = {"filter": {"timeRange": period}, "groups": {"groupBy": ["service"], "timeGranularity": "day"}}
        answer = billing.cost_explorer(self.context, json.dumps(query).encode())
        return sum(len(element.get("breakdown") or [None]) for element in answer["elements"])

    @staticmethod
    def presented_key(scope: Scope) -> str | None:
        """The digest user name (the public key) of `Authorization: Digest username="..."`."""
        found = re.search(r'username="([^"]*)"', request_header(scope, b"authorization") or "")
        return found.group(1) if found else None

    @staticmethod
    def base_urls(server_url: str) -> dict[str, str]:
        """The client's base URL settings for a server at `server_url` (`http://127.0.0.1:PORT`)."""
        root = server_url.rstrip("/")
        return {
            "base_url": root,
            "dedicated_base_url": root + dedicated.PREFIX,
            "serverless_base_url": root + serverless.PREFIX,
            "iam_base_url": root + iam.PREFIX,
            "billing_base_url": root + billing.PREFIX,
        }

    def source_settings(self, server_url: str) -> dict[str, Any]:
        """The TiDB source's settings for this emulator at `server_url`: its first key and base URLs.

        `billing_end_month` follows the emulator's clock, which need not be today's month.
        """
        public_key, key = next(iter(self.keys.items()))
        return {
            "public_key": public_key,
            "private_key": key.private_key,
            **self.base_urls(server_url),
            "billing_end_month": self.clock.now().strftime("%Y-%m"),
        }

    def change_cluster(self, cluster_id: str, **facts: Any) -> None:
        """Change a cluster as its owner would, in every API's answers from now on: `state="PAUSED"` pauses
        it, `tikv_nodes=6` resizes it, `version="8.5.1"` upgrades it (see `TiDBData.change`)."""
        g = self.data.cluster_ids.decode(cluster_id)
        if g is None or g >= self.data.cluster_count:
            raise KeyError(f"no cluster {cluster_id} in this organization")
        self.data.change(g, **facts)

    def demo_changes(self) -> tuple[str, ...]:
        """Pause the first Dedicated cluster that is active, resize the next (3 more TiKV nodes), upgrade the
        one after (to 8.5.2): what `fleet.cluster_changes` shows after the demo's second run."""
        now = self.clock.timestamp()
        active = [g for g in self.data.dedicated_clusters if self.data.state(g, now) == "ACTIVE"][:3]
        if len(active) == 3:
            paused, resized, upgraded = (self.data.cluster(g) for g in active)
            self.change_cluster(paused.id, state="PAUSED")
            self.change_cluster(resized.id, tikv_nodes=resized.tikv_nodes + 3)
            self.change_cluster(upgraded.id, version="8.5.2")
        return ("clusters", "dedicated_clusters", "serverless_clusters")

    def expected_counts(self) -> dict[str, int]:
        """How many records each client table holds after a full load at the current data time.

        Computed from the data model, not by calling the routes. `cost_explorer` holds what the client's
        one query answers over the whole available period (the first day of the month 6 months back up
        to today): a row per day and service, or per day from a server in the seed file's shape.
        """
        data = self.data
        now = self.clock.timestamp()
        dedicated_ids, serverless_ids = data.dedicated_clusters, data.serverless_clusters
        months = billing.available_months(now)
        first_day, today = billing.month_days(months[0], now).start, now // DAY
        days = today - first_day + 1
        ctx = self.context
        endpoints = sum(len(network.private_endpoints(ctx, g)) for g in dedicated_ids)
        return {
            "projects": data.scale.projects,
            "clusters": data.cluster_count,
            "backups": sum(data.backup_count(g, now) for g in dedicated_ids),
            "restores": sum(len(data.restores(p)) for p in range(data.scale.projects)),
            "imports": sum(data.cluster(g).imports for g in range(data.cluster_count)),
            "provider_regions": len(catalog.DEDICATED_REGIONS) + len(catalog.SERVERLESS_REGIONS),
            "dedicated_clusters": len(dedicated_ids),
            "dedicated_regions": len(catalog.DEDICATED_REGIONS),
            "dedicated_node_specs": len(catalog.DEDICATED_REGIONS) * len(catalog.NODE_SPECS),
            "dedicated_imports": sum(data.cluster(g).imports for g in dedicated_ids),
            "dedicated_integrations": sum(len(data.cluster(g).integrations) for g in dedicated_ids),
            "dedicated_changefeeds": sum(changefeeds.changefeed_count(ctx, g) for g in dedicated_ids),
            "dedicated_changefeed_rcus": len(changefeeds.RCU_SIZES),
            "dedicated_private_endpoint_connections": endpoints,
            "dedicated_private_link_services": len(dedicated_ids),
            "dedicated_node_quotas": len(network.NODE_QUOTAS),
            "dedicated_cloud_providers": len({region.provider for region in catalog.DEDICATED_REGIONS}),
            "dedicated_log_redaction_policies": len(dedicated_ids),
            "private_endpoints": endpoints,
            "private_endpoint_services": len(dedicated_ids),
            "aws_cmek_keys": sum(len(network.cmek_json(ctx, p)) for p in range(data.scale.projects)),
            "serverless_clusters": len(serverless_ids),
            "serverless_regions": len(catalog.SERVERLESS_REGIONS),
            "serverless_branches": sum(data.cluster(g).branches for g in serverless_ids),
            "serverless_exports": sum(data.cluster(g).exports for g in serverless_ids),
            "serverless_imports": sum(data.cluster(g).imports for g in serverless_ids),
            "serverless_audit_log_configs": len(serverless_ids),
            "serverless_audit_log_filter_rules": sum(len(database_audit.filter_rules(ctx, g)) for g in serverless_ids),
            "serverless_audit_log_files": sum(len(database_audit.files(ctx, g)) for g in serverless_ids),
            "api_keys": len(self.keys) + data.scale.extra_api_keys,
            "audit_logs": data.audit_count(now),
            "members": data.scale.members,
            "bills": len(months),
            "bill_details": sum(billing.detail_count(self.context, billing.month_days(m, now)) for m in months),
            "cost_explorer": days if self.shape == "seed" else self._cost_explorer_rows(first_day),
        }
