"""The data of every committed quick config: 48 px SynthFER and its 5 % label split, each made once.

    python tools/data/make_quick_data.py [--data-root data/synthfer_semi48] [--ratio 0.05] [--seed 0]

12k labeled-set faces (5 %: 600 labeled), 1k test faces and a 10k unlabeled pool with distractors
(``mmfer.utils.quick.QUICK_DATA``), then ``<data-root>/splits/labeled_5pct_seed0.json``. The pipeline
(``tools/run_pipeline.py``) and the benchmarks call the same function; a second call returns at once.
"""
import argparse

from mmfer.utils import register_all_modules
from mmfer.utils.quick import QUICK_DATA_ROOT, ensure_quick_data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data-root', default=QUICK_DATA_ROOT)
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    register_all_modules()
    print(f'split: {ensure_quick_data(args.data_root, args.ratio, args.seed)}')


if __name__ == '__main__':
    main()
