"""Plot training curves from a work dir's logged scalars (mmengine's LocalVisBackend).

    python tools/analysis/plot_curves.py WORK_DIR [--keys loss unsup_mask_rate unsup_pseudo_acc]
        [--smooth 5] [--out curves.png]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` in time order (a resumed run appends a new
one) and draws one panel per logged key against the training step; ``--smooth`` averages over a moving window
of logged points. Stage III logs ``unsup_mask_rate`` (share of pool images whose pseudo-label passes
the threshold), ``unsup_pseudo_acc`` (their accuracy against the pool's hidden truth, when given) and
``unsup_pseudo_cls<k>``; every run logs ``loss`` and ``lr``.
"""
import argparse
import glob
import json
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_scalars(work_dir: str) -> dict:
    """``{key: (steps, values)}`` over the work dir's training logs, later runs overriding earlier steps."""
    series = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'step' not in row or 'lr' not in row:  # validation rows carry no lr
                    continue
                for key, value in row.items():
                    if key != 'step' and isinstance(value, (int, float)):
                        series.setdefault(key, {})[row['step']] = value
    return {k: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)])) for k, v in series.items()}


def plot(series: dict, keys: list, out: str, smooth: int = 1, title: str = '') -> None:
    missing = [k for k in keys if k not in series]
    keys = [k for k in keys if k in series]
    if not keys:
        raise SystemExit(f'not logged: {missing}; logged keys: {sorted(series)}')
    if missing:  # e.g. unsup_pseudo_acc is logged only once some pseudo-label passes the threshold
        print(f'not logged, left out: {missing}')
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        steps, values = series[key]
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode='valid')
            steps = steps[smooth - 1:]
        ax.plot(steps, values, marker='.' if len(values) < 30 else None)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir')
    parser.add_argument('--keys', nargs='+', default=['loss'])
    parser.add_argument('--smooth', type=int, default=1, help='moving-average window over logged points')
    parser.add_argument('--out', default=None, help='default: WORK_DIR/curves.png')
    args = parser.parse_args()
    out = args.out or osp.join(args.work_dir, 'curves.png')
    plot(read_scalars(args.work_dir), args.keys, out, args.smooth, osp.basename(osp.normpath(args.work_dir)))
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
