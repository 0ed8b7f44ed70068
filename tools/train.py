"""Train a model from an mmfer config (mmpretrain's tools/train.py, plus CPU-only multi-process).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [args...]
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmfer.compat import close_distributed, init_cpu_distributed
from mmfer.registry import RUNNERS
from mmfer.utils import (find_resume_checkpoint, follow_thread_count, merge_cfg_options, read_checkpoint,
                         register_all_modules)


def parse_args():
    parser = argparse.ArgumentParser(description='Train an mmfer model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or from the newest readable one in the work dir when no '
                        'path is given (a fresh start when it holds none)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (AmpOptimWrapper; bf16 where the GPU supports it, else fp16); GPU only')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale lr with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true', help='disable pin_memory of the dataloaders')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='disable persistent_workers of the dataloaders')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=5')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Fold command-line options into the config, as mmpretrain's tool does; an unknown
    ``--cfg-options`` key or an unreadable ``--resume`` checkpoint is an error."""
    merge_cfg_options(cfg, args.cfg_options)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:  # mmengine's AmpOptimWrapper, as mmpretrain's tool; bf16 where the GPU has it
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU: mmengine\'s AmpOptimWrapper runs on CUDA (or NPU / MLU / MUSA) only')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if torch.cuda.is_bf16_supported():
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    if args.resume == 'auto':
        # None: nothing to resume from in the work dir, and mmengine starts afresh
        cfg.resume, cfg.load_from = True, find_resume_checkpoint(cfg.work_dir) if osp.isdir(cfg.work_dir) else None
    elif args.resume is not None:
        read_checkpoint(args.resume)
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers or loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
    return cfg


def main():
    args = parse_args()
    if os.environ.get('MMFER_THREADS_FROM_STDIN'):  # tools/run_pipeline.py widens a stage left running alone
        follow_thread_count()
    cfg = merge_args(Config.fromfile(args.config), args)
    cfg.launcher = args.launcher
    init_cpu_distributed(args.launcher, cfg)
    register_all_modules(init_default_scope=False)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()
    close_distributed(exit_process=True)


if __name__ == '__main__':
    main()
