"""`SkySQLEmulator`: the four SkySQL / MariaDB Cloud API hosts behind one key-checking, rate-limited server."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Scope

from fleetlake.emulators.base import Emulator, EmulatorSetup, FaultPlan, FaultTarget
from fleetlake.emulators.core import AppSpec, AuthDecision, Clock, QuotaPolicy, RequestLog, build_app, request_header
from fleetlake.emulators.faults import Fault
from fleetlake.emulators.keyauth import HeaderKeyAuthenticator, Rejection
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.skysql import billing, catalog, organization, provisioning, skybackup
from fleetlake.emulators.skysql.context import HEADER_MODE, TOKEN_MODES, Context, PathBoundError
from fleetlake.emulators.skysql.data import SCALES, SkySQLData, SkySQLScale, organization_id

DEFAULT_API_KEY = "fleetlake-demo-skysql-key"
DEFAULT_BASE_URL = "https://api.skysql.com"
"""The vendor's server root; every host is a path prefix under it."""
ORG_HEADERS = {"x-mdb-org": "X-MDB-Org", "x-skysql-org-id": "X-SkySQL-Org-ID"}
"""The organization headers accepted, lower-cased -> as spelled: the vendor's Terraform provider sends
X-MDB-Org, its current billing reference reads "X-SkySQL-Org-ID header value"
(../shared/specs/mariadb-cloud-endpoints.md, "Org selection")."""
SEED_ONLY_MODES = ("404", "serve")
BILL_MONTHS = 12
SERVERS: tuple[tuple[str, str], ...] = (
    (provisioning.PREFIX, "provisioning"),
    (organization.PREFIX, "organization"),
    (skybackup.PREFIX, "skybackup"),
    (billing.PREFIX, "billing"),
)
TABLES = (
    "services",
    "service_types",
    "topologies",
    "providers",
    "regions",
    "sizes",
    "versions",
    "configs",
    "service_allowlists",
    "products",
    "product_configs",
    "tiers",
    "volume_types",
    "availability_zones",
    "projects",
    "organization_users",
    "backups",
    "restores",
    "backup_schedules",
    "billing_account",
    "bills",
    "postpaid_commit_ledger",
    "prepaid_credit_ledger",
    "invoices",
    "service_usage",
    "databases",
    "users",
)
"""The client's table names, in the order `expected_counts` lists them."""


def key_id(api_key: str) -> str:
    """The id the request log and the quota know a key by: a fingerprint, never the key itself."""
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


class OrgKeyAuthenticator:
    """`X-API-Key` must be a known key; `X-MDB-Org` and `X-SkySQL-Org-ID`, each when sent, must name that
    key's organization.

    A wrong organization is refused with 403 and still counts against the key's quota.
    """

    def __init__(self, ctx: Context, keys: Mapping[str, str]) -> None:
        self.ctx = ctx
        self.orgs = {key_id(key): org for key, org in keys.items()}
        self.keys = HeaderKeyAuthenticator("x-api-key", {key: key_id(key) for key in keys}, self._reject)

    def _reject(self, reason: Rejection) -> Response:
        return PathBoundError(self.ctx, 401, "API key is missing" if reason == "missing" else "invalid API key")

    def authenticate(self, scope: Scope) -> AuthDecision:
        """Check the key, then the organization header."""
        decision = self.keys.authenticate(scope)
        if decision.key_id is None:
            return decision
        for name, value in scope["headers"]:
            header = ORG_HEADERS.get(bytes(name).decode("latin-1").lower())
            if header and bytes(value).decode("latin-1").strip() != self.orgs[decision.key_id]:
                message = f"the organization in {header} is not the organization of this API key"
                return AuthDecision(key_id=decision.key_id, rejection=PathBoundError(self.ctx, 403, message))
        return decision


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0").rstrip(".")


