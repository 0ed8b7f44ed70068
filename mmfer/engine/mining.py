"""Method B's reliable-sample mining: streamed, sharded over ranks, resumable, written atomically."""
import copy
import heapq
import json
import math
import os
import os.path as osp
import statistics
import sys
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.dist import get_dist_info
from mmengine.utils import track_iter_progress
from torch.utils.data import DataLoader, Subset

from mmfer.datasets import skip_none_collate
from mmfer.registry import DATASETS, TASK_UTILS
from mmfer.utils.fileio import atomic_open, write_atomic

MINED_FILE = 'mined.txt'
# the keys of ``train_cfg.mining`` that the loop uses (selection and data loading); the rest build the miner
MINING_LOOP_DEFAULTS = dict(max_per_class=None, class_balance=None, rank_by='product', batch_size=256, num_workers=0,
                            flush_every=20)


def eval_pipeline(cfg) -> List[dict]:
    """The config's validation pipeline, skipping unreadable images (``LoadFaceImage(ignore_empty=True)``)."""
    pipeline = copy.deepcopy(cfg.val_dataloader.dataset.pipeline)
    if pipeline and pipeline[0]['type'] in ('LoadFaceImage', 'mmfer.LoadFaceImage'):
        pipeline[0]['ignore_empty'] = True
    return pipeline


def build_miner(cfg, checkpoint: str, device: Optional[str] = None,
                mining: Optional[dict] = None) -> 'ReliableSampleMiner':
    """Method B's miner for a config: its classifier with every weight from ``checkpoint``, the class
    prototypes of its labeled training set (read through :func:`eval_pipeline`), and the miner that
    ``mining`` (default: ``train_cfg.mining``) describes (a TASK_UTILS config, ``type='ReliableSampleMiner'``
    by default; the keys of :data:`MINING_LOOP_DEFAULTS` belong to the loop)."""
    from mmfer.apis import build_classifier  # here: mmpretrain.apis, under it, is slow to import
    mining = dict(cfg.train_cfg.get('mining') or {} if mining is None else mining)
    model = build_classifier(cfg, checkpoint, device)
    labeled = DATASETS.build(dict(copy.deepcopy(cfg.train_dataloader.dataset), pipeline=eval_pipeline(cfg)))
    loader = DataLoader(labeled, batch_size=mining.get('batch_size', MINING_LOOP_DEFAULTS['batch_size']),
                        collate_fn=pseudo_collate)
    prototypes = class_prototypes(model, loader, len(labeled.metainfo['classes']))
    miner_cfg = {k: v for k, v in mining.items() if k not in MINING_LOOP_DEFAULTS}
    miner_cfg.setdefault('type', 'ReliableSampleMiner')
    return TASK_UTILS.build(miner_cfg, default_args=dict(model=model, prototypes=prototypes))


