"""Load the Secoda API into DuckDB, as the dltHub page promises: `python secoda_pipeline.py`.

Credentials come from [sources.secoda_source] in .dlt/secrets.toml (api_key) or
SOURCES__SECODA_SOURCE__API_KEY. It runs the same pipeline as `fleetlake run secoda` (pipeline
`secoda_pipeline`, DuckDB file `secoda_pipeline.duckdb`).
"""

import sys

from fleetlake.pipelines import run
from fleetlake.sources import get_api
from fleetlake.troubleshoot import explain


def get_data() -> None:
    """Run the pipeline under the dltHub page's names and print the load info."""
    report = run(get_api("secoda"))
    print(report.load_info)


if __name__ == "__main__":
    try:
        get_data()
    except Exception as error:
        message, code = explain(error, get_api("secoda"))
        print(f"error: {message}", file=sys.stderr)
        sys.exit(code)
