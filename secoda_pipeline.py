"""Load the Secoda API into DuckDB, as the dltHub page promises: `python secoda_pipeline.py`.

Credentials come from [sources.secoda_source] in .dlt/secrets.toml (api_key) or
SOURCES__SECODA_SOURCE__API_KEY. It runs the same pipeline as `fleetlake run secoda` (pipeline
`secoda_pipeline`, DuckDB file `secoda_pipeline.duckdb`).
A resource that fails alone is reported and the others load (exit 7); see the README's troubleshooting.
"""

from fleetlake.cli import seed_script


def get_data() -> None:
    """Run the pipeline under the dltHub page's names and print the load info."""
    seed_script("secoda")


if __name__ == "__main__":
    get_data()
