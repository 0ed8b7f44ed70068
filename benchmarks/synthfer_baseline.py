"""SynthFER supervised baseline: 100 % vs a few % of the labels, same backbone and iterations.

    python benchmarks/synthfer_baseline.py --quick

Trains the quick ResNet-18 config from scratch twice — on every training label and on a
stratified ``--ratio`` split — giving both runs the same number of iterations, and
reports test accuracy. Goal at quick scale: ``acc_full_labels >= 0.85`` and
``acc_full_labels - acc_low_labels >= 0.15`` (room for semi-supervision).
The last line printed is one JSON object.
"""
import argparse
import math
import os.path as osp

from common import REPO, ensure_split, ensure_synthfer, quick_config, report, set_schedule, train_and_eval

from mmfer.datasets import load_split

CONFIG = 'configs/supervised/resnet18-w16_1xb64_synthfer-quick48.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='3k train / 1k test images at 48 px (a few minutes)')
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--data-root', default=None,
                        help='default: data/synthfer_quick48 (quick) or data/synthfer_full48')
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--epochs', type=int, default=None, help='full-label epochs (default 30 quick, 60 full)')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'bench_synthfer_baseline'))
    return parser.parse_args()


def main():
    args = parse_args()
    sizes = dict(num_train=3000, num_test=1000) if args.quick else dict(num_train=12000, num_test=3000)
    args.data_root = args.data_root or osp.join(REPO, 'data', 'synthfer_quick48' if args.quick else 'synthfer_full48')
    ensure_synthfer(args.data_root, img_size=48, num_pool=10000, **sizes)
    epochs = args.epochs or (30 if args.quick else 60)
    cfg = quick_config(args.config, args.data_root)
    batch = cfg.train_dataloader.batch_size

    set_schedule(cfg, epochs)
    full = train_and_eval(cfg, args.work_dir, 'full')

    split = ensure_split(cfg, args.ratio, args.seed,
                         osp.join(args.data_root, 'splits', f'labeled_{args.ratio:g}_seed{args.seed}.json'))
    low_cfg = quick_config(args.config, args.data_root)
    low_cfg.train_dataloader.dataset.split_file = split
    n_low = len(load_split(split)['labeled'])
    # same number of iterations as the full run
    low_epochs = max(1, round(epochs * math.ceil(sizes['num_train'] / batch) / math.ceil(n_low / batch)))
    set_schedule(low_cfg, low_epochs)
    low = train_and_eval(low_cfg, args.work_dir, 'low')

    acc_full, acc_low = full['accuracy/top1'] / 100, low['accuracy/top1'] / 100
    report(dict(
        benchmark='synthfer_baseline', quick=args.quick, config=args.config, label_ratio=args.ratio,
        num_labeled_low=n_low, num_labeled_full=sizes['num_train'], epochs_full=epochs, epochs_low=low_epochs,
        acc_full_labels=round(acc_full, 4), acc_low_labels=round(acc_low, 4), gap=round(acc_full - acc_low, 4),
        mean_class_acc_full=round(full['mean_class/recall'] / 100, 4),
        mean_class_acc_low=round(low['mean_class/recall'] / 100, 4),
        seconds_full=round(full['train_seconds'], 1), seconds_low=round(low['train_seconds'], 1),
        goal_met=bool(acc_full >= 0.85 and acc_full - acc_low >= 0.15)))


if __name__ == '__main__':
    main()
