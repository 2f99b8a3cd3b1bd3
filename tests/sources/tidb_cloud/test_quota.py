"""Rate limits: a quota-bound sync completes with every row; a 429 storm loses and duplicates nothing."""

import threading

import requests
from requests.auth import HTTPDigestAuth

from fleetlake.emulators.faults import parse_fault
from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY
from tests.conftest import query
from tests.sources.tidb_cloud.conftest import run_tidb, settings
from tests.sources.tidb_cloud.test_full_load import EXPECTED

TABLES = [
    "projects",
    "clusters",
    "backups",
    "dedicated_regions",
    "dedicated_node_specs",
    "audit_logs",
    "members",
]


def _assert_complete(report):
    assert {table: report.row_counts[table] for table in TABLES} == {table: EXPECTED[table] for table in TABLES}
    for table, key in [
        ("backups", "id"),
        ("audit_logs", "id"),
        ("dedicated_node_specs", "region_id, component_type, node_spec_key"),
    ]:
        assert query(report, f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}")[0][0] == 0


def test_a_sync_of_hundreds_of_requests_completes_under_a_compressed_quota(tidb, tmp_path):
    # the vendor's 100 per minute, compressed to 100 per 0.4 s; dlt's default retry would give up
    emulator, server = tidb(rate_limit=100, rate_window_seconds=0.4)
    report = run_tidb(tmp_path, settings(emulator, server, page_size=2), TABLES)
    _assert_complete(report)
    assert emulator.requests.count(status=200) > 300


class Competitor(threading.Thread):
    """Another client spending the same key's quota as fast as the server lets it."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url + "/iam/v1beta1/members"
        self.stop = threading.Event()
        self.spent_window = threading.Event()

    def run(self):
        with requests.Session() as session:
            session.auth = HTTPDigestAuth(DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY)
            while not self.stop.is_set():
                response = session.get(self.url, timeout=10)
                if response.status_code == 429:
                    self.spent_window.set()
                    # wait for the window like a polite client, then spend it again
                    self.stop.wait(float(response.headers["X-Ratelimit-Reset"]))


def test_a_429_storm_from_a_competing_client_loses_and_duplicates_nothing(tidb, tmp_path):
    # the competitor keeps the window spent; on a busy machine it may lose every race for the quota, so a
    # short storm of the vendor's 429 on our own paths makes sure our client meets them whatever the timing
    storm = parse_fault("429@/api/*,after=2,times=3,seconds=0.2")
    emulator, server = tidb(rate_limit=30, rate_window_seconds=0.3, faults=[storm])
    competitor = Competitor(server.url)
    competitor.start()
    try:
        assert competitor.spent_window.wait(10)
        report = run_tidb(tmp_path, settings(emulator, server, page_size=10), TABLES)
    finally:
        competitor.stop.set()
        competitor.join(10)
    _assert_complete(report)
    ours = [r for r in emulator.requests.filter(status=429) if r.path != "/iam/v1beta1/members"]
    assert len(ours) >= 3
