"""Load the TiDB Cloud API into DuckDB, as the dltHub page promises: `python tidb_instance_pipeline.py`.

Credentials come from [sources.tidb_instance_source] in .dlt/secrets.toml (public_key, private_key) or
SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY / ..._PRIVATE_KEY. It runs the same pipeline as `fleetlake run tidb`
(pipeline `tidb_instance_pipeline`, DuckDB file `tidb_instance_pipeline.duckdb`).
A resource that fails alone is reported and the others load (exit 7); see the README's troubleshooting.
"""

from fleetlake.cli import seed_script


def get_data() -> None:
    """Run the pipeline under the dltHub page's names and print the load info."""
    seed_script("tidb")


if __name__ == "__main__":
    get_data()
