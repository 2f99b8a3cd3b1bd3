#!/usr/bin/env bash
# The suite with the machine's wall clock moved (Debian's faketime), for each date given:
#   bash tests/faketime.sh "2026-12-31 23:59:00" "2027-03-01 00:00:30" "2028-02-29 12:00:00"
# Extra pytest arguments after `--`. Every process the suite starts inherits the faked clock.
set -euo pipefail
cd "$(dirname "$0")/.."
dates=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do dates+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
for when in "${dates[@]}"; do
  echo "== suite at $when (date says: $(FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@$when" date -u))"
  FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH="$PWD/tests/faketime" faketime -f "@$when" uv run pytest "$@"
done
