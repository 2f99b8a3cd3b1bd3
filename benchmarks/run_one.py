"""One measured load in a fresh process: `python -m benchmarks.run_one '<json>'` prints a JSON result.

Kinds: `fleetlake` (our pipeline), `seed` (the dltHub page's rest_api configuration with only the auth
changed so it can log in), `raw` (a plain keep-alive HTTP client writing JSON lines that DuckDB's own
reader loads: no dlt).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dlt
import duckdb
import orjson
import requests
from dlt.sources.rest_api import rest_api_resources
from requests.auth import HTTPDigestAuth

from fleetlake import pipelines
from fleetlake.http import DigestAuth
from fleetlake.imports import keep_pandas_out
from fleetlake.sources import get_api


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fleetlake(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """`pipelines.run` in a process set up as `fleetlake run` sets up its own for DuckDB."""
    report = pipelines.run(
        get_api("tidb"),
        source_kwargs=config["settings"],
        resources=config.get("resources"),
        pipelines_dir=workdir / "pipelines",
        duckdb_path=workdir / "bench.duckdb",
    )
    rows = sum(report.row_counts.get(name, 0) for name in config.get("resources") or report.row_counts)
    return {"rows": rows, "loaded": report.loaded_rows}


def seed(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The seed page's configuration: rest_api, its default retries, dicts and INSERT loading."""
    settings = config["settings"]

    @dlt.source
    def tidb_instance_source() -> Any:
        yield from rest_api_resources(
            {
                "client": {
                    "base_url": settings["iam_base_url"]
                    if config["resource"] == "audit_logs"
                    else settings["base_url"],
                    # the one change to the seed's config: digest auth instead of its api_key header
                    "auth": DigestAuth(public_key=settings["public_key"], private_key=settings["private_key"]),
                },
                "resources": [config["seed_resource"]],
            }
        )

    pipeline = dlt.pipeline(
        "seed_style",
        destination=dlt.destinations.duckdb(str(workdir / "seed.duckdb")),
        dataset_name="tidb_instance_data",
        pipelines_dir=str(workdir / "pipelines"),
    )
    try:
        pipeline.run(tidb_instance_source())
    except Exception as error:  # the baseline is allowed to fail: that is what it measures
        return {
            "rows": _count(workdir / "seed.duckdb"),
            "error": f"{type(error).__name__}: {str(error).splitlines()[0][:160]}",
        }
    return {"rows": _count(workdir / "seed.duckdb")}


def _count(database: Path) -> int:
    if not database.exists():
        return 0
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.sql(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name NOT LIKE '\\_dlt%' ESCAPE '\\'"
            " AND table_schema NOT LIKE '%staging'"
        ).fetchall()
        return sum(connection.sql(f'SELECT count(*) FROM "{s}"."{t}"').fetchall()[0][0] for s, t in tables)


def raw(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The limit: the same pages with a plain keep-alive client, loaded by DuckDB's JSON reader."""
    settings = config["settings"]
    session = requests.Session()
    session.trust_env = False
    session.auth = HTTPDigestAuth(settings["public_key"], settings["private_key"])
    url = settings["iam_base_url"] + "/auditLogs"
    params: dict[str, Any] = {"pageSize": 100, "startTime": settings["audit_logs_since"]}
    lines = workdir / "audit.jsonl"
    with lines.open("wb") as out:
        while True:
            body = orjson.loads(session.get(url, params=params, timeout=60).content)
            for record in body["auditLogs"]:
                out.write(orjson.dumps(record) + b"\n")
            if not body.get("nextPageToken"):
                break
            params["pageToken"] = body["nextPageToken"]
    with duckdb.connect(str(workdir / "raw.duckdb")) as connection:
        connection.execute(f"CREATE TABLE audit_logs AS SELECT * FROM read_json_auto('{lines}')")
        rows = connection.sql("SELECT count(*) FROM audit_logs").fetchall()[0][0]
    return {"rows": rows}


def main() -> None:
    config = json.loads(sys.argv[1])
    kind = config["kind"]
    if kind == "fleetlake":
        keep_pandas_out()  # as `fleetlake run` does when it loads DuckDB (fleetlake/imports.py)
    # imports are done above: the clock measures the load, not the interpreter starting
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(config["workdir"]) if config.get("workdir") else Path(tmp)
        started = time.perf_counter()
        result = {"fleetlake": fleetlake, "seed": seed, "raw": raw}[kind](config, workdir)
        result["seconds"] = time.perf_counter() - started
    result["rss_mb"] = _rss_mb()
    print("RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
