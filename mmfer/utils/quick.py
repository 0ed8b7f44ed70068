"""Building blocks of quick-scale runs, shared by ``tools/run_pipeline.py`` and ``benchmarks/``."""
import os
import os.path as osp

from mmengine.config import Config

from mmfer.datasets import save_split
from mmfer.datasets.splits import split_dataset
from mmfer.datasets.synthfer import SynthFERConfig, generate
from mmfer.registry import DATASETS


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


def set_data_root(cfg: Config, data_root: str) -> Config:
    """Point the train, val and test datasets of ``cfg`` at ``data_root``."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    return cfg


def set_schedule(cfg: Config, epochs: int, warmup: int = 1) -> None:
    """Epoch-based AdamW schedule of the given length, validating only at the end.

    The linear warm-up takes ``warmup`` epochs (none for a one-epoch run)."""
    warmup = min(warmup, epochs - 1)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup, convert_to_iter_based=True),
    ] if warmup > 0 else []
    cfg.param_scheduler.append(dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup, end=epochs, eta_min=1e-6,
                                    convert_to_iter_based=True))


def set_iter_schedule(cfg: Config, iters: int, warmup: int = 50) -> None:
    """Iteration-based AdamW schedule of ``iters`` steps, validating only at the end.

    A linear warm-up of ``warmup`` steps (at most a quarter of the run), then cosine decay; with
    ``warmup < 2`` the cosine starts at once (mmengine's ``LinearLR`` over a single step would never
    restore the learning rate: it leaves it at ``start_factor`` for the whole run)."""
    warmup = min(warmup, iters // 4)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    if cfg.train_dataloader.sampler.type == 'DefaultSampler':
        cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup)
                           ] if warmup >= 2 else []
    cfg.param_scheduler.append(dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup if warmup >= 2 else 0,
                                    end=iters, eta_min=1e-6))
    cfg.log_processor = dict(by_epoch=False)
