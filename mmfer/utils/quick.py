"""The quick-scale recipes, shared by ``tools/run_pipeline.py``, ``tools/data/make_quick_data.py`` and
``benchmarks/``: one data root and split, the stage configs and their budgets, and one reuse rule."""
import copy
import json
import math
import os
import os.path as osp
from typing import Dict, Iterator, Optional

from mmengine.config import Config

from mmfer.datasets import save_split
from mmfer.datasets.splits import per_class_quota, split_dataset
from mmfer.datasets.synthfer import SynthFERConfig, generate
from mmfer.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The quick SynthFER every committed quick config reads (relative to the repository) and how it is drawn:
#: 48 px, 12k labeled-set faces (5 % of them labeled: 600), 1k test faces, a 10k unlabeled pool.
QUICK_DATA_ROOT = 'data/synthfer_semi48'
QUICK_DATA = dict(img_size=48, num_train=12000, num_test=1000, num_pool=10000)
#: The label share the committed quick configs are written for: their epoch budgets count epochs over it.
QUICK_RATIO = 0.05


def ensure_synthfer(root: str, **kwargs) -> dict:
    """Generate SynthFER at ``root`` unless the same settings are already there."""
    return generate(root, SynthFERConfig(**kwargs), workers=os.cpu_count() or 1)


def ensure_split(cfg: Config, ratio: float, seed: int, out: str) -> str:
    """Draw (once) a split of ``cfg``'s training set and return its path."""
    if not osp.exists(out):
        ds_cfg = cfg.train_dataloader.dataset.copy()
        ds_cfg.update(split_file=None, pipeline=[])
        save_split(split_dataset(DATASETS.build(ds_cfg), ratio, seed), out)
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


#: The quick configs of each backbone's arms: the supervised baseline and method A's stages I-III.
#: The ResNet's ``supervised`` is also method B's primitive (:data:`METHOD_B` inherits it).
QUICK_CONFIGS = dict(
    vit=dict(
        supervised='configs/supervised/vit-small-p8_1xb64_synthfer-quick48.py',
        stage1='configs/face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py',
        stage2='configs/ssfer/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py',
        stage3='configs/ssfer/stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py'),
    resnet=dict(
        supervised='configs/supervised/resnet18-w16_1xb64-300e_synthfer-quick48-5pct.py',
        stage1='configs/face_spark/face-spark_resnet18-w16_1xb64-quick64_synthfer-pool.py',
        stage2='configs/ssfer/stage2_resnet18-w16_1xb64-quick48_synthfer-5pct.py',
        stage3='configs/ssfer/stage3_resnet18-w16_1xb128-quick48_synthfer-5pct.py'))
#: Committed quick configs of another label share than :data:`QUICK_RATIO`, by backbone and share: on a split
#: of that share (any split seed) they stand in for the arms of the same name, with their own budgets.
QUICK_CONFIGS_BY_RATIO = {
    ('resnet', 0.01): dict(
        stage1='configs/face_spark/face-spark_resnet18-w16_1xb64-24e-quick64_synthfer-pool.py',
        supervised='configs/supervised/resnet18-w16_1xb64-4200it_synthfer-quick48-1pct.py',
        stage2='configs/ssfer/stage2_resnet18-w16_1xb64-quick48_synthfer-1pct.py',
        stage3='configs/ssfer/stage3_resnet18-w16_1xb128-quick48_synthfer-1pct.py'),
}
METHOD_B = 'configs/omni_distill/omni-distill_resnet18-w16_quick48_synthfer-5pct.py'
#: Budgets of the quick runs where they are not the committed configs' own (``None``): the ViT's
#: stages II and III are iteration-based, and its supervised arm gets their sum.
QUICK_BUDGETS = dict(vit=dict(stage1_epochs=40, stage2_iters=600, stage3_iters=600),
                     resnet=dict(stage1_epochs=None, stage2_iters=None, stage3_iters=None))


def quick_split_path(data_root: str, ratio: float, seed: int) -> str:
    """Where the quick runs keep the label split of ``ratio`` drawn with ``seed`` (``labeled_5pct_seed0.json``,
    the name the committed quick configs read)."""
    return osp.join(data_root, 'splits', f'labeled_{round(ratio * 100, 6):g}pct_seed{seed}.json')


def ensure_quick_data(data_root: str = QUICK_DATA_ROOT, ratio: float = 0.05, seed: int = 0, **sizes) -> str:
    """Generate the quick SynthFER at ``data_root`` and draw its label split, each only once; return the
    split's path. ``sizes`` override :data:`QUICK_DATA`."""
    ensure_synthfer(data_root, **{**QUICK_DATA, **sizes})
    cfg = set_data_root(Config.fromfile(osp.join(REPO, METHOD_B)), data_root)
    return ensure_split(cfg, ratio, seed, quick_split_path(data_root, ratio, seed))


def last_checkpoint(cfg: Config) -> str:
    """The checkpoint a run of ``cfg`` ends with: ``epoch_<N>.pth`` or ``iter_<N>.pth``."""
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        return f'iter_{cfg.train_cfg.max_iters}.pth'
    return f'epoch_{cfg.train_cfg.max_epochs}.pth'


