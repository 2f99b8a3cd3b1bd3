#!/usr/bin/env bash
# What cron runs: every configured API into fleetlake.duckdb in FLEETLAKE_HOME, with the keys of
# FLEETLAKE_HOME/.dlt/secrets.toml (or an environment file). fleetlake itself queues a run behind one
# still going, so a slow hour never overlaps the next; the log keeps each run's table and paragraphs.
#
#   17 * * * * FLEETLAKE_HOME=/srv/fleetlake /srv/fleetlake/deploy/cron/fleetlake-run.sh
set -euo pipefail
cd "${FLEETLAKE_HOME:?set FLEETLAKE_HOME to the folder holding .dlt/ and fleetlake.duckdb}"
if [ -f fleetlake.env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./fleetlake.env
  set +a
fi
{
  echo "fleetlake run at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  code=0
  uv run --project "${FLEETLAKE_PROJECT:-$(dirname "$0")/../..}" fleetlake run --no-progress || code=$?
  echo "exit ${code}"
} >> fleetlake.log 2>&1
exit "${code}"
