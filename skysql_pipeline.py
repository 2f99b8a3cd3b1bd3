"""Load the SkySQL API into DuckDB, as the dltHub page promises: `python skysql_pipeline.py`.

The key comes from [sources.skysql_source] in .dlt/secrets.toml (api_key) or from
SOURCES__SKYSQL_SOURCE__API_KEY.
"""

import sys

import dlt

from fleetlake.sources.skysql import skysql_source
from fleetlake.troubleshoot import explain


def get_data() -> None:
    """Run the pipeline under the seed page's names and print the load info."""
    pipeline = dlt.pipeline(pipeline_name="skysql_pipeline", destination="duckdb", dataset_name="skysql_data")
    load_info = pipeline.run(skysql_source())
    print(load_info)


if __name__ == "__main__":
    try:
        get_data()
    except Exception as error:
        message, code = explain(error)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(code)