class SkySQLEmulator(Emulator):
    """An offline SkySQL / MariaDB Cloud: provisioning, organization, skybackup and billing on one server.

    Every host answers under its path prefix of one server, as under https://api.skysql.com, behind
    `X-API-Key` and an optional fixed-window quota per key (429 with `Retry-After`). Data is computed
    from `seed`, `scale` and the data clock, so equal arguments give byte-identical answers.

    `page_token_mode` "header" gives the next page's `page_token` of /provisioning/v1 lists in the
    `X-Next-Page-Token` header; "link" in a `Link: <...?page_token=...>; rel="next"` header; "body"
    answers an object `{items, next_page_token}` instead of the bare array; "none" never gives one
    (a client then sees only first pages). How the vendor does it is undocumented.
    `seed_only_endpoints` "serve" adds /provisioning/v1/databases and /users, which only the seed page
    lists; by default they are 404 like any unknown path. `legacy_billing_endpoints` "serve" adds
    /billing/v1/invoices and /usage/service, which only the vendor's old summary pages list, with no
    shape (`billing`'s notes say what they answer); by default they are 404 too.

    Example:
        emulator = SkySQLEmulator(seed=1)
        with emulator.serve() as server:
            settings = emulator.source_settings(server.url)
    """

    FAULT_PLAN = FaultPlan(
        resources=("services", "backups", "sizes"),
        # pages of 5: the 8 services take two pages
        paged=FaultTarget("/provisioning/v1/services", "services", 3, "created_on", "created_on"),
        looping=FaultTarget("/provisioning/v1/services", "services", 5),
        keyed=FaultTarget("/provisioning/v1/services", "services", 5, "id"),
        retyped=FaultTarget("/provisioning/v1/services", "services", 3, "nodes"),
        settings={"page_size": 5},
    )

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: str | SkySQLScale = "demo",
        now: datetime | None = None,
        rate_limit: int | None = None,
        rate_window_seconds: float = 60.0,
        retry_after_seconds: float | None = None,
        keys: Mapping[str, str] | None = None,
        page_token_mode: str = HEADER_MODE,
        seed_only_endpoints: str = "404",
        legacy_billing_endpoints: str = "404",
        time_source: Callable[[], float] = time.monotonic,
        hooks: Sequence[Middleware] = (),
        faults: Sequence[Fault] = (),
        clock: Clock | None = None,
    ) -> None:
        if isinstance(scale, str):
            if scale not in SCALES:
                raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)} or a SkySQLScale")
            scale = SCALES[scale]
        if page_token_mode not in TOKEN_MODES:
            raise ValueError(f"unknown page_token_mode {page_token_mode!r}: use one of {', '.join(TOKEN_MODES)}")
        if seed_only_endpoints not in SEED_ONLY_MODES:
            raise ValueError(f"unknown seed_only_endpoints {seed_only_endpoints!r}: use '404' or 'serve'")
        if legacy_billing_endpoints not in SEED_ONLY_MODES:
            raise ValueError(f"unknown legacy_billing_endpoints {legacy_billing_endpoints!r}: use '404' or 'serve'")
        if retry_after_seconds is not None and retry_after_seconds < 0:
            raise ValueError(f"retry_after_seconds must not be negative, got {retry_after_seconds}")
        self.seed = seed
        self.scale = scale
        self.page_token_mode = page_token_mode
        self.seed_only_endpoints = seed_only_endpoints
        self.legacy_billing_endpoints = legacy_billing_endpoints
        self.retry_after_seconds = retry_after_seconds
        self.clock = clock or Clock(now)
        self.data = SkySQLData(seed, scale, int(self.clock.initial.timestamp()))
        self.keys: dict[str, str] = dict(keys) if keys is not None else {DEFAULT_API_KEY: self.data.org_id}
        if not self.keys:
            raise ValueError("the emulator needs at least one API key")
        self.requests = RequestLog()
        self.context = Context(self.data, self.clock, {key_id(k): org for k, org in self.keys.items()}, page_token_mode)
        self.quota = QuotaLimiter(rate_limit, rate_window_seconds, time_source=time_source)
        self.billing = billing.Billing(self.context)
        self.app: Starlette = build_app(
            AppSpec(
                routes=[
                    Mount(
                        provisioning.PREFIX,
                        routes=provisioning.routes(self.context, seed_only=seed_only_endpoints == "serve"),
                    ),
                    Mount(organization.PREFIX, routes=organization.routes(self.context)),
                    Mount(skybackup.PREFIX, routes=skybackup.routes(self.context)),
                    Mount(
                        billing.PREFIX,
                        routes=billing.routes(self.billing, legacy=legacy_billing_endpoints == "serve"),
                    ),
                ],
                clock=self.clock,
                log=self.requests,
                servers=SERVERS,
                not_found=self._not_found,
                authenticator=OrgKeyAuthenticator(self.context, self.keys),
                quota=QuotaPolicy(self.quota, lambda decision: [], self._over_quota),
                hooks=list(hooks),
                faults=list(faults),
                auth_header="x-api-key",
            )
        )

    def _not_found(self, path: str, status: int, message: str) -> Response:
        text = f"no such endpoint: {path}" if status == 404 else f"{message}: {path}"
        return self.context.error(path, status, text)

    def _over_quota(self, decision: QuotaDecision) -> Response:
        wait = decision.reset_header() if self.retry_after_seconds is None else _seconds(self.retry_after_seconds)
        window = _seconds(self.quota.window_seconds)
        message = f"rate limit exceeded: {decision.limit} requests per {window} seconds per API key"
        return PathBoundError(self.context, 429, message, headers={"Retry-After": wait})

    @classmethod
    def setup_arguments(cls, setup: EmulatorSetup) -> dict[str, Any]:
        """Its key, if given, belongs to the emulated organization."""
        return {"keys": {setup.key or setup.demo_key(DEFAULT_API_KEY): organization_id(setup.data_seed)}}

    @staticmethod
    def presented_key(scope: Scope) -> str | None:
        return request_header(scope, b"x-api-key")

    @staticmethod
    def base_url(server_url: str) -> str:
        """The client's base URL for a server at `server_url`: the server root, like the vendor's."""
        return server_url.rstrip("/")

    def source_settings(self, server_url: str) -> dict[str, Any]:
        """The SkySQL source's settings for this emulator at `server_url`: its first key, base URL and last bill
        month (the emulator's clock need not be in today's month)."""
        return {
            "api_key": next(iter(self.keys)),
            "base_url": self.base_url(server_url),
            "billing_end_month": self.clock.now().strftime("%Y-%m"),
        }

    def bill_months(self) -> list[tuple[int, int]]:
        """The (year, month) pairs a client asks bills for: the last 12 up to the current one that have a bill."""
        now = self.clock.timestamp()
        year, month = billing.month_of(now)
        index = year * 12 + month - 1 - (BILL_MONTHS - 1)
        months = billing.months_between((index // 12, index % 12 + 1), (year, month))
        return [m for m in months if m >= billing.month_of(self.data.org_start)]

    def expected_counts(self, *, page_size: int = 100, include_default_configs: bool = False) -> dict[str, int]:
        """How many records each client table holds after a full load at the current data time.

        Computed from the data model, not by calling the routes. With page tokens off, a
        /provisioning/v1 list yields only its first page of `page_size` records (ascending order), and
        schedules (and allow-lists) are asked for the services seen, product configs for the products
        seen. The seed-only and legacy billing lists count 0 unless served.
        """
        data, now = self.data, self.clock.timestamp()

        def seen(total: int) -> int:
            return total if self.context.header_tokens else min(total, page_size)

        services = seen(data.scale.services)
        served = self.seed_only_endpoints == "serve"
        legacy = self.legacy_billing_endpoints == "serve"
        products = catalog.PRODUCTS[: seen(len(catalog.PRODUCTS))]
        regions = catalog.REGIONS[: seen(len(catalog.REGIONS))]
        defaults = len(catalog.TOPOLOGIES) if include_default_configs else 0
        return {
            "services": services,
            "service_types": seen(len(catalog.SERVICE_TYPES)),
            # asked once per service type, each answering its topologies
            "topologies": sum(
                seen(sum(t.service_type == kind.name for t in catalog.TOPOLOGIES)) for kind in catalog.SERVICE_TYPES
            ),
            "providers": seen(len(catalog.PROVIDERS)),
            "regions": seen(len(catalog.REGIONS)),
            "sizes": seen(len(catalog.SIZES)),
            "versions": seen(len(catalog.VERSIONS)),
            "configs": seen(data.scale.custom_configs + defaults),
            # unpaged: every entry of every service seen
            "service_allowlists": sum(len(provisioning.allow_list(self.context, s)) for s in range(services)),
            "products": len(products),
            "product_configs": sum(seen(len(p.variables)) for p in products),
            "tiers": seen(len(catalog.TIERS)),
            "volume_types": sum(
                seen(sum(t.provider == p.name for t in catalog.VOLUME_TYPES))
                for p in catalog.PROVIDERS[: seen(len(catalog.PROVIDERS))]
            ),
            "availability_zones": sum(seen(len(r.zones)) for r in regions),
            "projects": data.scale.projects,
            "organization_users": data.scale.users,
            "backups": data.total_backups(now),
            "restores": len(data.restores),
            "backup_schedules": data.schedule_offsets[services],
            "billing_account": 1,
            "bills": len(self.bill_months()),
            "postpaid_commit_ledger": len(self.billing.closed_months(now)),
            "prepaid_credit_ledger": data.scale.prepaid_credits,
            "invoices": len(self.billing.closed_months(now)) if legacy else 0,
            "service_usage": len(self.billing.usage(now)) if legacy else 0,
            "databases": seen(data.database_offsets[-1]) if served else 0,
            "users": seen(data.db_user_offsets[-1]) if served else 0,
        }
