"""`/billing/v1`: the account, monthly bills and the two credit ledgers, amounts in dollars; invoices and
usage per service only when asked for.

A bill is asked for by `year` and `month` and covers every service that ran in that month, the
current month up to the data clock. A month after the current one, or a malformed one, is a 400; a
month before the account started is a 404 (there is no bill, rather than an empty one). All amounts
derive from whole cents per service and month, so bills and ledgers agree.

`/invoices` and `/usage/service` appear only on the vendor's old summary pages ("Returns list of
invoices"), with no shape, and not in its current reference: by default they are 404 like any unknown
path, which is what a client must survive. Served (`legacy_billing_endpoints="serve"`), they answer in
the closest documented shapes, bare arrays as the ledgers are: an invoice per closed month with the
field names of the bills and the postpaid ledger (`id, org_id, period, currency, total, created_at`), and
the current month's usage per service as a bill's line items carry it (`id, period, service{...},
cost{...}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call
from fleetlake.emulators.seeded import mix
from fleetlake.emulators.skysql.context import Context, api_route, iso
from fleetlake.emulators.skysql.data import DAY, HOUR
from fleetlake.emulators.skysql.errors import ApiError

PREFIX = "/billing/v1"
MIN_COMPUTE_COMMIT_CENTS = 150_000
DISCOUNT_PERCENT = 5
TRIAL_CREDIT_CENTS = 50_000
CREDIT_AMOUNTS_CENTS = (250_000, 500_000, 1_000_000)
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{1,2}$")


def month_start(year: int, month: int) -> int:
    """The first second of a month, in unix seconds."""
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def month_end(year: int, month: int) -> int:
    """The first second of the following month."""
    return month_start(year + month // 12, month % 12 + 1)


def month_of(ts: int) -> tuple[int, int]:
    """The (year, month) a unix time falls in."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year, moment.month


def months_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Every (year, month) from `first` to `last`, both included."""
    low, high = first[0] * 12 + first[1] - 1, last[0] * 12 + last[1] - 1
    return [(i // 12, i % 12 + 1) for i in range(low, high + 1)]


def dollars(cents: int) -> float:
    """Whole cents as the vendor's dollar amounts."""
    return cents / 100


@dataclass(frozen=True)
class Charge:
    """One line of a service's cost in a month."""

    name: str
    instance: str
    nodes: int
    cents_per_hour: int
    hours: int

    @property
    def cents(self) -> int:
        """What the line costs."""
        return self.nodes * self.cents_per_hour * self.hours

    def as_json(self) -> dict[str, Any]:
        """The line as a bill's `cost` entries show it."""
        return {
            "active_nodes": self.nodes,
            "instance": self.instance,
            "name": self.name,
            "price_per_hour": dollars(self.cents_per_hour),
            "total_cost": dollars(self.cents),
            "total_hours": self.hours,
        }


