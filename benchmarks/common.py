"""Helpers shared by the benchmarks: data generation, splits, and short training runs."""
import copy
import json
import os.path as osp
import time
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner, ValLoop

from mmfer.utils import register_all_modules
from mmfer.utils.quick import (ensure_split, ensure_synthfer, reusable, set_data_root, set_iter_schedule,  # noqa: F401
                               set_schedule)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def train_and_eval(cfg: Config, work_dir: str, name: str, save: bool = False, logged: tuple = (),
                   validate: bool = True, heldout: Optional[dict] = None) -> dict:
    """Train ``cfg`` in this process and return the final validation metrics and time.

    ``heldout``, a data loader config (:func:`~mmfer.utils.quick.heldout_dataloader`), is evaluated too
    with the validation metrics, its figures under ``heldout/<metric>``.

    ``save`` writes ``<work_dir>/<name>/final.pth`` (EMA weights where an EMA hook runs) and returns its
    path as ``checkpoint``; ``logged`` names training log keys whose mean over the last quarter of the
    run is returned under the same names. ``train_seconds`` is the wall time of building the runner and
    training; ``loop_seconds`` the sum of the training iterations' times (data + step, as mmengine's
    ``IterTimerHook`` logs them as ``train/time``): no runner construction, no validation.
    """
    cfg = copy.deepcopy(cfg)  # Config.copy() is shallow: the hooks set below would reach the caller's config
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
    if heldout is not None:
        metrics.update({f'heldout/{k}': v for k, v in ValLoop(runner, heldout, cfg.val_evaluator).run().items()})
    metrics['train_seconds'] = seconds
    iter_times = runner.message_hub.log_scalars.get('train/time')
    metrics['loop_seconds'] = float(iter_times.data[0].sum()) if iter_times is not None else None
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
    """The metrics and checkpoint a previous ``save=True`` run of the same config left in ``work_dir/name``
    (mmfer's quick reuse rule, :func:`~mmfer.utils.quick.reusable`), or a new run."""
    previous, config_file = osp.join(work_dir, name, 'metrics.json'), osp.join(work_dir, name, 'recipe.py')
    if reuse and reusable(cfg, config_file, previous):
        with open(previous) as f:
            return json.load(f)
    metrics = train_and_eval(cfg, work_dir, name, save=True, **kwargs)
    cfg.dump(config_file)
    return metrics


def report(result: dict) -> None:
    """Print the benchmark's result as the last line: one JSON object."""
    print(json.dumps(result, sort_keys=True))


def quick_config(path: str, data_root: Optional[str] = None) -> Config:
    """A config from the repo with every data loader pointed at ``data_root``."""
    cfg = Config.fromfile(osp.join(REPO, path))
    return set_data_root(cfg, data_root) if data_root else cfg


register_all_modules(init_default_scope=False)
