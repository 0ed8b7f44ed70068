"""Label-ratio splits: drawn once, saved, and read by every later stage.

The public code of method A redraws its labeled subset in each stage with another random
state, so stage III can see more than ``p`` % of the labels. Here a split is a file.
"""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import numpy as np

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


def make_split(sample_ids: Sequence[str], labels: Sequence[int], classes: Sequence[str], ratio: float,
               seed: int, source: Dict) -> Dict:
    """A split record: the labeled ``sample_ids`` plus what is needed to audit it."""
    idx = stratified_split(labels, ratio, seed, len(classes))
    labels = np.asarray(labels)
    return dict(
        format=SPLIT_FORMAT, ratio=ratio, seed=seed, source=source, classes=list(classes),
        num_samples=len(sample_ids),
        class_counts={c: int((labels == i).sum()) for i, c in enumerate(classes)},
        labeled_counts={c: int((labels[idx] == i).sum()) for i, c in enumerate(classes)},
        labeled=[str(sample_ids[i]) for i in idx])


def split_dataset(dataset, ratio: float, seed: int, source: Dict) -> Dict:
    """:func:`make_split` of an mmfer FER dataset (built without a split file)."""
    ids = [dataset.get_data_info(i)['sample_id'] for i in range(len(dataset))]
    return make_split(ids, dataset.get_gt_labels(), dataset.CLASSES, ratio, seed, source)


def save_split(split: Dict, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(split, f, indent=1)
    os.replace(tmp, path)


def load_split(path: str) -> Dict:
    """Read a split file, with a clear error when it is missing or not a split."""
    if not osp.exists(path):
        raise FileNotFoundError(f'split file not found: {path} (draw one with tools/data/make_split.py)')
    with open(path) as f:
        try:
            split = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not a JSON split file ({e})') from None
    if split.get('format') != SPLIT_FORMAT or not isinstance(split.get('labeled'), list):
        raise ValueError(f"{path}: not an mmfer split file (format {split.get('format')!r})")
    return split