def named_checkpoints(obj) -> Iterator[str]:
    """The existing ``.pth`` files a config (or any nest of dicts and lists) names: the weights it starts from."""
    if isinstance(obj, dict):
        for value in obj.values():
            yield from named_checkpoints(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from named_checkpoints(value)
    elif isinstance(obj, str) and obj.endswith('.pth') and osp.isfile(obj):
        yield obj


def reusable(cfg: Config, config_file: str, result: str) -> bool:
    """The reuse rule of quick runs: a stage is reused when ``result`` exists, ``config_file`` holds the
    same config text as ``cfg`` (other budgets or options train afresh) and no checkpoint the config starts
    from (:func:`named_checkpoints`: a stage I encoder, a primitive model) was written after ``result``."""
    if not (osp.exists(result) and osp.exists(config_file)):
        return False
    with open(config_file) as f:
        if f.read() != cfg.pretty_text:
            return False
    return all(osp.getmtime(path) <= osp.getmtime(result) for path in named_checkpoints(cfg.to_dict()))


def quick_arms(repo: str, backbone: str, data_root: str, split: str, stage1_epochs: Optional[int] = None,
               stage2_iters: Optional[int] = None, stage3_iters: Optional[int] = None) -> Dict[str, Config]:
    """The quick configs of one backbone, pointed at ``data_root`` and ``split``, with their budgets.

    Returns ``supervised`` (labeled split only, the labeled budget of stages II + III), ``full_labels``
    (the same recipe on every label, as many iterations), ``stage1`` (the pool; no picture hook), ``stage2`` (its
    ``init_cfg`` checkpoint still to be set) and ``stage3`` (its ``load_from`` still to be set; the
    control is :func:`without_unlabeled_loss` of it). A split of a share in :data:`QUICK_CONFIGS_BY_RATIO` reads
    that share's configs. A budget left ``None`` is the config's own; on a split of another label share an
    epoch-based stage II keeps its :data:`QUICK_RATIO` iterations (:func:`committed_iterations`), so fewer
    labels mean more epochs, not a shorter run."""
    with open(split) as f:
        ratio = json.load(f).get('ratio', QUICK_RATIO)
    paths = {**QUICK_CONFIGS[backbone], **QUICK_CONFIGS_BY_RATIO.get((backbone, ratio), {})}
    load = lambda name: Config.fromfile(osp.join(repo, paths[name]))  # noqa: E731
    arms = dict(stage1=load('stage1'), stage2=set_data_root(load('stage2'), data_root),
                stage3=stage3_data(load('stage3'), data_root, split),
                supervised=set_data_root(load('supervised'), data_root),
                full_labels=set_data_root(load('supervised'), data_root))
    arms['stage1'].train_dataloader.dataset.data_root = osp.join(data_root, 'pool')
    arms['stage1'].custom_hooks = []
    arms['stage2'].train_dataloader.dataset.split_file = split
    arms['supervised'].train_dataloader.dataset.split_file = split
    arms['full_labels'].train_dataloader.dataset.split_file = None
    if stage1_epochs:
        set_schedule(arms['stage1'], stage1_epochs, warmup=1)
    stage2_iters = stage2_iters or committed_iterations(arms['stage2'], split)
    if stage2_iters:
        set_iter_schedule(arms['stage2'], stage2_iters)
    if stage3_iters:
        set_iter_schedule(arms['stage3'], stage3_iters, warmup=1)
    if stage2_iters or stage3_iters:
        labeled = sum(budget or iterations(arms[stage], split)
                      for stage, budget in (('stage2', stage2_iters), ('stage3', stage3_iters)))
        set_iter_schedule(arms['supervised'], labeled)
    # every label, for as many iterations as the supervised run on the split
    set_iter_schedule(arms['full_labels'], iterations(arms['supervised'], split))
    return arms


def iterations(cfg: Config, split: Optional[str] = None) -> int:
    """Training iterations of a config; an epoch-based one counts its epochs over ``split``'s labeled
    samples."""
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        return cfg.train_cfg.max_iters
    if split is None:
        raise ValueError(f'{cfg.filename} trains by epoch: give both stage budgets in iterations')
    with open(split) as f:
        labeled = len(json.load(f)['labeled'])
    return cfg.train_cfg.max_epochs * math.ceil(labeled / cfg.train_dataloader.batch_size)


def committed_iterations(cfg: Config, split: str) -> Optional[int]:
    """The iterations an epoch-based quick ``cfg`` trains for on the :data:`QUICK_RATIO` split it is written
    for, when ``split`` holds another share of the same data (its ``ratio`` and ``class_counts``, with
    ``make_split``'s per-class rounding); ``None`` for an iteration-based config or a split of that share."""
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        return None
    with open(split) as f:
        record = json.load(f)
    if record.get('ratio', QUICK_RATIO) == QUICK_RATIO:
        return None
    labeled = sum(per_class_quota(count, QUICK_RATIO) for count in record['class_counts'].values())
    return cfg.train_cfg.max_epochs * math.ceil(labeled / cfg.train_dataloader.batch_size)


def stage3_data(cfg: Config, data_root: str, split: str) -> Config:
    """Point a stage III config's labeled split, pool and test set at ``data_root``."""
    labeled, pool = cfg.train_dataloader.dataset.datasets
    labeled.update(data_root=data_root, split_file=split)
    pool.data_root = osp.join(data_root, 'pool')
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    return cfg


def heldout_dataloader(cfg: Config, split: str, num: int) -> Config:
    """``cfg``'s validation loader on held-out training faces: the first ``num`` faces of the labeled set
    that ``split`` leaves out (``split_part='unlabeled'``), read with the validation pipeline. No run on
    ``split`` trains on them (a run on every label does), so rates and options can be chosen there and
    the test set read once."""
    loader = copy.deepcopy(cfg.val_dataloader)
    loader.dataset.update(split='train', split_file=split, split_part='unlabeled', indices=num)
    return loader


def without_unlabeled_loss(cfg: Config) -> Config:
    """Stage III's control: the same run with the unlabeled loss switched off (model and hook)."""
    cfg.model.unsup_weight = 0.0
    for hook in cfg.custom_hooks:
        if hook.type == 'SemiFERHook' and hook.get('unsup_weight') is not None:
            hook.unsup_weight = 0.0
    return cfg
