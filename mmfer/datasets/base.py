"""Shared behaviour of mmfer's labeled FER datasets: split files and clear annotation errors."""
import os.path as osp
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from mmfer.registry import TRANSFORMS
from .splits import check_split, load_split

_MAX_WORKERS = 256
_MAX_LOGGED = 20  # skipped files named in the log, per process


class AnnotationError(ValueError):
    """A malformed annotation, reported with its file and line."""

    def __init__(self, path: str, lineno: Optional[int], msg: str):
        where = f'{path}:{lineno}' if lineno is not None else path
        super().__init__(f'{where}: {msg}')


def iter_text(path: str) -> Iterator[str]:
    """The lines of a UTF-8 text file (a leading BOM dropped), read one at a time.

    Raises:
        AnnotationError: a byte that is not UTF-8, naming ``path:line``.
    """
    with open(path, 'rb') as f:
        for lineno, raw in enumerate(f, 1):
            try:
                yield raw.decode('utf-8-sig' if lineno == 1 else 'utf-8')
            except UnicodeDecodeError as e:
                raise AnnotationError(path, lineno, f'byte 0x{raw[e.start]:02x} at column {e.start + 1} is not '
                                      'UTF-8; save the file as UTF-8') from None


def read_lines(path: str) -> Iterator[Tuple[int, str]]:
    """``(lineno, stripped line)`` of a UTF-8 text file (see :func:`iter_text`), skipping blank lines."""
    for lineno, line in enumerate(iter_text(path), 1):
        line = line.strip()
        if line:
            yield lineno, line


class UniqueNames:
    """Remembers where each sample name was listed; a name listed twice is an :class:`AnnotationError`."""

    def __init__(self, path: str):
        self.path, self.first = path, {}

    def add(self, name: str, lineno: int, label=None) -> None:
        if name in self.first:
            line, old = self.first[name]
            also = f' with another label ({old} there, {label} here)' if label != old else ''
            raise AnnotationError(self.path, lineno, f'{name!r} is listed twice (first at line {line}){also}')
        self.first[name] = (lineno, label)


class SkipCounter:
    """Counts (and names in the log, up to 20 per process) the samples a dataset skips.

    One slot per loader worker (slot 0: the main process) in shared memory, so the count is
    summed over workers and no two processes race on one slot.
    """

    def _init_skip_counter(self) -> None:
        self._skipped = torch.zeros(_MAX_WORKERS + 1, dtype=torch.int64).share_memory_()

    def count_skip(self, path: str, why: str) -> None:
        worker = torch.utils.data.get_worker_info()
        slot = 0 if worker is None else 1 + worker.id % _MAX_WORKERS
        self._skipped[slot] += 1
        if self._skipped[slot] <= _MAX_LOGGED:
            tail = ' (further skips are only counted)' if self._skipped[slot] == _MAX_LOGGED else ''
            print_log(f'{type(self).__name__}: skipping {path}: {why}{tail}', 'current', level=30)

    @property
    def num_skipped(self) -> int:
        """Samples skipped so far, in this process and its loader workers."""
        return int(self._skipped.sum())


class FERDataset(SkipCounter, BaseDataset):
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
        self._init_skip_counter()
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
        check_split(split, self.split_file, type(self).__name__, self.ann_file, self.CLASSES,
                    [d['sample_id'] for d in data_list], [d['gt_label'] for d in data_list])
        chosen = set(split['labeled'])
        keep = self.split_part == 'labeled'
        return [d for d in data_list if (d['sample_id'] in chosen) == keep]

    def prepare_data(self, idx: int) -> Optional[dict]:
        """mmengine's, counting a sample whose pipeline gives ``None`` (``LoadFaceImage(ignore_empty=True)``)."""
        data = super().prepare_data(idx)
        if data is None:
            self.count_skip(self.get_data_info(idx).get('img_path'), 'unreadable image (ignore_empty=True)')
        return data


def face_box(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """A face box in the ``gt_bboxes`` layout mmcv's transforms update."""
    return np.array([[x1, y1, x2, y2]], dtype=np.float32)
