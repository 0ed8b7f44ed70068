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

import numpy as np

from mmfer.visualization import plot_curves


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir')
    parser.add_argument('--keys', nargs='+', default=['loss'])
    parser.add_argument('--smooth', type=int, default=1, help='moving-average window over logged points')
    parser.add_argument('--out', default=None, help='default: WORK_DIR/curves.png')
    args = parser.parse_args()
    out = args.out or osp.join(args.work_dir, 'curves.png')
    plot_curves(read_scalars(args.work_dir), args.keys, out, args.smooth, osp.basename(osp.normpath(args.work_dir)))
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
