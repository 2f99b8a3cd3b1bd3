"""`uv run python -m benchmarks [--quick]`: fleetlake, the seed-style baseline and the raw limit, side by side.

Scenarios (TiDB Cloud, emulators in their own processes): quota pacing, request economy, concurrency under
latency, throughput and memory; plus how many requests per second the emulator alone serves. Prints a
table, a machine-readable line, and writes BENCHMARKS.md. `--quick` (CI) uses small sizes and asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests.auth import HTTPDigestAuth

from benchmarks.emulator import emulator_process, tidb_settings

ROOT = Path(__file__).parents[1]
CONCURRENCY = 8  # fleetlake's bounded pool for children (sources/endpoints.py)
INVENTORY = ["projects", "clusters", "backups", "restores", "imports", "provider_regions", "dedicated_clusters",
             "dedicated_regions", "dedicated_node_specs", "dedicated_imports", "dedicated_integrations",
             "serverless_clusters", "serverless_branches", "serverless_exports", "serverless_imports", "api_keys",
             "members"]  # fmt: skip


def measure(kind: str, **config: Any) -> dict[str, Any]:
    """Run one load in a fresh process and return its JSON result (rows, seconds, rss_mb, error)."""
    env = {**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_one", json.dumps({"kind": kind, **config})],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=3600,
    )
    line = next((out for out in done.stdout.splitlines() if out.startswith("RESULT ")), None)
    if line is None:
        return {"rows": 0, "seconds": time.perf_counter() - started, "rss_mb": 0, "error": done.stderr[-300:]}
    return dict(json.loads(line[7:]))


def server_log(url: str) -> dict[str, Any]:
    return dict(requests.get(url + "/_emulator/requests", timeout=30).json())


def digest_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.auth = HTTPDigestAuth("fleetlake-demo-public", "fleetlake-demo-private")
    return session


def since_for(rows: int) -> str:
    """A startTime giving about `rows` audit log entries of the large scale (1,000,000 over 180 days)."""
    seconds = 180 * 86400 * rows / 1_000_000
    start = datetime(2026, 11, 15, 12, tzinfo=UTC).timestamp() - seconds
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def throughput(rows: int, with_seed: bool) -> dict[str, Any]:
    with emulator_process("tidb", scale="large") as url:
        settings = tidb_settings(url, audit_logs_since=since_for(rows))
        seed_resource = {
            "name": "audit_logs",
            "endpoint": {
                "path": "auditLogs",
                "data_selector": "auditLogs",
                "params": {"startTime": settings["audit_logs_since"]},
                "paginator": {"type": "cursor", "cursor_path": "nextPageToken", "cursor_param": "pageToken"},
            },
        }
        ours = measure("fleetlake", settings=settings, resources=["audit_logs"])
        raw = measure("raw", settings=settings)
        seed = (
            measure("seed", settings=settings, resource="audit_logs", seed_resource=seed_resource)
            if with_seed
            else None
        )
    return {"ours": ours, "raw": raw, "seed": seed}


def memory(sizes: list[int]) -> dict[int, dict[str, Any]]:
    out = {}
    with emulator_process("tidb", scale="large") as url:
        for rows in sizes:
            out[rows] = measure(
                "fleetlake", settings=tidb_settings(url, audit_logs_since=since_for(rows)), resources=["audit_logs"]
            )
    return out


def quota(limit: int, window: float, page_size: int, compete: bool) -> dict[str, Any]:
    with emulator_process("tidb", rate_limit=limit, window=window) as url:
        stop = threading.Event()
        spent = [0]

        def competitor() -> None:  # another client spending the same key, politely
            session = digest_session()
            while not stop.is_set():
                answer = session.get(url + "/iam/v1beta1/members", timeout=30)
                spent[0] += 1
                if answer.status_code == 429:
                    stop.wait(float(answer.headers["X-Ratelimit-Reset"]))
                else:
                    stop.wait(window / limit * 2)  # half the quota

        thread = threading.Thread(target=competitor, daemon=True)
        if compete:
            thread.start()
        ours = measure(
            "fleetlake", settings=tidb_settings(url, page_size=page_size), resources=[*INVENTORY, "audit_logs"]
        )
        stop.set()
        log = server_log(url)
    ours_requests = [r for r in log["requests"] if r["path"] != "/iam/v1beta1/members" or not compete]
    made = len(ours_requests)
    throttled = sum(1 for r in ours_requests if r["status"] == 429)
    return {
        "ours": ours,
        "requests": made,
        "throttled": throttled,
        "bound_seconds": made / (limit / window),
        "competitor_requests": spent[0],
    }


def seed_under_quota(limit: int, window: float) -> dict[str, Any]:
    with emulator_process("tidb", scale="large", rate_limit=limit, window=window) as url:
        settings = tidb_settings(url, audit_logs_since=since_for(30_000))
        seed_resource = {
            "name": "audit_logs",
            "endpoint": {
                "path": "auditLogs",
                "data_selector": "auditLogs",
                "params": {"startTime": settings["audit_logs_since"]},
                "paginator": {"type": "cursor", "cursor_path": "nextPageToken", "cursor_param": "pageToken"},
            },
        }
        result = measure("seed", settings=settings, resource="audit_logs", seed_resource=seed_resource)
        log = server_log(url)
    result["throttled"] = log["byStatus"].get("429", 0)
    return result


def economy() -> dict[str, Any]:
    from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
    from fleetlake.sources.tidb_cloud.settings import OFF_BY_DEFAULT

    model = TiDBCloudEmulator(now=datetime(2026, 11, 15, 12, tzinfo=UTC), rate_limit=None)
    counts = model.expected_counts()
    data = model.data
    parents = {"clusters": counts["projects"], "restores": counts["projects"], "backups": len(data.dedicated_clusters),
               "imports": counts["clusters"], "dedicated_node_specs": counts["dedicated_regions"],
               "dedicated_imports": len(data.dedicated_clusters), "dedicated_integrations": len(data.dedicated_clusters),
               "serverless_branches": len(data.serverless_clusters), "serverless_exports": len(data.serverless_clusters),
               "serverless_imports": len(data.serverless_clusters),
               "dedicated_changefeeds": len(data.dedicated_clusters),
               "dedicated_private_endpoint_connections": counts["projects"]}  # fmt: skip
    per_page = 100
    bound = 0
    for table, count in counts.items():
        if table in OFF_BY_DEFAULT:
            continue  # not part of a default run
        if table in ("bills", "bill_details"):
            bound += counts["bills"]  # one request per month, the API has no range query
        elif table == "cost_explorer":
            bound += 1
        else:
            bound += max(parents.get(table, 1), math.ceil(count / per_page))
    bound += 1  # one digest handshake for the run
    # a re-run: the inventory again, one audit log request, and the last two bill months (still open)
    incremental_bound = bound - math.ceil(counts["audit_logs"] / per_page) + 1 - 2 * (counts["bills"] - 2)
    with emulator_process("tidb") as url, tempfile.TemporaryDirectory() as workdir:
        settings = tidb_settings(url)
        first = measure("fleetlake", settings=settings, workdir=workdir)
        full = server_log(url)["total"]
        second = measure("fleetlake", settings=settings, workdir=workdir)
        rerun = server_log(url)["total"] - full
    return {
        "bound": bound,
        "made": full,
        "incremental_bound": incremental_bound,
        "incremental_made": rerun,
        "first": first,
        "second": second,
    }


def latency(seconds: float, scale: str) -> dict[str, Any]:
    """The inventory sync with and without `seconds` of latency on every answer."""
    out = {}
    for delay in (0.0, seconds):
        with emulator_process("tidb", f"latency_seconds={delay}", scale=scale) as url:
            result = measure("fleetlake", settings=tidb_settings(url), resources=INVENTORY)
            result["requests"] = server_log(url)["total"]
        out[delay] = result
    return out


def emulator_rps(count: int) -> float:
    with emulator_process("tidb") as url:
        session = digest_session()
        session.get(url + "/iam/v1beta1/members", timeout=30)
        started = time.perf_counter()
        for _ in range(count):
            session.get(url + "/iam/v1beta1/members", timeout=30)
        return count / (time.perf_counter() - started)


def accounts(counts: list[int], limit: int, window: float) -> dict[int, dict[str, Any]]:
    """`fleetlake run tidb` over N accounts of N organizations (each its own quota) on one emulator, for each
    N in `counts`: the wall time beside one account's quota bound (its requests at the quota's rate)."""
    results: dict[int, dict[str, Any]] = {}
    for count in counts:
        with emulator_process("tidb", rate_limit=limit, window=window, organizations=count) as url:
            env = {**os.environ, "RUNTIME__LOG_LEVEL": "ERROR", "SOURCES__TIDB_INSTANCE_SOURCE__ACCOUNTS": ""}
            names = [f"org{n}" for n in range(count)]
            env["SOURCES__TIDB_INSTANCE_SOURCE__ACCOUNTS"] = ",".join(names)
            for n, name in enumerate(names):
                # pages of 2: hundreds of requests per account, so that its quota, not the machine, sets the pace
                for key, value in tidb_settings(url, n, page_size=2).items():
                    env[f"SOURCES__TIDB_INSTANCE_SOURCE__{name.upper()}__{key.upper()}"] = str(value)
            with tempfile.TemporaryDirectory() as folder:
                command = [sys.executable, "-m", "fleetlake", "run", "tidb", "--resources", ",".join([*INVENTORY, "audit_logs"]),
                           "--pipelines-dir", str(Path(folder) / "pipelines"), "--no-progress"]  # fmt: skip
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder, timeout=3600)
                seconds = time.perf_counter() - started
            # each organization's own log (the server routes by the key presented): the organizations'
            # data differ in size, so the slowest one's requests set the bound of the accounts side by side
            logs = [
                requests.get(
                    url + "/_emulator/requests",
                    headers={"Authorization": f'Digest username="{tidb_settings(url, n)["public_key"]}"'},
                    timeout=30,
                ).json()
                for n in range(count)
            ]
        made = [len(log["requests"]) for log in logs]
        results[count] = {
            "seconds": seconds,
            "exit": done.returncode,
            "requests": made,
            "bound_seconds": max(made) / (limit / window),
            "throttled": sum(1 for log in logs for r in log["requests"] if r["status"] == 429),
        }
    return results


MODEL_RESOURCES = [
    "projects",
    "clusters",
    "dedicated_clusters",
    "serverless_clusters",
    "bills",
    "bill_details",
    "audit_logs",
]


def model_build(scale: str, audit_rows: int) -> dict[str, Any]:
    """`fleetlake run tidb` of the model's inputs at `scale` (audit logs from `since_for(audit_rows)`), then
    `fleetlake model` on that file, then `fleetlake report`: the three walls, and the rows the model wrote."""
    with emulator_process("tidb", scale=scale) as url, tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"}
        for key, value in tidb_settings(url, audit_logs_since=since_for(audit_rows)).items():
            env[f"SOURCES__TIDB_INSTANCE_SOURCE__{key.upper()}"] = str(value)
        pipelines_dir = str(Path(folder) / "pipelines")
        load = [sys.executable, "-m", "fleetlake", "run", "tidb", "--resources", ",".join(MODEL_RESOURCES),
                "--pipelines-dir", pipelines_dir, "--no-progress"]  # fmt: skip
        started = time.perf_counter()
        loaded = subprocess.run(load, capture_output=True, text=True, env=env, cwd=folder, timeout=3600)
        load_seconds = time.perf_counter() - started
        build = [sys.executable, "-m", "fleetlake", "model", "--file", "tidb_instance_pipeline.duckdb",
                 "--pipelines-dir", pipelines_dir]  # fmt: skip
        started = time.perf_counter()
        built = subprocess.run(build, capture_output=True, text=True, env=env, cwd=folder, timeout=3600)
        model_seconds = time.perf_counter() - started
        # the report rebuilds the model and writes its page and PNGs: its wall beside the model's alone
        report = [sys.executable, "-m", "fleetlake", "report", "--file", "tidb_instance_pipeline.duckdb",
                  "--pipelines-dir", pipelines_dir, "--out", "report"]  # fmt: skip
        started = time.perf_counter()
        reported = subprocess.run(report, capture_output=True, text=True, env=env, cwd=folder, timeout=3600)
        report_seconds = time.perf_counter() - started
    rows = {}
    for line in built.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            rows[parts[0]] = int(parts[1])
    exits = (loaded.returncode, built.returncode, reported.returncode)
    return {"load": load_seconds, "model": model_seconds, "report": report_seconds, "exits": exits, "rows": rows}


def startup(repeats: int) -> dict[str, float]:
    """Best-of-`repeats` wall seconds of the CLI's quick answers beside a bare interpreter and `import dlt`,
    taken in turns so that a noisy moment hits all of them alike."""
    fleetlake = [sys.executable, "-m", "fleetlake"]
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "import dlt": [sys.executable, "-c", "import dlt"],
        "--help": [*fleetlake, "--help"],
        "resources tidb": [*fleetlake, "resources", "tidb"],
    }
    best = dict.fromkeys(commands, math.inf)
    for _ in range(repeats):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes (CI)")
    args = parser.parse_args()
    quick = args.quick
    rows = 20_000 if quick else 200_000
    sizes = [20_000, 100_000] if quick else [100_000, 1_000_000]
    window = 1.0 if quick else 6.0  # the vendor's minute, time-compressed

    print(f"fleetlake benchmarks ({'quick' if quick else 'full'}), {platform.machine()}, {os.cpu_count()} cores")
    rps = emulator_rps(300 if quick else 2000)
    tp = throughput(rows, with_seed=True)
    mem = memory(sizes)
    q = quota(100, window, 2, compete=False)
    qc = quota(100, window, 2, compete=True)
    seed_q = seed_under_quota(100, 60.0) if not quick else None
    eco = economy()
    # a fleet of some 250 clusters: at demo size (64 requests) the sync's fixed 2.4 s hides the latency
    latency_scale = "demo" if quick else "medium"
    lat = latency(0.1, latency_scale)
    boot = startup(3 if quick else 10)
    # the vendor's own minute in the full run: with a window compressed to a second, 361 requests are due in
    # 3.6 s and the four accounts' parsing and loading on two cores, not their quotas, set the pace
    accounts_window = window if quick else 60.0
    fleet = accounts([1, 4], 100, accounts_window)
    model_scale = "demo" if quick else "large"
    built = model_build(model_scale, 2_000 if quick else 100_000)

    ours_rps = tp["ours"]["rows"] / tp["ours"]["seconds"]
    raw_rps = tp["raw"]["rows"] / tp["raw"]["seconds"]
    seed_rps = tp["seed"]["rows"] / tp["seed"]["seconds"] if tp["seed"] and tp["seed"]["rows"] else float("nan")
    quota_ratio = q["ours"]["seconds"] / q["bound_seconds"]
    lat_slow, lat_fast = lat[0.1], lat[0.0]
    latency_bound = lat_slow["requests"] * 0.1 / CONCURRENCY
    latency_ratio = lat_slow["seconds"] / latency_bound
    added_ratio = (lat_slow["seconds"] - lat_fast["seconds"]) / latency_bound
    peak = max(m["rss_mb"] for m in mem.values())

    table = [
        ("emulator alone", f"{rps:.0f} requests/s (keep-alive, one client)", ""),
        (
            f"throughput, {tp['ours']['rows']:,} audit log rows",
            f"fleetlake {ours_rps:,.0f} rows/s ({tp['ours']['seconds']:.1f} s)",
            f"seed-style {seed_rps:,.0f} rows/s ({tp['seed']['seconds']:.1f} s{', ' + tp['seed']['error'] if tp['seed'].get('error') else ''}); "
            f"raw limit {raw_rps:,.0f} rows/s ({tp['raw']['seconds']:.1f} s)",
        ),
        ("rows/s vs seed (target >= 10)", f"{ours_rps / seed_rps:.1f}x", ""),
        ("rows/s vs raw (target >= 0.8)", f"{ours_rps / raw_rps:.2f}", ""),
        *[
            (
                f"peak RSS at {n:,} rows (target <= 300 MB)",
                f"{m['rss_mb']:.0f} MB",
                f"{m['rows']:,} rows in {m['seconds']:.1f} s",
            )
            for n, m in mem.items()
        ],
        (
            f"quota {100}/{window:g}s, {q['requests']} requests",
            f"wall {q['ours']['seconds']:.1f} s = {quota_ratio:.2f} x requests/quota (target <= 1.05)",
            f"429s met: {q['throttled']}",
        ),
        (
            "quota with a competing client",
            f"completed: {not qc['ours'].get('error')}, {qc['ours']['seconds']:.1f} s",
            f"429s met: {qc['throttled']}, competitor sent {qc['competitor_requests']}",
        ),
        *(
            [
                (
                    "seed-style under a real 100/60s quota",
                    f"rows {seed_q['rows']}, {seed_q['seconds']:.1f} s",
                    f"429s met {seed_q['throttled']}; {seed_q.get('error', 'completed')}",
                )
            ]
            if seed_q
            else []
        ),
        (
            "CLI answers: `fleetlake --help`, `resources tidb`",
            f"{boot['--help']:.2f} s, {boot['resources tidb']:.2f} s",
            f"bare python {boot['python']:.2f} s, `import dlt` {boot['import dlt']:.2f} s; --help costs "
            f"{boot['--help'] / boot['import dlt']:.2f} x importing dlt",
        ),
        (
            f"accounts: 4 organizations, each its own 100/{accounts_window:g}s quota"
            + (" (compressed: the machine sets the pace)" if quick else ""),
            f"wall {fleet[4]['seconds']:.1f} s = {fleet[4]['seconds'] / fleet[4]['bound_seconds']:.2f} x the largest "
            f"account's quota bound (goal <= 1.1)",
            f"one account {fleet[1]['seconds']:.1f} s (bound {fleet[1]['bound_seconds']:.1f} s), so 4 take "
            f"{fleet[4]['seconds'] / fleet[1]['seconds']:.2f} x one; 429s met {fleet[4]['throttled']}; exits "
            f"{fleet[1]['exit']}, {fleet[4]['exit']}; requests per account {fleet[4]['requests']}; side by side",
        ),
        (
            f"fleet model ({model_scale} scale)",
            f"`fleetlake model` {built['model']:.1f} s = {built['model'] / built['load']:.2f} x the load it models",
            f"load {built['load']:.1f} s; rows {built['rows']}; exits {built['exits']}",
        ),
        (
            f"report ({model_scale} scale)",
            f"`fleetlake report` {built['report']:.1f} s = {built['report'] / built['model']:.2f} x `fleetlake model`"
            " (it rebuilds the model, then writes the page and a PNG per chart)",
            "",
        ),
        ("requests, full sync (demo)", f"{eco['made']} made vs lower bound {eco['bound']}", ""),
        (
            "requests, re-run with nothing new",
            f"{eco['incremental_made']} made vs bound {eco['incremental_bound']}",
            "",
        ),
        (
            f"latency 100 ms, inventory sync ({latency_scale} scale)",
            f"{lat_slow['seconds']:.1f} s for {lat_slow['requests']} requests; bound "
            f"{latency_bound:.2f} s at concurrency {CONCURRENCY}",
            f"ratio {latency_ratio:.2f}; latency added {added_ratio:.2f} x bound "
            f"(same sync without latency: {lat_fast['seconds']:.1f} s)",
        ),
    ]
    width = max(len(row[0]) for row in table)
    for name, main_figure, note in table:
        print(f"{name.ljust(width)}  {main_figure}  {note}")
    line = (
        f"quota_wall_ratio={quota_ratio:.3f} quota_429s={q['throttled']} requests_over_bound={eco['made'] - eco['bound']} "
        f"latency_wall_ratio={latency_ratio:.3f} rows_per_s_vs_seed={ours_rps / seed_rps:.2f} "
        f"rows_per_s_vs_raw={ours_rps / raw_rps:.3f} peak_rss_mb={peak:.0f} "
        f"help_vs_import_dlt={boot['--help'] / boot['import dlt']:.3f} "
        f"accounts4_wall_over_largest_bound={fleet[4]['seconds'] / fleet[4]['bound_seconds']:.3f} "
        f"accounts4_wall_over_one_wall={fleet[4]['seconds'] / fleet[1]['seconds']:.3f} "
        f"model_over_load={built['model'] / built['load']:.3f} "
        f"report_over_model={built['report'] / built['model']:.3f}"
    )
    print(line)
    if not quick:
        command = "uv run python -m benchmarks"
        body = "\n".join(f"| {n} | {m} | {x} |" for n, m, x in table)
        (ROOT / "BENCHMARKS.md").write_text(
            f"# Benchmarks\n\nMeasured {datetime.now(UTC):%Y-%m-%d} with `{command}` on {platform.platform()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; emulators in their own processes on loopback.\n\n"
            f"| scenario | fleetlake | baseline / notes |\n|---|---|---|\n{body}\n\n```\n{line}\n```\n"
        )


if __name__ == "__main__":
    main()