def _features(model, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Logits and L2-normalised pre-logit features of an mmpretrain classifier, from one pass."""
    feats = model.extract_feat(inputs)
    emb = model.head.pre_logits(feats)
    logits = model.head.fc(emb) if hasattr(model.head, 'fc') else model.head(feats)
    return logits, F.normalize(emb.flatten(1), dim=1)


@torch.no_grad()
def class_prototypes(model, loader, num_classes: int) -> torch.Tensor:
    """The normalised mean feature of each class's labeled faces (rows of a ``(C, D)`` tensor)."""
    sums, counts = None, torch.zeros(num_classes)
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        _, emb = _features(model, data['inputs'])
        labels = torch.cat([s.gt_label for s in data['data_samples']]).cpu()
        emb = emb.cpu()
        sums = torch.zeros(num_classes, emb.shape[1]) if sums is None else sums
        sums.index_add_(0, labels, emb)
        counts += torch.bincount(labels, minlength=num_classes).float()
    if sums is None or (counts == 0).any():
        raise ValueError(f'labeled data has no sample of classes {torch.nonzero(counts == 0).flatten().tolist()}')
    return F.normalize(sums / counts[:, None], dim=1)


@TASK_UTILS.register_module()
class ReliableSampleMiner:
    """Keeps the pool faces the primitive model is sure of, and that look like their class.

    A face is a candidate for class ``c = argmax p`` when ``p_c >= threshold`` (confidence), its
    feature's cosine similarity to class ``c``'s labeled prototype is ``>= min_similarity``, and —
    with ``require_agreement`` — ``c`` is also its nearest prototype. Method B's paper names only
    "confidence" and "feature-wise similarity"; these rules and their defaults are mmfer's choice.

    With ``flip_tta`` the face and its mirror image are scored together (the multi-transform
    inference of omni-supervised data distillation, Radosavovic et al., CVPR 2018): confidence and
    class probabilities are the means of the two views', the feature the normalised mean of the
    two, and both views must predict the same class. It costs a second forward pass per face.

    Args:
        model: the primitive mmpretrain classifier (eval mode).
        prototypes: ``(C, D)`` from :func:`class_prototypes`.
        threshold: minimum softmax confidence.
        min_similarity: minimum cosine similarity to the predicted class's prototype.
        require_agreement: the nearest prototype must be the predicted class.
        flip_tta: score each face with its horizontal mirror as well.
    """

    def __init__(self, model, prototypes: torch.Tensor, threshold: float = 0.9, min_similarity: float = 0.5,
                 require_agreement: bool = True, flip_tta: bool = False):
        self.model, self.prototypes = model, prototypes
        self.threshold, self.min_similarity, self.require_agreement = threshold, min_similarity, require_agreement
        self.flip_tta = flip_tta

    @torch.no_grad()
    def score(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``pred, confidence, similarity, keep, probs`` (the class probabilities) for a preprocessed batch."""
        views = [inputs, inputs.flip(-1)] if self.flip_tta else [inputs]
        logits, emb = _features(self.model, torch.cat(views))
        probs, emb = logits.softmax(1).view(len(views), len(inputs), -1), emb.view(len(views), len(inputs), -1)
        views_agree = (probs.argmax(2) == probs[0].argmax(1)).all(0)
        probs, emb = probs.mean(0), F.normalize(emb.sum(0), dim=1)
        conf, pred = probs.max(1)
        sims = emb @ self.prototypes.to(emb).T
        sim = sims.gather(1, pred[:, None])[:, 0]
        keep = (conf >= self.threshold) & (sim >= self.min_similarity) & views_agree
        if self.require_agreement:
            keep &= sims.argmax(1) == pred
        return pred, conf, sim, keep, probs

    def mine(self, pool, out_dir: str, batch_size: int = 256, num_workers: int = 0, flush_every: int = 20,
             resume: bool = True) -> dict:
        """Score this rank's shard of ``pool`` (indices ``rank, rank + world, ...``), streaming candidates.

        Candidates go to ``rank<r>.tsv`` (``sample_idx, img_path, label, confidence, similarity,
        class probabilities`` — the last comma-separated, the soft target of ``soft_target`` training) in
        pool order; ``rank<r>.json`` records, after every ``flush_every`` batches, how much of the shard
        is done, the candidate file's length at that point and the faces skipped as unreadable. A
        resumed run truncates the file to that length and continues after the last recorded batch,
        so nothing is lost or written twice. Memory holds one chunk of batches, whatever the pool size.
        """
        rank, world = get_dist_info()
        os.makedirs(out_dir, exist_ok=True)
        rows_path, state_path = osp.join(out_dir, f'rank{rank}.tsv'), osp.join(out_dir, f'rank{rank}.json')
        shard = range(rank, len(pool), world)
        state = dict(world_size=world, done=0, bytes=0, skipped=0, candidates=0, finished=False)
        if resume and osp.exists(state_path):
            with open(state_path) as f:
                state = json.load(f)
            if state['world_size'] != world:
                raise RuntimeError(f'{state_path} was written by {state["world_size"]} processes; resume mining '
                                   f'with as many, or delete {out_dir} to mine again with {world}')
        with open(rows_path, 'a+b') as f:
            f.truncate(state['bytes'])
        if state['done'] >= len(shard):
            state['finished'] = True
            write_atomic(state_path, json.dumps(state))
            return state
        todo = shard[state['done']:]
        loader = DataLoader(Subset(pool, todo), batch_size=batch_size, num_workers=num_workers,
                            collate_fn=skip_none_collate, shuffle=False)
        if rank == 0:
            loader = track_iter_progress((loader, math.ceil(len(todo) / batch_size)), file=sys.stdout)
        lines: List[str] = []
        processed = skipped = 0

        def flush():
            with open(rows_path, 'ab') as f:
                f.write(''.join(lines).encode('utf-8'))
                f.flush()
                os.fsync(f.fileno())
                state['bytes'] = f.tell()
            state['done'] += processed
            state['skipped'] += skipped
            state['candidates'] += len(lines)
            write_atomic(state_path, json.dumps(state))

        for b, batch in enumerate(loader):
            expected = min(batch_size, len(todo) - b * batch_size)
            got = len(batch['data_samples']) if batch else 0
            processed, skipped = processed + expected, skipped + expected - got
            if got:
                data = self.model.data_preprocessor(batch, False)
                lines += self.rows(data['inputs'], data['data_samples'])
            if (b + 1) % flush_every == 0:
                flush()
                lines, processed, skipped = [], 0, 0
        flush()
        state['finished'] = True
        write_atomic(state_path, json.dumps(state))
        return state

    def rows(self, inputs: torch.Tensor, data_samples: Sequence) -> List[str]:
        """Candidate lines of one preprocessed batch."""
        pred, conf, sim, keep, probs = (t.cpu() for t in self.score(inputs))
        kept = torch.nonzero(keep).flatten().tolist()
        pred, conf, sim, probs = (t[keep].tolist() for t in (pred, conf, sim, probs))  # one copy, not one per row
        return [f'{data_samples[i].sample_idx}\t{data_samples[i].img_path}\t{p}\t{c:.6f}\t{s:.6f}\t'
                + ','.join(f'{v:.6f}' for v in ps) + '\n' for i, p, c, s, ps in zip(kept, pred, conf, sim, probs)]


def _read_candidates(out_dir: str, world: int) -> Iterator[Tuple[int, str, int, float, float, str]]:
    """Every rank's candidates, merged in pool order (the class probabilities as written)."""

    def read(rank):
        with open(osp.join(out_dir, f'rank{rank}.tsv'), encoding='utf-8') as f:
            for line in f:
                idx, path, label, conf, sim, probs = line.rstrip('\n').split('\t')
                yield int(idx), path, int(label), float(conf), float(sim), probs

    return heapq.merge(*(read(r) for r in range(world)))


def select_mined(out_dir: str, world: int, num_classes: int, max_per_class: Optional[int] = None,
                 class_balance: Optional[float] = None, rank_by: str = 'product') -> Tuple[str, List[int]]:
    """Apply the per-class caps to the candidates of ``world`` ranks and write ``mined.txt`` atomically.

    A class keeps at most ``max_per_class`` faces and, with ``class_balance = k``, at most ``k`` times
    the median candidate count of the classes that have any, so head classes do not swamp the others.
    (The median, not the rarest class: one class with a handful of candidates would cap every class
    at a handful.) Within a class the best by ``rank_by`` (``'confidence'``, ``'similarity'`` or their
    ``'product'``) are kept.
    The result lists faces in pool order and does not depend on the number of ranks.

    Returns:
        The path of the mined list (in :class:`~mmfer.datasets.FaceList` format) and its per-class counts.
    """
    key = dict(confidence=lambda c, s: c, similarity=lambda c, s: s, product=lambda c, s: c * s)[rank_by]
    counts = [0] * num_classes
    for _, _, label, *_ in _read_candidates(out_dir, world):
        counts[label] += 1
    caps = [max_per_class if max_per_class is not None else n for n in counts]
    if class_balance is not None and any(counts):
        median = statistics.median(n for n in counts if n)  # classes without candidates do not count
        caps = [min(cap, max(1, math.ceil(class_balance * median))) for cap in caps]
    out = osp.join(osp.dirname(out_dir.rstrip('/')), MINED_FILE)
    with atomic_open(out) as f:
        if all(cap >= n for cap, n in zip(caps, counts)):  # no cap binds: stream, whatever the size
            kept = _read_candidates(out_dir, world)
        else:  # the best `cap` of each class, held in one bounded heap per class
            best: List[list] = [[] for _ in range(num_classes)]
            for idx, path, label, conf, sim, probs in _read_candidates(out_dir, world):
                item = (key(conf, sim), -idx, path, label, conf, sim, probs)
                if len(best[label]) < caps[label]:
                    heapq.heappush(best[label], item)
                elif caps[label] and item > best[label][0]:
                    heapq.heapreplace(best[label], item)
            kept = sorted((-item[1], ) + item[2:] for heap in best for item in heap)
        for _, path, label, conf, sim, probs in kept:
            f.write(f'{path}\t{label}\t{conf:.6f}\t{sim:.6f}\t{probs}\n')
    return out, [min(cap, n) for cap, n in zip(caps, counts)]
