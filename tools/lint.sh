#!/usr/bin/env bash
# Lint the tree (flake8 + isort, settings in setup.cfg) with the project's environment.
#   bash tools/lint.sh          # check; isort --diff shows what it would change
#   bash tools/lint.sh --fix    # let isort sort the imports
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MMFER_VENV:-$repo/.venv}
cd "$repo"
paths=(mmfer tools benchmarks tests configs demo)
if [ "${1:-}" = "--fix" ]; then
    "$venv/bin/python" -m isort -q "${paths[@]}"
else
    "$venv/bin/python" -m isort --check-only --diff -q "${paths[@]}"
fi
"$venv/bin/python" -m flake8 "${paths[@]}"
echo "lint: clean (flake8, isort) over ${paths[*]}"
