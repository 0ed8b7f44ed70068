"""Helpers shared by the benchmarks: data generation, splits, and short training runs."""
import json
import os
import os.path as osp
import time
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

from mmfer.datasets import save_split
from mmfer.datasets.splits import split_dataset
from mmfer.datasets.synthfer import SynthFERConfig, generate
from mmfer.registry import DATASETS
from mmfer.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def ensure_synthfer(root: str, **kwargs) -> dict:
    """Generate SynthFER at ``root`` unless the same settings are already there."""
    return generate(root, SynthFERConfig(**kwargs), workers=os.cpu_count() or 1)


def ensure_split(cfg: Config, ratio: float, seed: int, out: str) -> str:
    """Draw (once) a split of ``cfg``'s training set and return its path."""
    if not osp.exists(out):
        ds_cfg = cfg.train_dataloader.dataset.copy()
        ds_cfg.update(split_file=None, pipeline=[])
        save_split(split_dataset(DATASETS.build(ds_cfg), ratio, seed, source=dict(type=ds_cfg['type'])), out)
    return out


def set_schedule(cfg: Config, epochs: int, warmup: int = 1) -> None:
    """Epoch-based AdamW schedule of the given length, validating only at the end."""
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup, convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup, end=epochs, eta_min=1e-6,
             convert_to_iter_based=True),
    ]


def set_iter_schedule(cfg: Config, iters: int, warmup: int = 50) -> None:
    """Iteration-based AdamW schedule of ``iters`` steps, validating only at the end."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    if cfg.train_dataloader.sampler.type == 'DefaultSampler':
        cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=iters, eta_min=1e-6),
    ]
    cfg.log_processor = dict(by_epoch=False)


def train_and_eval(cfg: Config, work_dir: str, name: str, save: bool = False, logged: tuple = (),
                   validate: bool = True) -> dict:
    """Train ``cfg`` in this process and return the final validation metrics and time.

    ``save`` writes ``<work_dir>/<name>/final.pth`` (EMA weights where an EMA hook runs) and returns its
    path as ``checkpoint``; ``logged`` names training log keys whose mean over the last quarter of the
    run is returned under the same names.
    """
    cfg = cfg.copy()
    cfg.work_dir = osp.join(work_dir, name)
    cfg.experiment_name = f'{name}_{time.time_ns()}'
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1000)
    cfg.log_level = 'WARNING'
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    seconds = time.time() - start
    metrics = runner.val_loop.run() if validate else {}
    metrics['train_seconds'] = seconds
    for key in logged:
        buffers = runner.message_hub.log_scalars
        history = buffers[f'train/{key}'].data[0] if f'train/{key}' in buffers else []
        tail = history[-max(1, len(history) // 4):]
        metrics[key] = float(sum(tail) / len(tail)) if len(tail) else None
    if save:
        runner.save_checkpoint(cfg.work_dir, 'final.pth', save_optimizer=False, save_param_scheduler=False)
        metrics['checkpoint'] = osp.join(cfg.work_dir, 'final.pth')
        with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
            json.dump({k: float(v) if k != 'checkpoint' else v for k, v in metrics.items()}, f)
    return metrics


def reuse_or_train(reuse: bool, cfg: Config, work_dir: str, name: str, **kwargs) -> dict:
    """The metrics and checkpoint a previous ``save=True`` run left in ``work_dir/name``, or a new run."""
    previous = osp.join(work_dir, name, 'metrics.json')
    if reuse and osp.exists(previous):
        with open(previous) as f:
            return json.load(f)
    return train_and_eval(cfg, work_dir, name, save=True, **kwargs)


def report(result: dict) -> None:
    """Print the benchmark's result as the last line: one JSON object."""
    print(json.dumps(result, sort_keys=True))


def quick_config(path: str, data_root: Optional[str] = None) -> Config:
    """A config from the repo with every data loader pointed at ``data_root``."""
    cfg = Config.fromfile(osp.join(REPO, path))
    if data_root:
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[loader].dataset.data_root = data_root
    return cfg


register_all_modules(init_default_scope=False)
