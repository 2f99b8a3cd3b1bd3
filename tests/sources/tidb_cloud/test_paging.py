"""Both paging styles, page by page: exact requests, no empty page, no request made twice."""

from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from tests.conftest import query
from tests.sources.tidb_cloud.conftest import run_tidb, settings


def _answered(emulator, path):
    return emulator.requests.filter(path=path, status=200)


def test_token_paging_follows_next_page_token_until_it_is_empty(tidb, tmp_path):
    emulator, server = tidb()
    report = run_tidb(tmp_path, settings(emulator, server, page_size=3), ["dedicated_clusters"])
    assert report.row_counts["dedicated_clusters"] == 7
    requests = _answered(emulator, "/dedicated/v1beta1/clusters")
    # 7 clusters at 3 per page: 3 requests; the first has no token, each next one the token just given
    assert len(requests) == 3
    assert [r.query.get("pageSize") for r in requests] == [["3"], ["3"], ["3"]]
    assert "pageToken" not in requests[0].query
    tokens = [r.query["pageToken"][0] for r in requests[1:]]
    assert len(set(tokens)) == 2
    assert all(tokens)


def test_page_number_paging_stops_at_the_total_without_an_empty_page(tidb, tmp_path):
    emulator, server = tidb()
    report = run_tidb(tmp_path, settings(emulator, server, page_size=2), ["projects"])
    assert report.row_counts["projects"] == 3
    requests = _answered(emulator, "/api/v1beta/projects")
    assert [(r.query["page"], r.query["page_size"]) for r in requests] == [(["1"], ["2"]), (["2"], ["2"])]


def test_full_sync_never_repeats_a_request(tidb, tmp_path):
    emulator, server = tidb()
    run_tidb(tmp_path, settings(emulator, server))
    answered = [
        (r.method, r.path, tuple(sorted((k, tuple(v)) for k, v in r.query.items())))
        for r in emulator.requests.filter(status=200)
    ]
    assert len(answered) == len(set(answered))
    # every list fits one page of 100, so the sync costs one request per list and per parent;
    # plus one digest challenge for the whole run: its threads share the server's nonce; 97 stays within
    # one minute of the vendor's 100-request quota (the lists off by default would take it to 133)
    assert len(answered) == 97
    assert emulator.requests.count(status=401, authorized=False) == 1
    assert emulator.requests.count(status=401, authorized=True) == 0


class VanishedCluster:
    """Answers 404 for one cluster's backups, as if it was deleted after the cluster list was read."""

    def __init__(self, app, cluster_id):
        self.app = app
        self.suffix = f"/clusters/{cluster_id}/backups"

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith(self.suffix):
            body = {"code": 49900004, "message": "cluster not found", "details": []}
            await JSONResponse(body, status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_a_child_whose_parent_vanished_is_skipped_with_a_warning(tidb, tmp_path, caplog):
    from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
    from tests.sources.tidb_cloud.conftest import NOW

    probe = TiDBCloudEmulator(now=NOW)
    gone = probe.data.cluster(probe.data.dedicated_clusters[0])
    emulator, server = tidb(hooks=[Middleware(VanishedCluster, cluster_id=gone.id)])
    with caplog.at_level("WARNING", logger="fleetlake"):
        report = run_tidb(tmp_path, settings(emulator, server), ["clusters", "backups"])
    remaining = 76 - probe.data.backup_count(probe.data.dedicated_clusters[0], probe.clock.timestamp())
    assert report.row_counts["backups"] == remaining
    assert query(report, f"SELECT count(*) FROM backups WHERE cluster_id = '{gone.id}'")[0][0] == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name.startswith("fleetlake")]
    assert len(warnings) == 1
    assert f"/clusters/{gone.id}/backups) answered 404 (cluster not found); skipped" in warnings[0]