def charges(ctx: Context, s: int, start: int, end: int) -> tuple[list[Charge], list[Charge], int]:
    """Service `s`'s compute lines, storage lines and data transfer cents for [start, end)."""
    v = ctx.data.service(s)
    hours = max(0, end - max(start, v.created)) // HOUR
    if hours == 0:
        return [], [], 0
    if v.topology == "sa":
        compute = [Charge("Serverless Analytics", "sa-compute", 1, 40, hours)]
    else:
        cpu = int(v.size.removeprefix("sky-").split("x")[0])
        compute = [Charge("MariaDB Cloud database", v.size, v.nodes, cpu * 15, hours)]
        if v.maxscale_nodes:
            compute.append(Charge("MaxScale", "sky-2x4", v.maxscale_nodes, 20, hours))
    storage = []
    if v.storage_gb:
        # 10 cents per GB-month, billed by the hour at 730 hours a month
        per_hour = max(1, v.storage_gb * 10 // 730)
        storage.append(Charge(f"{v.storage_gb} GB storage", v.volume_type, max(v.nodes, 1), per_hour, hours))
    transfer = (mix(ctx.data.seed, "transfer", s) % 300) * hours // 730
    return compute, storage, transfer


@dataclass(frozen=True)
class MonthTotals:
    """The cents of one month's bill."""

    compute: int
    storage: int
    transfer: int

    @property
    def discount(self) -> int:
        """The contract discount on compute."""
        return self.compute * DISCOUNT_PERCENT // 100

    @property
    def shortfall(self) -> int:
        """What the minimum compute commitment adds when compute stayed below it."""
        return max(0, MIN_COMPUTE_COMMIT_CENTS - (self.compute - self.discount))

    @property
    def total(self) -> int:
        """The bill's total."""
        return self.compute - self.discount + self.shortfall + self.storage + self.transfer


class Billing:
    """Bills, the account and ledgers of one emulator (closed months are computed once)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.totals = lru_cache(maxsize=256)(self._totals)

    def window(self, year: int, month: int, now: int) -> tuple[int, int]:
        """The billed period of a month: from its start to its end, or to `now` in the current month."""
        return month_start(year, month), min(month_end(year, month), now)

    def _totals(self, year: int, month: int, until: int) -> MonthTotals:
        start = month_start(year, month)
        compute = storage = transfer = 0
        for s in range(self.ctx.data.scale.services):
            lines, disks, moved = charges(self.ctx, s, start, until)
            compute += sum(c.cents for c in lines)
            storage += sum(c.cents for c in disks)
            transfer += moved
        return MonthTotals(compute, storage, transfer)

    def month_totals(self, year: int, month: int, now: int) -> MonthTotals:
        """A month's totals at `now`."""
        return self.totals(year, month, self.window(year, month, now)[1])

    def bill(self, year: int, month: int, org_id: str, now: int) -> dict[str, Any]:
        """The usage allocation summary of one month."""
        data = self.ctx.data
        start, until = self.window(year, month, now)
        bill_id = data.uid("bill", year, month)
        items = []
        for s in range(data.scale.services):
            compute, storage, _ = charges(self.ctx, s, start, until)
            if not compute:
                continue
            v = data.service(s)
            items.append(
                {
                    "bill_id": bill_id,
                    "cost": {
                        "compute": [c.as_json() for c in compute],
                        "storage": [c.as_json() for c in storage],
                    },
                    "id": data.uid("bill-line", year, month, s),
                    "service": {
                        "name": v.name,
                        "provider": v.provider,
                        "region": v.region.name,
                        "service_id": v.id,
                        "topology": v.topology,
                    },
                }
            )
        t = self.totals(year, month, until)
        return {
            "additional_compute_discount": 0.0,
            "billing_mode": "postpaid",
            "currency": "USD",
            "currency_symbol": "$",
            "data_transfer_cost": dollars(t.transfer),
            "discount": dollars(t.discount),
            "discounted_compute_cost": dollars(t.compute - t.discount),
            "id": bill_id,
            "line_items": items,
            "min_compute_cost": dollars(t.shortfall),
            "org_id": org_id,
            "period": f"{year:04d}-{month:02d}",
            "remaining_credit": 0.0,
            "support_cost": 0.0,
            "support_type": "standard",
            "tier": "foundation",
            "total": dollars(t.total),
            "total_compute_cost": dollars(t.compute),
            "total_storage_cost": dollars(t.storage),
        }

    def account(self, org_id: str, now: int) -> dict[str, Any]:
        """`dto.Account`: compute units are dollars of compute this month."""
        data = self.ctx.data
        consumed = self.month_totals(*month_of(now), now)
        used = consumed.compute - consumed.discount
        start = data.org_start - data.org_start % DAY
        return {
            "active": True,
            "legal_entity_identifier": "MDB-US",
            "number": f"A{mix(data.seed, 'account-number') % 10**8:08d}",
            "organization_id": org_id,
            "remittance": "invoice",
            "scu_consumed_mtd": dollars(used),
            "scu_remaining_mtd": dollars(max(0, MIN_COMPUTE_COMMIT_CENTS - used)),
            "start_date": iso(start),
            "status": "active",
            "subscription": {"payment_collection_method": "send_invoice", "status": "active"},
            "tier": "foundation",
            "trial_credit": dollars(TRIAL_CREDIT_CENTS),
        }

    def closed_months(self, now: int) -> list[tuple[int, int]]:
        """The months from the account's start to the one before `now`'s."""
        year, month = month_of(now)
        previous = (year - 1, 12) if month == 1 else (year, month - 1)
        return months_between(month_of(self.ctx.data.org_start), previous)

    def postpaid(self, org_id: str, now: int) -> list[dict[str, Any]]:
        """One commitment entry per closed month, oldest first."""
        data = self.ctx.data
        out = []
        for year, month in self.closed_months(now):
            t = self.month_totals(year, month, now)
            out.append(
                {
                    "contract_entitlement_id": data.uid("entitlement", year),
                    "created_at": iso(month_end(year, month) + 300),
                    "id": data.uid("postpaid", year, month),
                    "invoice_amount": dollars(t.total),
                    "min_compute_commit": dollars(MIN_COMPUTE_COMMIT_CENTS),
                    "org_id": org_id,
                    "period": f"{year:04d}-{month:02d}",
                    "unused_compute_commit": dollars(t.shortfall),
                }
            )
        return out

    def prepaid(self, org_id: str) -> list[dict[str, Any]]:
        """The credits granted before t0: the trial credit first, then purchases."""
        data = self.ctx.data
        count = data.scale.prepaid_credits
        span = data.t0 - DAY - data.org_start
        out = []
        for k in range(count):
            created = data.org_start + HOUR + span * k // max(count, 1)
            amount = TRIAL_CREDIT_CENTS if k == 0 else CREDIT_AMOUNTS_CENTS[mix(data.seed, "credit", k) % 3]
            out.append(
                {
                    "amount": dollars(amount),
                    "batch": f"{month_of(created)[0]}-{k + 1:03d}",
                    "contract_id": data.uid("contract", k // 4),
                    "created_at": iso(created),
                    "id": data.uid("prepaid", k),
                    "org_id": org_id,
                    "reason": "trial credit" if k == 0 else "prepaid credit purchase",
                    "type": "trial" if k == 0 else "purchase",
                }
            )
        return out

    def invoices(self, org_id: str, now: int) -> list[dict[str, Any]]:
        """One invoice per closed month, oldest first (an assumed shape: see the module's notes)."""
        out = []
        for year, month in self.closed_months(now):
            t = self.month_totals(year, month, now)
            out.append(
                {
                    "id": self.ctx.data.uid("invoice", year, month),
                    "org_id": org_id,
                    "period": f"{year:04d}-{month:02d}",
                    "currency": "USD",
                    "total": dollars(t.total),
                    "created_at": iso(month_end(year, month) + DAY),
                }
            )
        return out

    def usage(self, now: int) -> list[dict[str, Any]]:
        """This month's usage so far of every service that ran, as bill line items (an assumed shape)."""
        year, month = month_of(now)
        line_items: list[dict[str, Any]] = self.bill(year, month, "", now)["line_items"]
        period = f"{year:04d}-{month:02d}"
        out = []
        for item in line_items:
            service_id = item["service"]["service_id"]
            usage_id = self.ctx.data.uid("usage", year, month, service_id)
            out.append({"id": usage_id, "period": period, "service": item["service"], "cost": item["cost"]})
        return out


def parse_month(call: Call, now: int, org_start: int) -> tuple[int, int]:
    """The `year` and `month` asked for; 400 when malformed or in the future, 404 before the account."""
    raw_year, raw_month = call.query.get("year", ""), call.query.get("month", "")
    if not raw_year or not raw_month:
        raise ApiError(400, "year and month are required, for example year=2025&month=03")
    if not _YEAR.match(raw_year) or not _MONTH.match(raw_month) or not 1 <= int(raw_month) <= 12:
        raise ApiError(400, f"invalid billing period year={raw_year!r} month={raw_month!r}: use YYYY and MM")
    year, month = int(raw_year), int(raw_month)
    if (year, month) > month_of(now):
        raise ApiError(400, f"invalid billing period {year:04d}-{month:02d}: it is in the future")
    if (year, month) < month_of(org_start):
        started = iso(org_start)[:10]
        message = f"no bill for {year:04d}-{month:02d}: the account started on {started}"
        raise ApiError(404, message, location="query", solution="ask for a month from the account's start_date on")
    return year, month


def routes(billing: Billing, *, legacy: bool = False) -> list[Route]:
    """The /billing/v1 routes, relative to the prefix; `legacy` adds /invoices and /usage/service."""
    ctx = billing.ctx

    def account(call: Call) -> dict[str, Any]:
        return billing.account(ctx.org_of(call), ctx.now())

    def bills(call: Call) -> dict[str, Any]:
        now = ctx.now()
        year, month = parse_month(call, now, ctx.data.org_start)
        return billing.bill(year, month, ctx.org_of(call), now)

    def postpaid(call: Call) -> list[dict[str, Any]]:
        return billing.postpaid(ctx.org_of(call), ctx.now())

    def prepaid(call: Call) -> list[dict[str, Any]]:
        return billing.prepaid(ctx.org_of(call))

    def invoices(call: Call) -> list[dict[str, Any]]:
        return billing.invoices(ctx.org_of(call), ctx.now())

    def usage(call: Call) -> list[dict[str, Any]]:
        return billing.usage(ctx.now())

    out = [
        api_route(ctx, "/account", account),
        api_route(ctx, "/bills", bills),
        api_route(ctx, "/account/postpaid-commit-ledger", postpaid),
        api_route(ctx, "/account/prepaid-credit-ledger", prepaid),
    ]
    if legacy:
        out += [api_route(ctx, "/invoices", invoices), api_route(ctx, "/usage/service", usage)]
    return out
