"""Values typed tolerantly: every form a vendor documents reads, and a value no form fits is kept as text."""

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fleetlake.outcomes import RunOutcomes
from fleetlake.sources.endpoints import Endpoint, shape_records
from fleetlake.sources.tidb_cloud.helpers import amounts_to_decimal
from fleetlake.sources.values import Typer, UntypableValueError, column_name, to_amount, to_date, to_timestamp

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-04T05:06:07Z",
        "2026-03-04T05:06:07z",
        "2026-03-04T05:06:07+00:00",
        "2026-03-04T07:06:07+02:00",
        "2026-03-04 05:06:07",
        "2026-03-04T05:06:07",
        1772600767,
        1772600767.0,
        "1772600767",
        " 1772600767 ",
        1772600767000,
        "1772600767000",
        MOMENT,
        MOMENT.replace(tzinfo=None),
    ],
)
def test_every_documented_form_of_a_time_reads_as_the_same_utc_moment(value):
    assert to_timestamp(value) == MOMENT


def test_fractions_dates_alone_and_the_empty_forms():
    assert to_timestamp("2026-03-04T05:06:07.123456Z") == MOMENT.replace(microsecond=123456)
    assert to_timestamp("2026-03-04T05:06:07.5+00:00") == MOMENT.replace(microsecond=500000)
    assert to_timestamp("2026-03-04") == datetime(2026, 3, 4, tzinfo=UTC)
    assert to_timestamp(date(2026, 3, 4)) == datetime(2026, 3, 4, tzinfo=UTC)
    for empty in (None, "", "0", 0, "0001-01-01T00:00:00Z"):
        assert to_timestamp(empty) is None


@pytest.mark.parametrize("value", ["yesterday", "31/02/2026 25:61", "2026-13-45", True, "1e400", 10**30])
def test_a_value_no_time_form_fits_raises_untypable(value):
    with pytest.raises(UntypableValueError):
        to_timestamp(value)


def test_dates_and_amounts():
    assert to_date("2026-06-30") == date(2026, 6, 30)
    assert to_date("2026-06-30T23:00:00Z") == date(2026, 6, 30)
    assert to_date(1782777600) == date(2026, 6, 30)
    assert to_date("") is None
    assert to_amount("12.34") == Decimal("12.34")
    assert to_amount("1,234.50") == Decimal("1234.50")
    assert to_amount(7) == Decimal("7")
    assert to_amount(0.5) == Decimal("0.5")
    assert to_amount("") is None
    for bad in ("twelve", "NaN", "inf", True):
        with pytest.raises(UntypableValueError):
            to_amount(bad)


def test_column_names_follow_dlts_naming():
    assert column_name("createTime") == "create_time"
    assert column_name("pausePlan.scheduledResumeTime") == "pause_plan__scheduled_resume_time"


def test_a_value_no_form_fits_moves_to_its_variant_column_with_one_warning(caplog):
    outcomes = RunOutcomes()
    endpoint = Endpoint(
        "restores", "base_url", "x", ("items",), "page", ("id",), "d", timestamps=("create_timestamp", "plan.at")
    )
    records = [
        {"id": 1, "create_timestamp": "1656991448", "plan": {"at": "soon"}},
        {"id": "2", "create_timestamp": "not a time", "plan": {"at": "2026-01-01"}},
        {"id": "3", "create_timestamp": "never either"},
    ]
    with caplog.at_level(logging.WARNING, logger="fleetlake.sources"):
        shaped = shape_records(endpoint, records, api="TiDB Cloud", outcomes=outcomes)
    assert shaped[0] == {
        "id": "1",
        "create_timestamp": datetime(2022, 7, 5, 3, 24, 8, tzinfo=UTC),
        "plan": {"at__v_text": "soon"},
    }
    assert shaped[1] == {
        "id": "2",
        "create_timestamp__v_text": "not a time",
        "plan": {"at": datetime(2026, 1, 1, tzinfo=UTC)},
    }
    assert shaped[2] == {"id": "3", "create_timestamp__v_text": "never either"}
    assert outcomes.untyped_values("restores") == {"create_timestamp": 2, "plan__at": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("TiDB Cloud restores: a value of plan__at fits no form fleetlake reads ('soon'")
    assert "kept as text in plan__at__v_text" in warnings[0]


def test_amounts_no_number_fits_are_kept_as_text_at_any_depth():
    outcomes = RunOutcomes()
    typer = Typer("TiDB Cloud", "bills", outcomes)
    bill = {"overview": {"totalCost": "n/a", "credits": "1.50"}, "summaryByService": [{"credits": "2"}]}
    assert amounts_to_decimal(bill, typer) == {
        "overview": {"totalCost__v_text": "n/a", "credits": Decimal("1.50")},
        "summaryByService": [{"credits": Decimal("2")}],
    }
    assert outcomes.untyped_values("bills") == {"overview__total_cost": 1}
