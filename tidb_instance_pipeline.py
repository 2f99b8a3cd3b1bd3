"""Load the TiDB Cloud API into DuckDB, as the dltHub page promises: `python tidb_instance_pipeline.py`.

Credentials come from [sources.tidb_instance_source] in .dlt/secrets.toml (public_key, private_key) or
from SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY / SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY.
"""

import sys

import dlt

from fleetlake.sources.tidb_cloud import tidb_instance_source
from fleetlake.troubleshoot import explain


def get_data() -> None:
    """Run the pipeline under the seed page's names and print the load info."""
    pipeline = dlt.pipeline(
        pipeline_name="tidb_instance_pipeline",
        destination="duckdb",
        dataset_name="tidb_instance_data",
    )
    load_info = pipeline.run(tidb_instance_source())
    print(load_info)


if __name__ == "__main__":
    try:
        get_data()
    except Exception as error:
        message, code = explain(error)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(code)
