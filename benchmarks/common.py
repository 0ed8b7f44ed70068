"""Helpers shared by the benchmarks: data generation, splits, and short training runs."""
import json
import os.path as osp
import time
from typing import Optional

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfer.utils import register_all_modules
from mmfer.utils.quick import (ensure_split, ensure_synthfer, set_data_root, set_iter_schedule,  # noqa: F401
                               set_schedule)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


class LoopTimer(Hook):
    """Seconds the training loop spends on its epochs / iterations: ``before_train`` to ``after_train``
    less any validation inside the loop (runner construction and the final validation are left out)."""

    priority = 'VERY_HIGH'
    seconds = 0.0

    def before_train(self, runner) -> None:
        self.seconds, self._val, self._start = 0.0, 0.0, time.perf_counter()

    def before_val(self, runner) -> None:
        self._val_start = time.perf_counter()

    def after_val(self, runner) -> None:
        self._val += time.perf_counter() - self._val_start

    def after_train(self, runner) -> None:
        self.seconds = time.perf_counter() - self._start - self._val


def train_and_eval(cfg: Config, work_dir: str, name: str, save: bool = False, logged: tuple = (),
                   validate: bool = True) -> dict:
    """Train ``cfg`` in this process and return the final validation metrics and time.

    ``save`` writes ``<work_dir>/<name>/final.pth`` (EMA weights where an EMA hook runs) and returns its
    path as ``checkpoint``; ``logged`` names training log keys whose mean over the last quarter of the
    run is returned under the same names. ``train_seconds`` is the wall time of building the runner and
    training; ``loop_seconds`` that of the training loop's steps alone (see ``LoopTimer``).
    """
    cfg = cfg.copy()
    cfg.work_dir = osp.join(work_dir, name)
    cfg.experiment_name = f'{name}_{time.time_ns()}'
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1000)
    cfg.log_level = 'WARNING'
    start = time.time()
    runner = Runner.from_cfg(cfg)
    timer = LoopTimer()
    runner.register_hook(timer)
    runner.train()
    seconds = time.time() - start
    metrics = runner.val_loop.run() if validate else {}
    metrics['train_seconds'] = seconds
    metrics['loop_seconds'] = timer.seconds
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
    return set_data_root(cfg, data_root) if data_root else cfg


register_all_modules(init_default_scope=False)
