#!/usr/bin/env bash
# Create a virtual environment and install the whole mmfer stack into it.
#
#   bash tools/install.sh            # venv at ./.venv
#   MMFER_VENV=/path/venv bash tools/install.sh
#
# Environment:
#   MMFER_VENV         where the venv goes (default: <repo>/.venv)
#   MMFER_WHEEL_CACHE  where a built mmcv wheel is kept between installs
#                      (default: ~/.cache/mmfer/wheels; outside the repo on purpose)
#   MMFER_FIND_LINKS   extra folder holding a prebuilt mmcv wheel (e.g. ../shared/wheels)
#   MMFER_EXTRAS       pip extras for mmfer itself (default: tests)
#
# mmcv 2.1.0 ships only a source distribution on PyPI and its setup.py asks for
# C++14/17 while torch 2.14's headers require C++20; the build below patches that.
# The one-time build takes about 30 minutes on 2 cores; the wheel is cached.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MMFER_VENV:-$repo/.venv}
cache=${MMFER_WHEEL_CACHE:-$HOME/.cache/mmfer/wheels}
extras=${MMFER_EXTRAS:-tests}
mkdir -p "$cache"

say() { printf '[mmfer install %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ ! -x "$venv/bin/python" ]; then
    say "creating virtual environment at $venv"
    python3 -m venv "$venv"
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check)

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
    say "installing torch 2.14.1 + torchvision 0.29.1"
    "${pip[@]}" install -qq torch==2.14.1 torchvision==0.29.1
fi
"${pip[@]}" install -qq -r "$repo/requirements/build.txt"

links=(--find-links "$cache")
if [ -n "${MMFER_FIND_LINKS:-}" ]; then
    links+=(--find-links "$MMFER_FIND_LINKS")
fi

if "$py" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
    say "mmcv 2.1.0 with ops already installed"
elif "${pip[@]}" install -qq --only-binary mmcv "${links[@]}" mmcv==2.1.0 2>/dev/null; then
    say "installed mmcv 2.1.0 from a prebuilt wheel"
else
    say "building mmcv 2.1.0 with ops from source (one time, ~30 min on 2 cores; cached in $cache)"
    start=$(date +%s)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "${pip[@]}" download -qq --no-deps --no-binary :all: --no-build-isolation -d "$work" mmcv==2.1.0
    tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
    # torch >= 2.6 headers need C++20.
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$work/mmcv-2.1.0/setup.py"
    (cd "$work/mmcv-2.1.0" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "${pip[@]}" wheel -qq --no-build-isolation --no-deps -w "$cache" .)
    "${pip[@]}" install -qq --only-binary mmcv --find-links "$cache" mmcv==2.1.0
    say "mmcv built in $(( ($(date +%s) - start) / 60 )) min; wheel cached in $cache"
fi

say "installing mmengine, mmpretrain, mmdet and mmfer (editable, extras: $extras)"
"${pip[@]}" install -qq "${links[@]}" -r "$repo/requirements/mminstall.txt"
"${pip[@]}" install -qq "${links[@]}" -e "$repo[$extras]"
# packages whose metadata pins an older torch but whose code runs on this stack (the MTCNN face detector);
# pip's resolver warns about those pins on later installs into this venv: the warning is expected
say "installing requirements/nodeps.txt without dependencies (facenet-pytorch: MTCNN with bundled weights)"
"${pip[@]}" install -qq --no-deps -r "$repo/requirements/nodeps.txt"

if "$py" -c 'import transformers' 2>/dev/null; then
    say "WARNING: 'transformers' is installed in $venv; mmpretrain 1.2 fails to import beside it. Uninstall it."
fi
"$py" -c 'import mmcv.ops, mmdet.models, mmpretrain.models, facenet_pytorch, mmfer; print("stack ok: mmfer", mmfer.__version__)'
say "done. Activate with: source $venv/bin/activate"
