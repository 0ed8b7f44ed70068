"""``OmniDistillLoop``: method B (primitive model -> mining -> distillation -> final model) in one run."""
import copy
import hashlib
import json
import os
import os.path as osp
import time
from typing import Dict, Iterable, List, Optional

import numpy as np
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.runner import BaseLoop, Runner, find_latest_checkpoint

from mmfer.apis import build_classifier
from mmfer.engine.mining import MINED_FILE, MINING_LOOP_DEFAULTS, build_miner, eval_pipeline, select_mined
from mmfer.models.distillers import DISTILLED_FILE, RealFaces, write_distilled
from mmfer.registry import DATASETS, LOOPS, TASK_UTILS
from mmfer.utils.fileio import write_atomic
from mmfer.visualization import plot_curves

FINAL_KEYS = ('max_epochs', 'val_interval', 'distilled_repeat', 'use_mined', 'soft_mined', 'from_primitive')
# the keys of the run's config that a trained stage's weights and metrics follow from (with the stage's own)
STAGE_KEYS = ('model', 'train_dataloader', 'optim_wrapper', 'param_scheduler', 'randomness', 'val_dataloader',
              'val_evaluator')


def check_fresh(done: str, sources: Iterable[Optional[str]]) -> None:
    """Refuse to reuse a finished stage's file ``done`` (under ``--resume``) made before one of the files it was
    made from changed (a retrained primitive, a redone distillation): its result would not follow from them."""
    for source in sources:
        if source and osp.exists(source) and osp.getmtime(source) > osp.getmtime(done):
            raise RuntimeError(f'{done} is older than {source}, which it was made from: delete {osp.dirname(done)} '
                               'to redo that stage, or run without --resume')


