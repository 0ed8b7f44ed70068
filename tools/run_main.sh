#!/usr/bin/env bash
# Set up the environment and run mmfer's main job on the embedded SynthFER data:
# generate the quick set, draw the 5 % label split once, train the supervised
# baseline with 100 % and 5 % of the labels, test both, and print a results table.
# A second run reuses the data, the split and finished checkpoints.
#   bash tools/run_main.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/install.sh"
py=${MMFER_VENV:-$repo/.venv}/bin/python
cd "$repo"

data=data/synthfer_quick48
cfg=configs/supervised/resnet18-w16_1xb64_synthfer-quick48.py
split=$data/splits/labeled_5pct_seed0.json
out=work_dirs/main
epochs=30

"$py" tools/data/generate_synthfer.py "$data" --img-size 48 --num-train 3000 --num-test 1000 --num-pool 10000
[ -f "$split" ] || "$py" tools/data/make_split.py "$cfg" --ratio 0.05 --seed 0 --out "$split"

run() {  # name, epochs, extra cfg-options...
    local name=$1 ep=$2; shift 2
    local wd=$out/$name
    if [ ! -f "$wd/epoch_$ep.pth" ]; then
        local resume=()
        [ -f "$wd/last_checkpoint" ] && resume=(--resume)
        "$py" tools/train.py "$cfg" --work-dir "$wd" "${resume[@]}" --cfg-options \
            train_cfg.max_epochs="$ep" train_cfg.val_interval="$ep" param_scheduler.1.end="$ep" \
            default_hooks.checkpoint.interval=5 "$@"
    fi
    "$py" tools/test.py "$cfg" "$wd/epoch_$ep.pth" --work-dir "$wd" --out "$wd/test_metrics.json" \
        > "$wd/test.log" 2>&1
}
run supervised_100pct "$epochs"
# same number of iterations with 5 % of the labels (3000/149 images -> 47/3 iterations per epoch)
run supervised_5pct $((epochs * 47 / 3)) train_dataloader.dataset.split_file="$split"

"$py" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = [('supervised, 100 % labels', 'supervised_100pct'), ('supervised, 5 % labels', 'supervised_5pct')]
print('\nSynthFER quick (48 px, 3000 train / 1000 test), ResNet-18 (1/4 width) from scratch')
print(f"{'run':<28}{'top-1':>8}{'mean class':>12}   checkpoint / confusion matrix")
for label, name in rows:
    m = json.load(open(f'{out}/{name}/test_metrics.json'))
    print(f"{label:<28}{m['accuracy/top1']:>8.2f}{m['mean_class/recall']:>12.2f}   {out}/{name}/")
PY
