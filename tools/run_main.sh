#!/usr/bin/env bash
# Set up the environment and run mmfer's main job on the embedded SynthFER data: generate the
# quick set, draw the 5 % label split, train and test the supervised baseline, method A's
# stages I-III and method B, and print one results table (tools/run_pipeline.py).
# A second run reuses the data, the split and every finished stage.
#   bash tools/run_main.sh [tools/run_pipeline.py options]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/install.sh"
cd "$repo"
exec "${MMFER_VENV:-$repo/.venv}/bin/python" tools/run_pipeline.py "$@"
