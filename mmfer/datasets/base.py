"""Shared behaviour of mmfer's labeled FER datasets: split files and clear annotation errors."""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmfer.registry import TRANSFORMS
from .splits import load_split


class AnnotationError(ValueError):
    """A malformed annotation, reported with its file and line."""

    def __init__(self, path: str, lineno: Optional[int], msg: str):
        where = f'{path}:{lineno}' if lineno is not None else path
        super().__init__(f'{where}: {msg}')


class FERDataset(BaseDataset):
    """Base of the labeled FER datasets.

    Subclasses implement :meth:`load_annotations`, returning one dict per image with
    ``img_path`` (or ``img``), ``gt_label``, a stable ``sample_id`` and, when known,
    ``gt_bboxes`` — the face box as a ``(1, 4)`` float32 ``x1, y1, x2, y2`` array in
    pixels. The box uses mmcv's ``gt_bboxes`` key so that mmcv's ``Resize`` and
    ``RandomFlip`` keep it in step with the image.

    Args:
        split_file: a label-ratio split written by ``tools/data/make_split.py``.
            Every stage of a run reads the same file; it is never redrawn.
        split_part: ``'labeled'`` keeps the split's samples, ``'unlabeled'`` the rest
            (their labels are then only for evaluation).
        **kwargs: :class:`mmpretrain.datasets.BaseDataset` arguments.
    """

    def __init__(self, *args, split_file: Optional[str] = None, split_part: str = 'labeled', **kwargs):
        if split_part not in ('labeled', 'unlabeled'):
            raise ValueError(f"split_part must be 'labeled' or 'unlabeled', got {split_part!r}")
        self.split_file = split_file
        self.split_part = split_part
        # built here so mmfer transforms resolve without a default scope (tests, notebooks)
        kwargs['pipeline'] = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in kwargs.get('pipeline', ())]
        super().__init__(*args, **kwargs)

    def load_annotations(self) -> List[dict]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(f'{type(self).__name__}: annotation file not found: {self.ann_file}')
        data_list = self.load_annotations()
        if self.split_file is None:
            return data_list
        split = load_split(self.split_file)
        chosen = set(split['labeled'])
        present = {d['sample_id'] for d in data_list}
        missing = chosen - present
        if missing:
            raise ValueError(f'{self.split_file}: {len(missing)} labeled samples are not in '
                             f'{self.ann_file} (e.g. {sorted(missing)[:3]}); was the split drawn '
                             'for another dataset or subset?')
        keep = self.split_part == 'labeled'
        return [d for d in data_list if (d['sample_id'] in chosen) == keep]

    def read_lines(self, path: str):
        """Yield ``(lineno, stripped line)`` of a text file, skipping blank lines."""
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if line:
                    yield lineno, line


def face_box(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """A face box in the ``gt_bboxes`` layout mmcv's transforms update."""
    return np.array([[x1, y1, x2, y2]], dtype=np.float32)

