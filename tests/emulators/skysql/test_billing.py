"""Bills by year and month, their validation, the account and the two ledgers."""

from __future__ import annotations

import pytest
import requests

from tests.emulators.skysql.conftest import ORG_ID, SERVICE_IDS, Sky

BILLS = "/billing/v1/bills"
MONTHS = [(2025, 12), *((2026, m) for m in range(1, 12))]


def test_a_bill_for_each_of_the_last_twelve_months(sky: Sky, sky_api: requests.Session) -> None:
    assert sky.emulator.bill_months() == MONTHS
    bills = [sky_api.get(sky.url + BILLS, params={"year": y, "month": f"{m:02d}"}) for y, m in MONTHS]
    assert {b.status_code for b in bills} == {200}
    assert [b.json()["period"] for b in bills] == [f"{y}-{m:02d}" for y, m in MONTHS]
    october = bills[10].json()
    assert {k: v for k, v in october.items() if k != "line_items"} == {
        "additional_compute_discount": 0.0,
        "billing_mode": "postpaid",
        "currency": "USD",
        "currency_symbol": "$",
        "data_transfer_cost": 16.49,
        "discount": 318.96,
        "discounted_compute_cost": 6060.24,
        "id": "2316cc9d-f9c6-4ea1-bdcd-93d687de76d0",
        "min_compute_cost": 0.0,
        "org_id": ORG_ID,
        "period": "2026-10",
        "remaining_credit": 0.0,
        "support_cost": 0.0,
        "support_type": "standard",
        "tier": "foundation",
        "total": 6636.89,
        "total_compute_cost": 6379.2,
        "total_storage_cost": 560.16,
    }
    items = october["line_items"]
    assert [i["service"]["service_id"] for i in items] == SERVICE_IDS
    assert items[0]["cost"]["compute"][0] == {
        "active_nodes": 3,
        "instance": "sky-4x16",
        "name": "MariaDB Cloud database",
        "price_per_hour": 0.6,
        "total_cost": 1339.2,
        "total_hours": 744,
    }
    compute = sum(c["total_cost"] for i in items for c in i["cost"]["compute"])
    storage = sum(c["total_cost"] for i in items for c in i["cost"]["storage"])
    assert (round(compute, 2), round(storage, 2)) == (6379.2, 560.16)
    # the current month runs up to the data clock: 14 days and 12 hours of November
    assert bills[11].json()["line_items"][0]["cost"]["compute"][0]["total_hours"] == 348


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": 2026, "month": 12}, "invalid billing period 2026-12: it is in the future"),
        ({"year": 2027, "month": 1}, "invalid billing period 2027-01: it is in the future"),
        ({"year": 2026, "month": 13}, "invalid billing period year='2026' month='13': use YYYY and MM"),
        ({"year": 2026, "month": 0}, "invalid billing period year='2026' month='0': use YYYY and MM"),
        ({"year": 26, "month": 3}, "invalid billing period year='26' month='3': use YYYY and MM"),
        ({"year": 2026, "month": "march"}, "invalid billing period year='2026' month='march': use YYYY and MM"),
        ({"year": 2026}, "year and month are required, for example year=2025&month=03"),
        ({}, "year and month are required, for example year=2025&month=03"),
    ],
)
def test_bad_or_future_months_are_400_in_the_billing_envelope(
    sky: Sky, sky_api: requests.Session, params: dict[str, object], message: str
) -> None:
    answer = sky_api.get(sky.url + BILLS, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert sorted(body) == ["code", "err", "exception", "location", "message", "metadata", "solution", "type"]
    assert (body["code"], body["err"], body["location"], body["message"]) == (400, "Bad Request", "query", message)


def test_months_before_the_account_are_404(sky: Sky, sky_api: requests.Session) -> None:
    before = sky_api.get(sky.url + BILLS, params={"year": 2025, "month": 8})
    assert before.status_code == 404
    assert before.json() == {
        "code": 404,
        "err": "Not Found",
        "exception": "NotFoundError",
        "location": "query",
        "message": "no bill for 2025-08: the account started on 2025-09-21",
        "metadata": [{"key": "trace_id", "value": "aa76e62f74aaca31d94a4f6959c7e94e"}],
        "solution": "ask for a month from the account's start_date on",
        "type": "error",
    }
    first = sky_api.get(sky.url + BILLS, params={"year": 2025, "month": 9}).json()
    assert (first["line_items"], first["total"], first["min_compute_cost"]) == ([], 1500.0, 1500.0)


def test_account_and_ledgers(sky: Sky, sky_api: requests.Session) -> None:
    assert sky_api.get(sky.url + "/billing/v1/account").json() == {
        "active": True,
        "legal_entity_identifier": "MDB-US",
        "number": "A82697823",
        "organization_id": ORG_ID,
        "remittance": "invoice",
        "scu_consumed_mtd": 2975.4,
        "scu_remaining_mtd": 0.0,
        "start_date": "2025-09-21T00:00:00Z",
        "status": "active",
        "subscription": {"payment_collection_method": "send_invoice", "status": "active"},
        "tier": "foundation",
        "trial_credit": 500.0,
    }
    postpaid = sky_api.get(sky.url + "/billing/v1/account/postpaid-commit-ledger").json()
    assert [e["period"] for e in postpaid] == [
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
        *(f"2026-{m:02d}" for m in range(1, 11)),
    ]
    assert postpaid[1] == {
        "contract_entitlement_id": "ee85993a-6805-447c-af69-e778090b3be9",
        "created_at": "2025-11-01T00:05:00Z",
        "id": "56432e55-5bc1-4939-aa91-6b22fec94e77",
        "invoice_amount": 1711.9,
        "min_compute_commit": 1500.0,
        "org_id": ORG_ID,
        "period": "2025-10",
        "unused_compute_commit": 477.8,
    }
    october = sky_api.get(sky.url + BILLS, params={"year": 2026, "month": 10}).json()
    assert postpaid[-1]["invoice_amount"] == october["total"]
    prepaid = sky_api.get(sky.url + "/billing/v1/account/prepaid-credit-ledger").json()
    assert [(e["amount"], e["type"], e["created_at"]) for e in prepaid] == [
        (500.0, "trial", "2025-09-21T11:43:00Z"),
        (5000.0, "purchase", "2026-02-08T04:08:40Z"),
        (2500.0, "purchase", "2026-06-27T20:34:20Z"),
    ]
