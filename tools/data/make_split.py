"""Draw a stratified label-ratio split once and save it; every stage then reads the file.

    python tools/data/make_split.py configs/supervised/resnet18_1xb64_synthfer.py \
        --ratio 0.05 --seed 0 --out data/synthfer/splits/labeled_5pct_seed0.json

Per class it keeps round(ratio x class count) samples (halves round up), at least one.
The training set is the config's ``train_dataloader.dataset`` (without any split file).
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

from mmfer.datasets import save_split
from mmfer.datasets.splits import split_dataset
from mmfer.registry import DATASETS
from mmfer.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a config whose train_dataloader.dataset is the labeled set')
    parser.add_argument('--ratio', type=float, required=True, help='share of labels to keep, e.g. 0.05')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='split file (JSON) to write')
    parser.add_argument('--force', action='store_true', help='overwrite an existing split file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return parser.parse_args()


def main():
    args = parse_args()
    if osp.exists(args.out) and not args.force:
        raise SystemExit(f'{args.out} exists; a split is drawn once (pass --force to redraw it)')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules()
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.update(split_file=None, pipeline=[])
    dataset = DATASETS.build(ds_cfg)
    split = split_dataset(dataset, args.ratio, args.seed)
    save_split(split, args.out)
    print(f'{args.out}: {len(split["labeled"])} of {split["num_samples"]} labeled '
          f'({args.ratio:.0%}, seed {args.seed}): {split["labeled_counts"]}')


if __name__ == '__main__':
    main()
