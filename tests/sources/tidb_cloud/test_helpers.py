from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fleetlake.errors import ConfigurationError
from fleetlake.sources.endpoints import parse_timestamp, sanitized, shape_records
from fleetlake.sources.months import month_shift
from fleetlake.sources.tidb_cloud.helpers import amounts_to_decimal
from fleetlake.sources.tidb_cloud.settings import ENDPOINTS
from fleetlake.sources.tidb_cloud.source import months_to_load
from fleetlake.sources.values import to_date

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def test_month_arithmetic_crosses_years():
    assert month_shift("2026-01", -1) == "2025-12"
    assert month_shift("2026-11", 2) == "2027-01"
    assert months_to_load("2026-02", 3) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_to_load("2026-11", 0) == ["2026-11"]


@pytest.mark.parametrize(
    ("end", "back", "fragment"), [("2026-13", 2, "billing_end_month"), ("2026-11", 7, "between 0 and 6")]
)
def test_bad_billing_settings_name_the_setting(end, back, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        months_to_load(end, back)


def test_timestamps_parse_to_aware_utc():
    assert parse_timestamp("2025-12-03T07:34:32Z") == datetime(2025, 12, 3, 7, 34, 32, tzinfo=UTC)
    assert parse_timestamp("") is None
    assert parse_timestamp("1656991448") == datetime(2022, 7, 5, 3, 24, 8, tzinfo=UTC)
    assert parse_timestamp("0") is None
    assert to_date("2026-11-03") == date(2026, 11, 3)


def test_credentials_are_dropped_at_any_depth():
    record = {
        "accessKey": "AK",
        "secretKey": "****1234",
        "target": {"s3": {"accessKey": {"id": "x", "secret": "s"}}},
    }
    assert sanitized(record) == {"accessKey": "AK", "target": {"s3": {"accessKey": {"id": "x"}}}}
    # integers past 64 bits go to the variant column as text: no column holds them, one failed the whole load
    assert sanitized({"n": 2**63, "m": -(2**63), "k": [1, 2**64 + 1], "ok": True, "deep": [{"x": -(2**70)}]}) == {
        "n__v_text": "9223372036854775808",
        "m": -(2**63),
        "k__v_text": "[1, 18446744073709551617]",
        "ok": True,
        "deep": [{"x__v_text": "-1180591620717411303424"}],
    }


def test_amounts_become_decimals_but_names_stay_strings():
    bill = {
        "overview": {"totalCost": "12.30", "billedMonth": "2026-10"},
        "summaryByService": [{"credits": "0.00"}],
    }
    assert amounts_to_decimal(bill) == {
        "overview": {"totalCost": Decimal("12.30"), "billedMonth": "2026-10"},
        "summaryByService": [{"credits": Decimal("0.00")}],
    }


def test_shape_records_types_lifts_and_copies_parent_keys():
    raw = {
        "metadata": {"id": "77", "create_timestamp": "1700000000"},
        "status": {"end_timestamp": ""},
        "spec": {"source": {"aws_key_access": {"access_key_id": "AKIA", "secret_access_key": "shh"}}},
    }
    [record] = shape_records(BY_NAME["imports"], [raw], parent={"id": "9", "project_id": "1"})
    assert record["id"] == "77"
    assert record["cluster_id"] == "9"
    assert record["project_id"] == "1"
    assert record["metadata"]["create_timestamp"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert record["status"]["end_timestamp"] is None
    assert record["spec"]["source"]["aws_key_access"] == {"access_key_id": "AKIA"}
