"""Load the TiDB Cloud API into DuckDB, as the dltHub page promises: `python tidb_instance_pipeline.py`.

Credentials come from [sources.tidb_instance_source] in .dlt/secrets.toml (public_key, private_key) or
SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY / ..._PRIVATE_KEY. It runs the same pipeline as `fleetlake run tidb`
(pipeline `tidb_instance_pipeline`, DuckDB file `tidb_instance_pipeline.duckdb`).
"""

import sys

from fleetlake.pipelines import run
from fleetlake.sources import get_api
from fleetlake.troubleshoot import explain


def get_data() -> None:
    """Run the pipeline under the dltHub page's names and print the load info."""
    report = run(get_api("tidb"))
    print(report.load_info)


if __name__ == "__main__":
    try:
        get_data()
    except Exception as error:
        message, code = explain(error, get_api("tidb"))
        print(f"error: {message}", file=sys.stderr)
        sys.exit(code)
