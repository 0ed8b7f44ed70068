#!/usr/bin/env bash
# Set up the environment (tools/install.sh) and run the test suite.
#   bash tools/run_tests.sh [pytest args...]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/install.sh"
venv=${MMFER_VENV:-$repo/.venv}
cd "$repo"
# pytest exits 5 when it collected no test: that is a failure here too
exec "$venv/bin/python" -m pytest tests -q -p no:cacheprovider --durations=10 "$@"
