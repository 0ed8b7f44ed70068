"""Label-ratio splits: drawn once, saved, and read by every later stage.

The public code of method A redraws its labeled subset in each stage with another random
state, so stage III can see more than ``p`` % of the labels. Here a split is a file.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from mmfer.utils.fileio import atomic_open

SPLIT_FORMAT = 'mmfer-split-v1'


def per_class_quota(count: int, ratio: float) -> int:
    """``round(ratio * count)`` rounding halves up, and at least 1."""
    return max(1, int(np.floor(ratio * count + 0.5)))


def stratified_split(labels: Sequence[int], ratio: float, seed: int, num_classes: int) -> np.ndarray:
    """Indices of a stratified labeled subset.

    Each class ``c`` with ``n_c`` samples contributes :func:`per_class_quota` ``(n_c, ratio)``
    samples drawn without replacement by ``numpy.random.default_rng(seed)``.

    Raises:
        ValueError: ``ratio`` outside ``(0, 1]`` or a class without any sample.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f'label ratio must be in (0, 1], got {ratio}')
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        if idx.size == 0:
            raise ValueError(f'class {c} has no samples, so a split cannot hold at least one of it')
        chosen.append(rng.choice(idx, per_class_quota(idx.size, ratio), replace=False))
    return np.sort(np.concatenate(chosen))


def data_digest(sample_ids: Sequence[str], labels: Sequence[int]) -> str:
    """SHA-1 of the sorted ``id<TAB>label`` lines: the same names with other labels (data drawn or
    relabelled anew) give another digest."""
    lines = sorted(f'{i}\t{int(label)}' for i, label in zip(sample_ids, labels))
    return hashlib.sha1('\n'.join(lines).encode('utf-8')).hexdigest()


def make_split(sample_ids: Sequence[str], labels: Sequence[int], classes: Sequence[str], ratio: float,
               seed: int, source: Dict) -> Dict:
    """A split record: the labeled ``sample_ids`` plus what is needed to audit it.

    ``source`` says what it was drawn from (``type``, ``data_root``, ``ann_file``); ``num_samples``,
    ``class_counts`` and ``digest`` (:func:`data_digest`) are checked against the data whenever the
    split is read (:func:`check_split`).
    """
    idx = stratified_split(labels, ratio, seed, len(classes))
    labels = np.asarray(labels)
    return dict(
        format=SPLIT_FORMAT, ratio=ratio, seed=seed, source=source, classes=list(classes),
        num_samples=len(sample_ids), digest=data_digest(sample_ids, labels),
        class_counts={c: int((labels == i).sum()) for i, c in enumerate(classes)},
        labeled_counts={c: int((labels[idx] == i).sum()) for i, c in enumerate(classes)},
        labeled=[str(sample_ids[i]) for i in idx])


def split_dataset(dataset, ratio: float, seed: int, source: Optional[Dict] = None) -> Dict:
    """:func:`make_split` of an mmfer FER dataset (built without a split file); the source records
    the dataset's type, ``data_root`` and ``ann_file`` (plus ``source``'s entries)."""
    ids = [dataset.get_data_info(i)['sample_id'] for i in range(len(dataset))]
    source = dict(type=type(dataset).__name__, data_root=dataset.data_root, ann_file=dataset.ann_file,
                  **(source or {}))
    return make_split(ids, dataset.get_gt_labels(), dataset.CLASSES, ratio, seed, source)


def save_split(split: Dict, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path) as f:
        json.dump(split, f, indent=1)


def load_split(path: str) -> Dict:
    """Read a split file, with a clear error when it is missing or not a split."""
    if not osp.exists(path):
        raise FileNotFoundError(f'split file not found: {path} (draw one with tools/data/make_split.py)')
    with open(path, encoding='utf-8-sig') as f:
        try:
            split = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f'{path}: not a JSON split file ({e})') from None
    if not isinstance(split, dict):
        raise ValueError(f'{path}: not an mmfer split file (a JSON {type(split).__name__}, not an object)')
    if split.get('format') != SPLIT_FORMAT:
        raise ValueError(f"{path}: not an mmfer split file (format {split.get('format')!r})")
    labeled = split.get('labeled')
    if not isinstance(labeled, list) or not all(isinstance(i, str) for i in labeled):
        raise ValueError(f"{path}: 'labeled' must be a list of sample ids")
    if not labeled:
        raise ValueError(f"{path}: the 'labeled' list is empty")
    if len(set(labeled)) != len(labeled):
        raise ValueError(f"{path}: 'labeled' lists {len(labeled) - len(set(labeled))} sample ids twice")
    return split


def check_split(split: Dict, path: str, dataset_type: str, ann_file: str, classes: Sequence[str],
                sample_ids: Sequence[str], labels: Sequence[int]) -> None:
    """Raise ``ValueError`` naming ``path`` when the split was not drawn from this data.

    Checked: the source dataset type, the classes, the sample count, the per-class counts, the
    :func:`data_digest` (ids and labels) and that every labeled id is present.
    """
    where = f'{path}: the split was drawn for other data than {dataset_type} at {ann_file}'
    drawn_type = str((split.get('source') or {}).get('type', dataset_type)).split('.')[-1]
    if drawn_type != dataset_type:
        raise ValueError(f'{where}: it was drawn from a {drawn_type}')
    if 'classes' in split and list(split['classes']) != list(classes):
        raise ValueError(f"{where}: its classes are {split['classes']}, the dataset's {list(classes)}")
    if 'num_samples' in split and split['num_samples'] != len(sample_ids):
        raise ValueError(f"{where}: it was drawn from {split['num_samples']} samples, the data holds "
                         f'{len(sample_ids)}')
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    drawn = split.get('class_counts')
    if drawn is not None and [drawn.get(c) for c in classes] != counts.tolist():
        raise ValueError(f'{where}: its class counts are {drawn}, the data has '
                         f'{dict(zip(classes, counts.tolist()))}')
    if 'digest' in split and split['digest'] != data_digest(sample_ids, labels):
        raise ValueError(f'{where}: the sample ids or labels differ (digest {split["digest"][:12]}, '
                         f'the data {data_digest(sample_ids, labels)[:12]})')
    missing = set(split['labeled']) - set(sample_ids)
    if missing:
        raise ValueError(f'{path}: {len(missing)} labeled samples are not in {ann_file} (e.g. '
                         f'{sorted(missing)[:3]}); was the split drawn for another dataset or subset?')
