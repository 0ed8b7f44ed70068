"""Write a SynthFER data set to disk.

Layout (the labeled part is RAF-DB "basic"'s, so :class:`~mmfer.datasets.RAFDB` reads it)::

    <root>/EmoLabel/list_patition_label.txt   train_00001.jpg 4   (labels 1-7, RAF-DB order)
    <root>/Image/aligned/train_00001_aligned.jpg
    <root>/annotations/face_boxes.txt          train_00001 x1 y1 x2 y2   (mmfer's addition)
    <root>/annotations/clean_labels.txt        train_00001.jpg 4   (only with label noise)
    <root>/pool/images/pool_000001.jpg         unlabeled face pool
    <root>/pool/list.txt                       pool file list (relative to pool/)
    <root>/pool/hidden_truth.csv               filename,kind,label,identity (evaluation only)
    <root>/meta.json                           generator settings

Every image's random stream is derived from ``(seed, part, index)``, so the output
does not depend on the number of worker processes.
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import List, Sequence

import cv2
import numpy as np

from mmfer.utils.fileio import write_atomic
from .faces import CLASSES, PROTOTYPES, Identity, render

#: RAF-DB basic's training-set class shares (12,271 images), in CLASSES order.
RAFDB_PRIOR = (1290, 281, 717, 4772, 1982, 705, 2524)
#: A face-recognition crawl is mostly neutral and smiling.
POOL_PRIOR = (0.06, 0.02, 0.03, 0.30, 0.07, 0.07, 0.45)

_PARTS = {'train': 1, 'test': 2, 'pool': 3}
_DISTRACTORS = ('nonface', 'occluded', 'tiny')


@dataclass
class SynthFERConfig:
    """Generator settings (all saved to ``meta.json``).

    Args:
        num_train / num_test / num_pool: images per part.
        img_size: output side in pixels.
        num_identities: people in the labeled part (train and test are identity-disjoint).
        num_pool_identities: people in the pool (disjoint from the labeled part).
        class_prior: labeled class shares (RAF-DB's by default).
        pool_prior: pool class shares among real faces.
        intensity: (low, high) of the expression intensity; low intensity drifts to neutral.
        au_noise: std of per-sample noise added to the action units.
        occlusion_p: chance of a light occlusion (10-30 % of the face) on a labeled image.
        distractor_frac: share of pool images that are non-faces, heavy occlusions or tiny faces.
        label_noise: share of training labels flipped to another class (clean labels kept aside).
    """
    num_train: int = 3000
    num_test: int = 1000
    num_pool: int = 10000
    img_size: int = 64
    num_identities: int = 240
    num_pool_identities: int = 600
    class_prior: Sequence[float] = RAFDB_PRIOR
    pool_prior: Sequence[float] = POOL_PRIOR
    intensity: Sequence[float] = (0.4, 1.0)
    au_noise: float = 0.1
    occlusion_p: float = 0.1
    distractor_frac: float = 0.15
    label_noise: float = 0.0
    seed: int = 0


def _identity(cfg: SynthFERConfig, part: str, k: int) -> Identity:
    group = 1 if part == 'pool' else 0
    return Identity.sample(np.random.default_rng([cfg.seed, 100 + group, k]))


def _expression(rng: np.random.Generator, cfg: SynthFERConfig, label: int, ident: Identity) -> np.ndarray:
    lo, hi = cfg.intensity
    t = lo + (hi - lo) * rng.beta(2.0, 1.3)
    return t * PROTOTYPES[label] + ident.resting + rng.normal(0, cfg.au_noise, PROTOTYPES.shape[1])


def _identity_of(cfg: SynthFERConfig, part: str, i: int, rng: np.random.Generator) -> int:
    if part == 'pool':
        return int(rng.integers(cfg.num_pool_identities))
    n_test = max(1, cfg.num_identities // 4)
    if part == 'test':
        return cfg.num_identities - n_test + int(rng.integers(n_test))
    return int(rng.integers(cfg.num_identities - n_test))


def make_sample(cfg: SynthFERConfig, part: str, i: int, label: int) -> dict:
    """Render image ``i`` of ``part`` with expression ``label``; deterministic in its arguments."""
    rng = np.random.default_rng([cfg.seed, _PARTS[part], i])
    pid = _identity_of(cfg, part, i, rng)
    ident = _identity(cfg, part, pid)
    kind = 'face'
    if part == 'pool' and rng.random() < cfg.distractor_frac:
        kind = _DISTRACTORS[int(rng.integers(len(_DISTRACTORS)))]
    au = _expression(rng, cfg, label, ident)
    kwargs = dict(size=cfg.img_size, occlusion=rng.uniform(0.1, 0.3) if rng.random() < cfg.occlusion_p else 0.0)
    if kind == 'nonface':
        img, box = render(rng, None, None, clutter=10, **kwargs)
        label, pid = -1, -1
    elif kind == 'occluded':
        kwargs['occlusion'] = rng.uniform(0.6, 0.9)
        img, box = render(rng, ident, au, **kwargs)
    elif kind == 'tiny':
        img, box = render(rng, ident, au, face_scale=(0.07, 0.11), **kwargs)
    else:
        img, box = render(rng, ident, au, **kwargs)
    return dict(img=img, box=box, label=label, identity=pid, kind=kind)


def _labels(cfg: SynthFERConfig, part: str, n: int) -> np.ndarray:
    prior = np.asarray(cfg.pool_prior if part == 'pool' else cfg.class_prior, dtype=np.float64)
    rng = np.random.default_rng([cfg.seed, 10 + _PARTS[part]])
    return rng.choice(len(CLASSES), size=n, p=prior / prior.sum())


def _write_chunk(args) -> List[dict]:
    cfg, part, indices, labels, img_dir, names = args
    rows = []
    for i, label, name in zip(indices, labels, names):
        s = make_sample(cfg, part, int(i), int(label))
        cv2.imwrite(osp.join(img_dir, name), cv2.cvtColor(s['img'], cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        s.pop('img')
        rows.append(s)
    return rows


def _render_part(cfg: SynthFERConfig, part: str, n: int, img_dir: str, names: List[str], workers: int,
                 progress: bool) -> List[dict]:
    os.makedirs(img_dir, exist_ok=True)
    labels = _labels(cfg, part, n)
    chunk = 200
    jobs = [(cfg, part, range(a, min(a + chunk, n)), labels[a:a + chunk], img_dir, names[a:a + chunk])
            for a in range(0, n, chunk)]
    rows: List[dict] = []
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        print(f'SynthFER: rendering {n} {part} images')
        bar = ProgressBar(n)
    if workers > 1:
        with get_context('fork').Pool(workers) as pool:
            for res in pool.imap(_write_chunk, jobs):
                rows += res
                if bar:
                    bar.update(len(res))
    else:
        for job in jobs:
            res = _write_chunk(job)
            rows += res
            if bar:
                bar.update(len(res))
    if bar:
        print()
    return rows


def generate(root: str, cfg: SynthFERConfig, workers: int = 1, progress: bool = True) -> dict:
    """Write the whole data set under ``root`` and return its ``meta.json`` content.

    If ``root/meta.json`` already records the same settings, nothing is redone.
    """
    meta = dict(generator='SynthFER', version=2, classes=list(CLASSES), config=asdict(cfg))
    meta_path = osp.join(root, 'meta.json')
    if osp.exists(meta_path):
        with open(meta_path) as f:
            if json.load(f) == json.loads(json.dumps(meta)):
                return meta
    for sub in ('EmoLabel', 'annotations', 'pool'):
        os.makedirs(osp.join(root, sub), exist_ok=True)

    label_lines, box_lines, clean_lines = [], [], []
    flip_rng = np.random.default_rng([cfg.seed, 99])
    for part, n in (('train', cfg.num_train), ('test', cfg.num_test)):
        stems = [f'{part}_{i + 1:05d}' for i in range(n)]
        rows = _render_part(cfg, part, n, osp.join(root, 'Image', 'aligned'), [s + '_aligned.jpg' for s in stems],
                            workers, progress)
        for stem, row in zip(stems, rows):
            label = row['label']
            clean_lines.append(f'{stem}.jpg {label + 1}')
            if part == 'train' and flip_rng.random() < cfg.label_noise:
                label = int((label + flip_rng.integers(1, len(CLASSES))) % len(CLASSES))
            label_lines.append(f'{stem}.jpg {label + 1}')
            box_lines.append(stem + ' ' + ' '.join(f'{v:.2f}' for v in row['box']))
    write_atomic(osp.join(root, 'EmoLabel', 'list_patition_label.txt'), '\n'.join(label_lines) + '\n')
    write_atomic(osp.join(root, 'annotations', 'face_boxes.txt'), '\n'.join(box_lines) + '\n')
    if cfg.label_noise > 0:
        write_atomic(osp.join(root, 'annotations', 'clean_labels.txt'), '\n'.join(clean_lines) + '\n')

    names = [f'pool_{i + 1:06d}.jpg' for i in range(cfg.num_pool)]
    rows = _render_part(cfg, 'pool', cfg.num_pool, osp.join(root, 'pool', 'images'), names, workers, progress)
    truth = ['filename,kind,label,identity'] + [
        f'images/{n},{r["kind"]},{r["label"]},{r["identity"]}' for n, r in zip(names, rows)]
    write_atomic(osp.join(root, 'pool', 'list.txt'), '\n'.join(f'images/{n}' for n in names) + '\n')
    write_atomic(osp.join(root, 'pool', 'hidden_truth.csv'), '\n'.join(truth) + '\n')
    write_atomic(meta_path, json.dumps(meta, indent=1))
    return meta
