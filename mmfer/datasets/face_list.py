"""A labeled list of face images: method B's mined set and its distilled images."""
import os.path as osp
from typing import List, Sequence

import numpy as np

from mmfer.registry import DATASETS
from .base import AnnotationError, FERDataset, UniqueNames, read_lines


@DATASETS.register_module()
class FaceList(FERDataset):
    """Faces listed one per line as ``<img_path>\\t<label>[\\t<confidence>\\t<similarity>[\\t<probs>]]``.

    Method B's miner writes its mined set in this format (``mined.txt``, paths as the pool
    dataset gives them — a file path, or ``<file>.rec@<offset>`` for a RecordIO pool — with the
    primitive model's confidence, prototype similarity and class probabilities, comma-separated),
    and its distiller writes the distilled images the same way (``distilled.txt``, paths relative
    to its folder). Relative paths are joined to ``data_root``/``data_prefix``; labels are 0-based
    indices into ``classes``. Extra columns are kept as ``confidence``, ``similarity`` and
    ``probs`` (a float32 array). A path listed twice is an :class:`AnnotationError` naming the line.

    Args:
        ann_file: the list file (relative to ``data_root``).
        classes: the class names (the labeled dataset's); the list gives only indices.
        soft_target: train on ``probs`` (as ``gt_score``, which mmpretrain's ``ClsHead`` then
            uses; see :class:`~mmfer.datasets.transforms.LabelToScore` for mixing with hard labels).
        **kwargs: see :class:`FERDataset`.
    """

    def __init__(self, ann_file: str, classes: Sequence[str], data_root: str = '', data_prefix: str = '',
                 soft_target: bool = False, **kwargs):
        self.soft_target = soft_target
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=tuple(classes))
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, metainfo=metainfo,
                         **kwargs)

    def load_annotations(self) -> List[dict]:
        num_classes = len(self.CLASSES)
        data_list, names = [], UniqueNames(self.ann_file)
        for lineno, line in read_lines(self.ann_file):
            parts = line.split('\t')
            try:
                assert len(parts) in (2, 4, 5)
                label = int(parts[1])
                scores = [float(v) for v in parts[2:4]]
                probs = np.array(parts[4].split(','), dtype=np.float32) if len(parts) == 5 else None
                assert probs is None or len(probs) == num_classes
            except (AssertionError, ValueError):
                raise AnnotationError(self.ann_file, lineno, 'expected "<img_path>\\t<label>[\\t<confidence>'
                                      f'\\t<similarity>[\\t<{num_classes} probabilities>]]", got {line!r}') from None
            if not 0 <= label < num_classes:
                raise AnnotationError(self.ann_file, lineno, f'unknown class id {label} ({num_classes} classes)')
            if self.soft_target and probs is None:
                raise AnnotationError(self.ann_file, lineno, 'soft_target=True needs class probabilities')
            names.add(parts[0], lineno, label)
            path = parts[0] if osp.isabs(parts[0]) else osp.join(self.img_prefix, parts[0])
            info = dict(img_path=path, gt_label=label, sample_id=parts[0])
            if scores:
                info.update(confidence=scores[0], similarity=scores[1])
            if probs is not None:
                info['probs'] = probs
                if self.soft_target:
                    info['gt_score'] = probs
            data_list.append(info)
        return data_list