def plot_loss(distiller, out: str) -> None:
    """The distiller's matching loss per iteration (a moving average of up to 20) as the PNG ``out``."""
    steps = np.arange(1, len(distiller.losses) + 1)
    values = np.asarray(distiller.losses, np.float64)
    name = f'{type(distiller).__name__} loss (ipc {distiller.ipc})'
    plot_curves({name: (steps, values)}, [name], out, smooth=min(20, max(1, len(values) // 5)))


@LOOPS.register_module()
class OmniDistillLoop(BaseLoop):
    """Method B as a training loop: every stage leaves files the next one reads.

    ``tools/train.py CONFIG`` with ``train_cfg = dict(type='OmniDistillLoop', ...)`` runs, under the
    run's ``work_dir``:

    1. ``primitive/`` — the config's model trained on its ``train_dataloader`` (the labeled split) by
       an mmengine Runner with an ``EpochBasedTrainLoop`` (``primitive=dict(max_epochs=...)``), or a
       given ``primitive=dict(checkpoint=...)``; its weights end in ``primitive/primitive.pth`` and
       its test metrics in ``primitive/metrics.json``.
    2. ``mining/`` — every rank scores its shard of the ``pool`` dataset with the miner of ``mining``
       (:func:`~mmfer.engine.mining.build_miner`), streaming candidates to disk; rank 0
       applies the per-class caps and writes ``mined.txt`` atomically (a
       :class:`~mmfer.datasets.FaceList`) and ``mining/summary.json``.
    3. ``distilled/`` — the ``distiller`` (``DistributionMatching`` by default) compresses the mined
       faces — and the labeled ones, unless ``include_labeled=False``, so that a class the primitive
       model never mined still has real faces — into ``ipc`` images per class: PNGs, ``distilled.txt``
       (a ``FaceList``), ``grid.png`` (a row per class, also sent to the visualizer's backends),
       ``loss.png`` (the matching loss per iteration). Other
       ranks wait for rank 0's list at most ``wait_timeout`` seconds (distillation can outlast a
       collective's timeout), then fail naming it.
    4. ``final/`` — a fresh model of the same config (or the primitive, ``from_primitive``) trained on
       labeled + distilled (repeated ``distilled_repeat`` times; + mined with ``use_mined``, on the
       primitive's class probabilities with ``soft_mined``), with the config's metrics in
       ``final/metrics.json``.

    With ``--resume`` every stage continues where it stopped: the primitive and final runs from
    their last checkpoints (mmengine's resume), mining from its last recorded chunk, distillation
    from its last saved state; finished stages are skipped. A finished stage made before the files it
    was made from changed (a retrained primitive, a redone distillation), or a trained stage whose
    settings differ, fails the run naming its directory. Without it every stage runs afresh.
    The outer runner's ``before_train`` / ``after_train`` hooks are called around the stages, as
    mmengine's loops do.

    Args:
        runner: the mmengine Runner.
        dataloader: the labeled training data (the config's ``train_dataloader``).
        pool: the unlabeled pool, an ``UnlabeledFaces`` config; its ``pipeline`` defaults to the
            validation pipeline (with unreadable images skipped and counted).
        primitive: ``max_epochs`` and ``val_interval`` of the primitive run, or ``checkpoint``.
        mining: the miner, a TASK_UTILS config (``type='ReliableSampleMiner'`` by default, with its
            ``threshold``, ``min_similarity``, ``require_agreement``, ``flip_tta``), plus the loop's caps
            (``max_per_class``, ``class_balance``, ``rank_by``; see :func:`~mmfer.engine.mining.select_mined`)
            and ``batch_size``, ``num_workers``, ``flush_every``.
        distiller: a TASK_UTILS config (``DistributionMatching`` / ``GradientMatching``) plus
            ``include_labeled`` (default True); images have the validation pipeline's size, and
            ``init='typical'`` picks its starting faces in the primitive model's feature space.
        final: ``max_epochs``, ``val_interval``, ``distilled_repeat`` (default 1), ``use_mined``
            (default False), ``soft_mined`` (default False: the mined faces' targets are the
            primitive model's class probabilities instead of its hard labels; the other samples'
            labels become one-hot scores by ``LabelToScore``, inserted before the pipeline's last
            step, ``PackInputs``), ``from_primitive`` (default False: a fresh model; True fine-tunes the
            primitive, the cheap final of labeled + distilled faces); any other key replaces that
            top-level config key for the final
            run (e.g. ``param_scheduler``).
        wait_timeout: seconds the other ranks wait for rank 0's distillation.
    """

    def __init__(self, runner, dataloader, pool: dict, primitive: Optional[dict] = None,
                 mining: Optional[dict] = None, distiller: Optional[dict] = None, final: Optional[dict] = None,
                 wait_timeout: float = 24 * 3600):
        super().__init__(runner, dataloader)
        self.pool_cfg = copy.deepcopy(pool)
        self.primitive_cfg = {**dict(max_epochs=30, val_interval=None, checkpoint=None), **(primitive or {})}
        self.mining_cfg = {**MINING_LOOP_DEFAULTS, **(mining or {})}
        self.wait_timeout = wait_timeout
        self.distiller_cfg = copy.deepcopy(distiller or dict(type='DistributionMatching', ipc=10))
        self.final_cfg = {**dict(max_epochs=30, val_interval=None, distilled_repeat=1, use_mined=False,
                                 soft_mined=False, from_primitive=False),
                          **(final or {})}
        self.classes = tuple(self.dataloader.dataset.metainfo['classes'])
        self.resume = bool(runner.cfg.get('resume', False))  # tools/train.py --resume
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
        self.runner.call_hook('before_train')
        self.runner.logger.info(f'OmniDistillLoop: stages write under {self.runner.work_dir}')
        primitive = self.run_primitive()
        mined = self.run_mining(primitive)
        distilled = self.run_distillation(primitive, mined)
        self.run_final(mined, distilled, primitive)
        if is_main_process():
            write_atomic(self.path('results.json'), json.dumps(self.results, indent=2))
        self.runner.logger.info('OmniDistillLoop results: ' + json.dumps(self.results))
        self.runner.call_hook('after_train')
        return self.runner.model

    # stage 1 -------------------------------------------------------------------------------------
    def _sub_runner(self, name: str, max_epochs: int, val_interval: Optional[int], updates: dict,
                    load_from: Optional[str] = None) -> Runner:
        cfg = copy.deepcopy(self.runner.cfg)
        for key, value in updates.items():
            cfg[key] = value
        # without a val_interval the stage is evaluated once, after training (by _train), not also at its last epoch
        cfg.train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=val_interval or max_epochs + 1)
        cfg.work_dir = self.path(name)
        cfg.experiment_name = f'{self.runner.experiment_name}_{name}'
        # resume a stage from its own last checkpoint; a stage with none starts from load_from (mmengine would
        # otherwise resume load_from's epoch and optimiser: the primitive's 300 epochs, nothing left to train)
        cfg.resume = bool(self.resume and find_latest_checkpoint(cfg.work_dir))
        cfg.load_from = None if cfg.resume else load_from
        return Runner.from_cfg(cfg)

    def _stage_key(self, stage_cfg: dict, updates: dict, load_from: Optional[str]) -> str:
        """A digest of what a trained stage follows from: the run's :data:`STAGE_KEYS` with the stage's
        ``updates``, the stage's settings and its starting weights' path."""
        cfg = {k: self.runner.cfg.get(k) for k in STAGE_KEYS}
        text = json.dumps(dict(cfg, **updates, stage=stage_cfg, load_from=load_from), sort_keys=True,
                          default=lambda x: getattr(x, '__qualname__', None) or str(x))  # a function: by name
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _train(self, name: str, stage_cfg: dict, updates: dict, load_from: Optional[str] = None,
               sources: Iterable[Optional[str]] = ()) -> str:
        """Train (or resume) a stage's runner; return its weights file and record its metrics (with
        ``train_seconds``, the wall time of building the runner and training, and ``stage_key``).

        Under ``--resume`` a finished stage is reused only if it was trained with the same settings
        (:meth:`_stage_key`) and after ``load_from`` and the files in ``sources`` were last written; otherwise
        the run fails naming the stage's directory."""
        weights, metrics_file = self.path(name, f'{name}.pth'), self.path(name, 'metrics.json')
        key = self._stage_key(stage_cfg, updates, load_from)
        if self.resume and osp.exists(weights) and osp.exists(metrics_file):
            with open(metrics_file) as f:
                saved = json.load(f).get('stage_key', key)  # a stage finished before keys were recorded: accepted
            if saved != key:
                raise RuntimeError(f'{self.path(name)} was trained with other settings than this run asks for; '
                                   'delete it to train that stage afresh, or run without --resume')
            check_fresh(metrics_file, [load_from, *sources])
            self.runner.logger.info(f'OmniDistillLoop: {name} stage already done ({weights})')
        else:
            start = time.time()
            sub = self._sub_runner(name, stage_cfg['max_epochs'], stage_cfg['val_interval'], updates, load_from)
            sub.train()
            seconds = time.time() - start
            metrics = sub.val_loop.run() if sub.val_loop is not None else {}
            metrics['train_seconds'] = seconds
            sub.save_checkpoint(sub.work_dir, f'{name}.pth', save_optimizer=False, save_param_scheduler=False)
            if is_main_process():
                write_atomic(metrics_file, json.dumps(dict({k: float(v) for k, v in metrics.items()}, stage_key=key)))
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
    def _device(self):
        return next(self.runner.model.parameters()).device

    def run_mining(self, primitive: str) -> str:
        cfg = self.mining_cfg
        mined, summary_file = self.path(MINED_FILE), self.path('mining', 'summary.json')
        if self.resume and osp.exists(mined) and osp.exists(summary_file):
            check_fresh(summary_file, [primitive])
            self.runner.logger.info(f'OmniDistillLoop: mining already done ({mined})')
        else:
            miner = build_miner(self.runner.cfg, primitive, self._device(), self.mining_cfg)
            pool_cfg = dict(self.pool_cfg, test_mode=True)
            pool_cfg.setdefault('pipeline', eval_pipeline(self.runner.cfg))
            pool = DATASETS.build(pool_cfg)
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
        cfg = copy.deepcopy(self.distiller_cfg)
        include_labeled = cfg.pop('include_labeled', True)
        distiller = TASK_UTILS.build(cfg)
        done = self.resume and osp.exists(ann)
        if done and osp.exists(state_file):  # finished, but with these settings?
            distiller.check_state(state_file)
        if done:  # and from the mined faces and primitive of this run?
            check_fresh(ann, [mined, primitive])
        if not done and is_main_process():
            os.makedirs(out_dir, exist_ok=True)
            for stale in (ann, ) if self.resume else (ann, state_file):
                if osp.exists(stale):
                    os.remove(stale)
        barrier()
        if not done and is_main_process():
            real = self.real_faces(primitive, mined, include_labeled)
            self.runner.logger.info(f'OmniDistillLoop: distilling {sum(len(c) for c in real.by_class)} real '
                                    f'faces into {distiller.ipc} per class with {type(distiller).__name__}'
                                    + (f' ({distiller.faces_per_class} faces per class at 1/{distiller.factor} size)'
                                       if distiller.factor > 1 else ''))
            images = distiller.run(real, state_file)
            self._write_distilled(images, distiller.faces_per_class, out_dir, real)
            plot_loss(distiller, osp.join(out_dir, 'loss.png'))
        elif not done:  # rank 0 distils (it may take longer than a collective's timeout): wait for its list
            self._wait_for(ann)
        self.results['distilled'] = dict(ann_file=ann, grid=osp.join(out_dir, 'grid.png'),
                                         loss_curve=osp.join(out_dir, 'loss.png'))
        return ann

    def real_faces(self, primitive: str, mined: str, include_labeled: bool = True) -> RealFaces:
        """What the distiller compresses: the mined faces (+ the labeled ones), in the primitive model's input
        space on its device, with its pre-logits as the embedding of ``init='typical'``."""
        pipeline = eval_pipeline(self.runner.cfg)
        pipeline[0]['ignore_empty'] = False
        sources = [self._mined_dataset(mined, pipeline)] if os.path.getsize(mined) else []
        if include_labeled:
            sources.append(dict(copy.deepcopy(self.runner.cfg.train_dataloader.dataset), pipeline=pipeline))
        model = build_classifier(self.runner.cfg, primitive, self._device())  # the distiller follows its device
        return RealFaces(DATASETS.build(dict(type='ConcatDataset', datasets=sources, ignore_keys=['classes'])),
                         model.data_preprocessor, len(self.classes),
                         embed=lambda x: model.head.pre_logits(model.extract_feat(x)))

    def _wait_for(self, path: str) -> None:
        start = time.time()
        while not osp.exists(path):
            if time.time() - start > self.wait_timeout:
                raise TimeoutError(f'rank {get_dist_info()[0]} waited {self.wait_timeout:.0f} s for rank 0 to write '
                                   f'{path}; raise train_cfg.wait_timeout if distillation takes longer')
            time.sleep(min(2.0, self.wait_timeout / 10))

    def _write_distilled(self, images, ipc: int, out_dir: str, real: RealFaces) -> None:
        grid = write_distilled(images, ipc, self.classes, real.preprocess, out_dir)
        self.runner.visualizer.add_image('distilled_per_class', np.ascontiguousarray(grid[..., ::-1]))

    # stage 4 -------------------------------------------------------------------------------------
    def run_final(self, mined: str, distilled: str, primitive: Optional[str] = None, name: str = 'final',
                  **overrides) -> str:
        """Train the final model (``final`` settings, with ``overrides``) under ``<work_dir>/<name>/``."""
        cfg = {**self.final_cfg, **overrides}
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
        updates = {k: v for k, v in cfg.items() if k not in FINAL_KEYS}
        if cfg['from_primitive'] and not primitive:
            raise ValueError('final=dict(from_primitive=True) needs the primitive checkpoint')
        return self._train(name, cfg, dict(updates, train_dataloader=loader),
                           load_from=primitive if cfg['from_primitive'] else None, sources=[distilled, mined])
