"""Evaluate a checkpoint with an mmfer config (mmpretrain's tools/test.py).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--out-item metrics]
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [args...]

The metrics are mmpretrain's: top-1 accuracy, mean class accuracy (macro recall) and
the confusion matrix, which is also drawn to ``<work_dir>/confusion_matrix.png``. The checkpoint
is loaded strictly: one whose weights do not fit the config's model (another class count or
architecture) is an error naming it and its first mismatched keys.
"""
import argparse
import os
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from mmfer.compat import close_distributed, init_cpu_distributed
from mmfer.registry import RUNNERS
from mmfer.utils import load_strict, merge_cfg_options, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) an mmfer model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions (.pkl) or metrics (.json/.yaml) to this file')
    parser.add_argument('--out-item', choices=['metrics', 'pred'], default='metrics',
                        help="what --out holds: 'metrics' (default) or the raw 'pred'ictions")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = merge_cfg_options(Config.fromfile(args.config), args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # mmengine's load_from is not strict; loaded below
    if cfg.test_dataloader.get('num_workers', 0) == 0:
        cfg.test_dataloader['persistent_workers'] = False
    init_cpu_distributed(args.launcher, cfg)
    register_all_modules(init_default_scope=False)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    load_strict(runner.model, args.checkpoint)
    runner.logger.info(f'loaded every weight of the model from {args.checkpoint}')
    if args.out and args.out_item == 'pred':
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    matrix = metrics.pop('confusion_matrix/result', None)
    if matrix is not None and runner.rank == 0:
        from mmpretrain.evaluation import ConfusionMatrix
        classes = runner.test_dataloader.dataset.metainfo.get('classes')
        fig = ConfusionMatrix.plot(matrix, include_values=True, show=False, classes=classes)
        path = osp.join(runner.work_dir, 'confusion_matrix.png')
        fig.savefig(path, bbox_inches='tight')
        runner.logger.info(f'confusion matrix drawn to {path}\n{matrix.numpy()}')
        metrics['confusion_matrix'] = matrix.tolist()
    if args.out and args.out_item == 'metrics' and runner.rank == 0:
        mmengine.dump(metrics, args.out)
    close_distributed(exit_process=True)


if __name__ == '__main__':
    main()
