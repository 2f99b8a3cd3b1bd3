"""What every TiDB Cloud host module needs: the data, the clocks, page tokens, keys and the answer shape."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from fleetlake.emulators.core import Clock, RouteError
from fleetlake.emulators.paging import PageTokens
from fleetlake.emulators.tidb_cloud.data import TiDBData

T = TypeVar("T")
BILLING_ROLES = frozenset({"org:owner", "org:billing_admin", "org:billing_viewer"})


@dataclass(frozen=True)
class ApiKey:
    """An API key the emulator accepts: its private key (the Digest password) and its roles."""

    private_key: str
    roles: tuple[str, ...] = ("org:owner",)
    display_name: str = "fleetlake"

    def __post_init__(self) -> None:
        # accept any sequence of roles, keep a tuple so keys stay hashable
        object.__setattr__(self, "roles", tuple(self.roles))


@dataclass
class Context:
    """Shared state of one TiDB Cloud emulator."""

    data: TiDBData
    clock: Clock
    keys: Mapping[str, ApiKey]
    shape: str = "vendor"
    """"vendor" answers in the vendor's Swagger shapes, "seed" in the third-party file's where they differ."""
    project_types: bool = True
    """Whether v1beta projects carry `type` (the vendor added it on 2026-04-14; older servers omit it)."""
    tokens: PageTokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = PageTokens(self.data.token_secret)

    def now(self) -> int:
        """The data clock in unix seconds."""
        return self.clock.timestamp()

    def require_billing_role(self, key_id: str | None) -> None:
        """403 unless the calling key is an owner or a billing admin/viewer."""
        key = self.keys.get(key_id or "")
        if key is None or not BILLING_ROLES.intersection(key.roles):
            raise RouteError(
                403,
                "the API key needs the Organization Owner, Billing Admin or Billing Viewer role to read billing",
            )


def iso(ts: int) -> str:
    """Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def day_string(ts: int) -> str:
    """Unix seconds as `YYYY-MM-DD`."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def mask(secret: str, keep: int = 4, width: int = 32) -> str:
    """A secret shown the vendor's way: stars, then its last `keep` characters."""
    return "*" * width + secret[-keep:]


def by_create_time(order_by: str, items: Sequence[T]) -> Sequence[T]:
    """Apply `orderBy` (`createTime`, the default, or `createTime desc`) to items listed oldest first."""
    order = " ".join(order_by.split())
    if order in ("", "createTime", "createTime asc"):
        return items
    if order == "createTime desc":
        return list(reversed(items))
    raise RouteError(400, f"invalid orderBy {order!r}: use createTime or createTime desc")
