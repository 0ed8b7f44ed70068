"""Look at what a config's data pipeline feeds the model (mmpretrain's browse_dataset, for mmfer).

    python tools/analysis/browse_dataset.py CONFIG [--phase train|val|test] [--num 32] [--cols 8]
        [--out browse.png] [--cfg-options k=v ...]

Draws ``--num`` random samples after the whole pipeline as one PNG grid: each tile shows the
image the model receives, its class name (or ``?`` for unlabeled faces) and, where the sample
carries one (``PackInputs(algorithm_keys=('gt_bboxes',))``), its face box. Multi-branch samples
(method A's stage III: ``sup`` / ``unsup_teacher`` / ``unsup_student``) show each view side by side,
a branch the sample lacks as a blank tile.
"""
import argparse
import os.path as osp
import random

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmfer.registry import DATASETS
from mmfer.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Browse a dataset through its pipeline')
    parser.add_argument('config')
    parser.add_argument('--phase', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=32, help='samples to draw')
    parser.add_argument('--cols', type=int, default=8, help='tiles per row')
    parser.add_argument('--tile', type=int, default=128, help='tile size in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='browse.png')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def tile(inputs, data_sample, classes, size, caption=''):
    """One view: BGR uint8 image scaled to ``size``, its face box and a caption (blank without an image)."""
    if inputs is None:  # a branch this sample does not have (mmdet's MultiBranch leaves it None)
        out = np.full((size + 16, size, 3), 255, np.uint8)
        cv2.putText(out, f'{caption}-', (2, size + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        return out
    img = np.ascontiguousarray(inputs.numpy().transpose(1, 2, 0)).astype(np.uint8)
    scale = size / max(img.shape[:2])
    img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)),
                     interpolation=cv2.INTER_NEAREST)
    out = np.full((size + 16, size, 3), 255, np.uint8)
    out[:img.shape[0], :img.shape[1]] = img
    boxes = data_sample.get('gt_bboxes') if data_sample is not None else None
    if boxes is not None and len(boxes):
        x1, y1, x2, y2 = (np.asarray(boxes, dtype=np.float32).reshape(-1, 4)[0] * scale).round().astype(int)
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), (0, 200, 0), 1)
    label = data_sample.get('gt_label') if data_sample is not None else None
    name = classes[int(label[0])] if label is not None and len(label) and 0 <= int(label[0]) < len(classes) else '?'
    cv2.putText(out, f'{caption}{name}'[:18], (2, size + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                cv2.LINE_AA)
    return out


def views(item, classes, size):
    """The tiles of one dataset item (one per branch for multi-branch items)."""
    if isinstance(item['inputs'], dict):
        return [tile(item['inputs'][b], item['data_samples'][b], classes, size, f'{b[:5]}:')
                for b in item['inputs']]
    return [tile(item['inputs'], item['data_samples'], classes, size)]


def browse(cfg, phase='train', num=32, cols=8, size=128, seed=0) -> np.ndarray:
    dataset = DATASETS.build(cfg[f'{phase}_dataloader'].dataset)
    classes = dataset.metainfo.get('classes', ())
    rng = random.Random(seed)
    picks = rng.sample(range(len(dataset)), min(num, len(dataset)))
    tiles = [v for i in picks if dataset[i] is not None for v in views(dataset[i], classes, size)]
    per_item = max(1, len(views(dataset[picks[0]], classes, size))) if picks else 1
    cols = max(per_item, cols - cols % per_item)
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % cols)
    rows = [np.concatenate(tiles[r:r + cols], axis=1) for r in range(0, len(tiles), cols)]
    return np.concatenate(rows, axis=0)


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmfer'))
    grid = browse(cfg, args.phase, args.num, args.cols, args.tile, args.seed)
    cv2.imwrite(args.out, grid)
    print(f'{args.num} samples of {osp.basename(args.config)} ({args.phase}) drawn to {args.out}')


if __name__ == '__main__':
    main()
