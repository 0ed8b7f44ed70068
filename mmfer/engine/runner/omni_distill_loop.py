"""``OmniDistillLoop``: method B (primitive model -> mining -> distillation -> final model) in one run."""
import copy
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.runner import BaseLoop, Runner

from mmfer.engine.mining import ReliableSampleMiner, class_prototypes, select_mined, write_atomic
from mmfer.models.distillers import RealFaces
from mmfer.registry import DATASETS, LOOPS, MODELS, TASK_UTILS
from mmfer.utils.checkpoint import load_strict

DISTILLED_FILE = 'distilled.txt'


@LOOPS.register_module()
class OmniDistillLoop(BaseLoop):
    """Method B as a training loop: every stage leaves files the next one reads.

    ``tools/train.py CONFIG`` with ``train_cfg = dict(type='OmniDistillLoop', ...)`` runs, under the
    run's ``work_dir``:

    1. ``primitive/`` — the config's model trained on its ``train_dataloader`` (the labeled split) by
       an mmengine Runner with an ``EpochBasedTrainLoop`` (``primitive=dict(max_epochs=...)``), or a
       given ``primitive=dict(checkpoint=...)``; its weights end in ``primitive/primitive.pth`` and
       its test metrics in ``primitive/metrics.json``.
    2. ``mining/`` — every rank scores its shard of the ``pool`` dataset with
       :class:`~mmfer.engine.mining.ReliableSampleMiner`, streaming candidates to disk; rank 0
       applies the per-class caps and writes ``mined.txt`` atomically (a
       :class:`~mmfer.datasets.FaceList`) and ``mining/summary.json``.
    3. ``distilled/`` — the ``distiller`` (``DistributionMatching`` by default) compresses the mined
       faces — and the labeled ones, unless ``include_labeled=False``, so that a class the primitive
       model never mined still has real faces — into ``ipc`` images per class: PNGs, ``distilled.txt``
       (a ``FaceList``), ``grid.png`` (a row per class, also sent to the visualizer's backends).
    4. ``final/`` — a fresh model of the same config trained on labeled + distilled (repeated
       ``distilled_repeat`` times; + mined with ``use_mined``, on the primitive's class probabilities
       with ``soft_mined``), with the config's metrics in
       ``final/metrics.json``.

    With ``--resume`` every stage continues where it stopped: the primitive and final runs from
    their last checkpoints (mmengine's resume), mining from its last recorded chunk, distillation
    from its last saved state; finished stages are skipped. Without it every stage runs afresh.

    Args:
        runner: the mmengine Runner.
        dataloader: the labeled training data (the config's ``train_dataloader``).
        pool: the unlabeled pool, an ``UnlabeledFaces`` config; its ``pipeline`` defaults to the
            validation pipeline (with unreadable images skipped and counted).
        primitive: ``max_epochs`` and ``val_interval`` of the primitive run, or ``checkpoint``.
        mining: :class:`ReliableSampleMiner` arguments (``threshold``, ``min_similarity``,
            ``require_agreement``, ``flip_tta``), caps (``max_per_class``, ``class_balance``, ``rank_by``; see
            :func:`~mmfer.engine.mining.select_mined`) and ``batch_size``, ``num_workers``,
            ``flush_every``.
        distiller: a TASK_UTILS config (``DistributionMatching`` / ``GradientMatching``) plus
            ``include_labeled`` (default True); images have the validation pipeline's size, and
            ``init='typical'`` picks its starting faces in the primitive model's feature space.
        final: ``max_epochs``, ``val_interval``, ``distilled_repeat`` (default 1), ``use_mined``
            (default False), ``soft_mined`` (default False: the mined faces' targets are the
            primitive model's class probabilities instead of its hard labels; the other samples'
            labels become one-hot scores by ``LabelToScore``, inserted before the pipeline's last
            step, ``PackInputs``); any other key replaces that top-level config key for the final
            run (e.g. ``param_scheduler``).
    """

    def __init__(self, runner, dataloader, pool: dict, primitive: Optional[dict] = None,
                 mining: Optional[dict] = None, distiller: Optional[dict] = None, final: Optional[dict] = None):
        super().__init__(runner, dataloader)
        self.pool_cfg = copy.deepcopy(pool)
        self.primitive_cfg = {**dict(max_epochs=30, val_interval=None, checkpoint=None), **(primitive or {})}
        self.mining_cfg = {**dict(threshold=0.9, min_similarity=0.5, require_agreement=True, flip_tta=False,
                                  max_per_class=None, class_balance=None, rank_by='product', batch_size=256,
                                  num_workers=0, flush_every=20), **(mining or {})}
        self.distiller_cfg = copy.deepcopy(distiller or dict(type='DistributionMatching', ipc=10))
        self.final_cfg = {**dict(max_epochs=30, val_interval=None, distilled_repeat=1, use_mined=False,
                                 soft_mined=False),
                          **(final or {})}
        self.classes = tuple(self.dataloader.dataset.metainfo['classes'])
        self.resume = bool(runner._resume)  # tools/train.py --resume (mmengine keeps it private)
        self.results: Dict[str, dict] = {}
        self._epoch = self._iter = self._max_epochs = self._max_iters = 0

    # mmengine's Runner reads these from any training loop
    @property
    def epoch(self):
        return self._epoch

    @property
    def iter(self):
        return self._iter

    @property
    def max_epochs(self):
        return self._max_epochs

    @property
    def max_iters(self):
        return self._max_iters

    def path(self, *parts: str) -> str:
        return osp.join(self.runner.work_dir, *parts)

    def run(self):
        self.runner.logger.info(f'OmniDistillLoop: stages write under {self.runner.work_dir}')
        primitive = self.run_primitive()
        mined = self.run_mining(primitive)
        distilled = self.run_distillation(primitive, mined)
        self.run_final(mined, distilled)
        if is_main_process():
            write_atomic(self.path('results.json'), json.dumps(self.results, indent=2))
        self.runner.logger.info('OmniDistillLoop results: ' + json.dumps(self.results))
        return self.runner.model

    # stage 1 -------------------------------------------------------------------------------------
    def _sub_runner(self, name: str, max_epochs: int, val_interval: Optional[int], updates: dict) -> Runner:
        cfg = copy.deepcopy(self.runner.cfg)
        for key, value in updates.items():
            cfg[key] = value
        # without a val_interval the stage is evaluated once, after training (by _train), not also at its last epoch
        cfg.train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=val_interval or max_epochs + 1)
        cfg.work_dir = self.path(name)
        cfg.experiment_name = f'{self.runner.experiment_name}_{name}'
        cfg.resume, cfg.load_from = self.resume, None
        return Runner.from_cfg(cfg)

    def _train(self, name: str, stage_cfg: dict, updates: dict) -> str:
        """Train (or resume) a stage's runner; return its weights file and record its metrics."""
        weights, metrics_file = self.path(name, f'{name}.pth'), self.path(name, 'metrics.json')
        if self.resume and osp.exists(weights) and osp.exists(metrics_file):
            self.runner.logger.info(f'OmniDistillLoop: {name} stage already done ({weights})')
        else:
            sub = self._sub_runner(name, stage_cfg['max_epochs'], stage_cfg['val_interval'], updates)
            sub.train()
            metrics = sub.val_loop.run() if sub.val_loop is not None else {}
            sub.save_checkpoint(sub.work_dir, f'{name}.pth', save_optimizer=False, save_param_scheduler=False)
            if is_main_process():
                write_atomic(metrics_file, json.dumps({k: float(v) for k, v in metrics.items()}))
            barrier()
        with open(metrics_file) as f:
            self.results[name] = json.load(f)
        return weights

    def run_primitive(self) -> str:
        if self.primitive_cfg['checkpoint']:
            self.results['primitive'] = dict(checkpoint=self.primitive_cfg['checkpoint'])
            return self.primitive_cfg['checkpoint']
        return self._train('primitive', self.primitive_cfg, {})

    # stage 2 -------------------------------------------------------------------------------------
    def _model(self, checkpoint: str):
        return build_primitive(self.runner.cfg, checkpoint, next(self.runner.model.parameters()).device)

    def _eval_pipeline(self) -> List[dict]:
        return eval_pipeline(self.runner.cfg)

    def run_mining(self, primitive: str) -> str:
        cfg = self.mining_cfg
        mined, summary_file = self.path('mined.txt'), self.path('mining', 'summary.json')
        if self.resume and osp.exists(mined) and osp.exists(summary_file):
            self.runner.logger.info(f'OmniDistillLoop: mining already done ({mined})')
        else:
            model = self._model(primitive)
            labeled = copy.deepcopy(self.runner.cfg.train_dataloader.dataset)
            labeled['pipeline'] = self._eval_pipeline()
            loader = torch.utils.data.DataLoader(DATASETS.build(labeled), batch_size=cfg['batch_size'],
                                                 collate_fn=pseudo_collate)
            prototypes = class_prototypes(model, loader, len(self.classes))
            pool_cfg = dict(self.pool_cfg, test_mode=True)
            pool_cfg.setdefault('pipeline', self._eval_pipeline())
            pool = DATASETS.build(pool_cfg)
            miner = ReliableSampleMiner(model, prototypes, cfg['threshold'], cfg['min_similarity'],
                                        cfg['require_agreement'], cfg['flip_tta'])
            self.runner.logger.info(f'OmniDistillLoop: mining {len(pool)} pool faces')
            miner.mine(pool, self.path('mining'), cfg['batch_size'], cfg['num_workers'], cfg['flush_every'],
                       resume=self.resume)
            barrier()
            if is_main_process():
                _, world = get_dist_info()
                states = [json.load(open(self.path('mining', f'rank{r}.json'))) for r in range(world)]
                _, counts = select_mined(self.path('mining'), world, len(self.classes), cfg['max_per_class'],
                                         cfg['class_balance'], cfg['rank_by'])
                summary = dict(pool=len(pool), processed=sum(s['done'] for s in states),
                               skipped=sum(s['skipped'] for s in states),
                               candidates=sum(s['candidates'] for s in states), mined=sum(counts),
                               mined_per_class=dict(zip(self.classes, counts)))
                write_atomic(summary_file, json.dumps(summary, indent=2))
            barrier()
        with open(summary_file) as f:
            self.results['mining'] = json.load(f)
        self.runner.logger.info(f'OmniDistillLoop: mined {self.results["mining"]["mined"]} faces -> {mined}')
        return mined

    # stage 3 -------------------------------------------------------------------------------------
    def _mined_dataset(self, mined: str, pipeline: List[dict]) -> dict:
        return dict(type='FaceList', ann_file=mined, classes=self.classes, pipeline=pipeline)

    def run_distillation(self, primitive: str, mined: str) -> str:
        out_dir = self.path('distilled')
        ann = osp.join(out_dir, DISTILLED_FILE)
        if not self.results['mining']['mined']:
            self.runner.logger.warning(f'{mined} is empty: the primitive model was sure of no pool face (train it '
                                       'longer, or lower train_cfg.mining.threshold / min_similarity)')
        state_file = osp.join(out_dir, 'state.pth')
        done = self.resume and osp.exists(ann)
        if not done and is_main_process():
            os.makedirs(out_dir, exist_ok=True)
            for stale in (ann, ) if self.resume else (ann, state_file):
                if osp.exists(stale):
                    os.remove(stale)
        barrier()
        if not done and is_main_process():
            cfg = copy.deepcopy(self.distiller_cfg)
            pipeline = self._eval_pipeline()
            pipeline[0]['ignore_empty'] = False
            sources = [self._mined_dataset(mined, pipeline)] if self.results['mining']['mined'] else []
            if cfg.pop('include_labeled', True):
                sources.append(dict(copy.deepcopy(self.runner.cfg.train_dataloader.dataset), pipeline=pipeline))
            model = self._model(primitive).cpu()  # the distillers run on the CPU
            real = RealFaces(DATASETS.build(dict(type='ConcatDataset', datasets=sources, ignore_keys=['classes'])),
                             model.data_preprocessor, len(self.classes),
                             embed=lambda x: model.head.pre_logits(model.extract_feat(x)))
            distiller = TASK_UTILS.build(cfg)
            self.runner.logger.info(f'OmniDistillLoop: distilling {sum(len(c) for c in real.by_class)} real '
                                    f'faces into {distiller.ipc} per class with {type(distiller).__name__}')
            images = distiller.run(real, state_file)
            self._write_distilled(images, distiller.ipc, out_dir, real)
        elif not done:  # rank 0 distils (it may take longer than a collective's timeout): wait for its list
            while not osp.exists(ann):
                time.sleep(2)
        self.results['distilled'] = dict(ann_file=ann, grid=osp.join(out_dir, 'grid.png'))
        return ann

    def _write_distilled(self, images: torch.Tensor, ipc: int, out_dir: str, real: RealFaces) -> None:
        grid = write_distilled(images, ipc, self.classes, real.preprocess, out_dir)
        self.runner.visualizer.add_image('distilled_per_class', np.ascontiguousarray(grid[..., ::-1]))

    # stage 4 -------------------------------------------------------------------------------------
    def run_final(self, mined: str, distilled: str) -> None:
        cfg = self.final_cfg
        loader = copy.deepcopy(self.runner.cfg.train_dataloader)
        labeled = loader.dataset
        soft = cfg['use_mined'] and cfg['soft_mined']
        if soft:  # every sample needs a gt_score once one has: one-hot for the hard labels
            pipeline = labeled['pipeline']
            labeled['pipeline'] = [*pipeline[:-1], dict(type='LabelToScore', num_classes=len(self.classes)),
                                   pipeline[-1]]
        datasets = [labeled, dict(type='RepeatDataset', times=cfg['distilled_repeat'],
                                  dataset=dict(type='FaceList', data_root=osp.dirname(distilled),
                                               ann_file=DISTILLED_FILE, classes=self.classes,
                                               pipeline=labeled['pipeline']))]
        if cfg['use_mined'] and self.results['mining']['mined']:
            datasets.append(dict(self._mined_dataset(mined, labeled['pipeline']), soft_target=soft))
        loader.dataset = dict(type='ConcatDataset', datasets=datasets)
        updates = {k: v for k, v in cfg.items()
                   if k not in ('max_epochs', 'val_interval', 'distilled_repeat', 'use_mined', 'soft_mined')}
        self._train('final', cfg, dict(updates, train_dataloader=loader))


