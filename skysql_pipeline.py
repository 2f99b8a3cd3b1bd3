"""Load the SkySQL API into DuckDB, as the dltHub page promises: `python skysql_pipeline.py`.

Credentials come from [sources.skysql_source] in .dlt/secrets.toml (api_key) or
SOURCES__SKYSQL_SOURCE__API_KEY. It runs the same pipeline as `fleetlake run skysql` (pipeline
`skysql_pipeline`, DuckDB file `skysql_pipeline.duckdb`).
"""

import sys

from fleetlake.pipelines import run
from fleetlake.sources import get_api
from fleetlake.troubleshoot import explain


def get_data() -> None:
    """Run the pipeline under the dltHub page's names and print the load info."""
    report = run(get_api("skysql"))
    print(report.load_info)


if __name__ == "__main__":
    try:
        get_data()
    except Exception as error:
        message, code = explain(error, get_api("skysql"))
        print(f"error: {message}", file=sys.stderr)
        sys.exit(code)
