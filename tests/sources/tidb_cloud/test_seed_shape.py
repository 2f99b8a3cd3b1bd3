"""A server answering in the shapes of the seed's third-party OpenAPI file loads too."""

from tests.conftest import query
from tests.sources.tidb_cloud.conftest import run_tidb, settings

RESOURCES = ["dedicated_clusters", "dedicated_integrations", "audit_logs", "bill_details", "cost_explorer"]


def test_seed_shaped_answers_load_every_row(tidb, tmp_path):
    emulator, server = tidb(shape="seed")
    report = run_tidb(tmp_path, settings(emulator, server), RESOURCES)
    expected = emulator.expected_counts()
    counts = {name: report.row_counts[name] for name in RESOURCES}
    # `integrations` for `items`, `billsDetails` for `details`, `trends` for `elements`, `timestamp` for `endTime`
    assert counts == {
        "dedicated_clusters": 7,
        "dedicated_integrations": 8,
        "audit_logs": 400,
        "bill_details": 9158,
        "cost_explorer": expected["cost_explorer"],
    }
    assert expected["cost_explorer"] == 199
    # audit records in that shape carry no id: a stable one is derived, so re-runs merge
    assert query(report, "SELECT count(DISTINCT id), count(end_time) FROM audit_logs")[0] == (400, 400)
    again = run_tidb(tmp_path, settings(emulator, server), ["audit_logs"])
    assert again.row_counts["audit_logs"] == 400