def build_primitive(cfg, checkpoint: str, device='cpu'):
    """The config's classifier (with its data preprocessor, as mmengine's Runner builds it) in eval mode,
    every weight from ``checkpoint`` (loaded strictly: a checkpoint of another model is an error)."""
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    model = MODELS.build(model_cfg)
    load_strict(model, checkpoint)
    return model.to(device).eval()


def eval_pipeline(cfg) -> List[dict]:
    """The config's validation pipeline, skipping unreadable images (``LoadFaceImage(ignore_empty=True)``)."""
    pipeline = copy.deepcopy(cfg.val_dataloader.dataset.pipeline)
    if pipeline and pipeline[0]['type'] in ('LoadFaceImage', 'mmfer.LoadFaceImage'):
        pipeline[0]['ignore_empty'] = True
    return pipeline


def write_distilled(images: torch.Tensor, ipc: int, classes, preprocess, out_dir: str) -> np.ndarray:
    """Write distilled images (class-major, in ``preprocess``'s output space) as PNG files that load back,
    through ``LoadFaceImage`` and ``preprocess``, to the same tensors up to 8-bit rounding; list them in
    ``distilled.txt`` and draw ``grid.png`` (a row per class). Returns the grid (BGR)."""
    if getattr(preprocess, '_enable_normalize', False):  # back to 0-255
        images = images * preprocess.std.cpu() + preprocess.mean.cpu()
    pixels = images.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    # mmpretrain's ClsDataPreprocessor says `to_rgb`, mmengine's ImgDataPreprocessor `_channel_conversion`
    if getattr(preprocess, 'to_rgb', False) or getattr(preprocess, '_channel_conversion', False):
        pixels = pixels[..., ::-1]  # RGB back to the BGR files were read as
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    lines, rows = [], []
    for c, name in enumerate(classes):
        row = []
        for k in range(ipc):
            rel = osp.join('images', f'{c}_{_slug(name)}_{k:03d}.png')
            cv2.imwrite(osp.join(out_dir, rel), np.ascontiguousarray(pixels[c * ipc + k]))
            lines.append(f'{rel}\t{c}\n')
            row.append(pixels[c * ipc + k])
        rows.append(_label_row(name, row))
    grid = np.concatenate(rows, axis=0)
    cv2.imwrite(osp.join(out_dir, 'grid.png'), grid)
    write_atomic(osp.join(out_dir, DISTILLED_FILE), ''.join(lines))
    return grid


def _slug(name: str) -> str:
    return ''.join(ch if ch.isalnum() else '_' for ch in name.lower())


def _label_row(name: str, images: List[np.ndarray], margin: int = 96) -> np.ndarray:
    """One grid row: the class name on the left, then the class's images."""
    h = images[0].shape[0]
    label = np.full((h, margin, 3), 255, np.uint8)
    cv2.putText(label, name[:10], (2, h // 2 + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([label] + list(images), axis=1)
