"""FERPlus: FER2013's 48x48 grey pixels with FERPlus's ten-annotator votes."""
import csv
import os.path as osp
from typing import List

import numpy as np

from mmfer.registry import DATASETS
from .base import AnnotationError, FERDataset, UniqueNames, face_box, iter_text

FERPLUS_CLASSES = ('neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt')
_USAGE = {'train': 'Training', 'val': 'PublicTest', 'test': 'PrivateTest'}


@DATASETS.register_module()
class FERPlus(FERDataset):
    """FERPlus, read from ``fer2013new.csv`` (votes) and ``fer2013.csv`` (pixels).

    The two CSVs are aligned row by row; rows whose ``Image name`` is empty have no
    usable image and are dropped; an image named twice, or a ``Usage`` that is none of FER2013's
    three, is an :class:`AnnotationError` naming the line. The label is the majority vote over the eight
    emotions; a sample is dropped when ``unknown`` or ``NF`` gets the most votes or
    when the top emotions tie. The vote distribution over the eight emotions is
    always stored as ``vote_dist``; with ``soft_target=True`` it is also the
    training target (``gt_score``, which mmpretrain's ``ClsHead`` then uses).

    Args:
        data_root: folder holding both CSVs.
        split: ``'train'`` (Training), ``'val'`` (PublicTest) or ``'test'`` (PrivateTest).
        ann_file: the FERPlus vote CSV, relative to ``data_root``.
        pixel_file: FER2013's pixel CSV, relative to ``data_root``.
        soft_target: train on the vote distribution instead of the majority label.
        **kwargs: see :class:`FERDataset`.
    """
    METAINFO = {'classes': FERPLUS_CLASSES}

    def __init__(self, data_root: str, split: str = 'train', ann_file: str = 'fer2013new.csv',
                 pixel_file: str = 'fer2013.csv', soft_target: bool = False, **kwargs):
        if split not in _USAGE:
            raise ValueError(f'split must be one of {list(_USAGE)}, got {split!r}')
        self.split = split
        self.pixel_file = pixel_file
        self.soft_target = soft_target
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_annotations(self) -> List[dict]:
        pixel_path = osp.join(self.data_root, self.pixel_file)
        if not osp.exists(pixel_path):
            raise FileNotFoundError(f'FERPlus: FER2013 pixel file not found: {pixel_path}')
        usage = _USAGE[self.split]
        data_list, names = [], UniqueNames(self.ann_file)
        votes, pixels = csv.reader(iter_text(self.ann_file)), csv.reader(iter_text(pixel_path))
        header = next(votes, [])
        if header[:2] != ['Usage', 'Image name'] or len(header) != 12:
            raise AnnotationError(self.ann_file, 1, f'unexpected FERPlus header {header}')
        next(pixels, None)
        for lineno, (vrow, prow) in enumerate(zip(votes, pixels), 2):
            if len(vrow) != 12:
                raise AnnotationError(self.ann_file, lineno, f'expected 12 columns, got {len(vrow)}')
            if vrow[0] not in _USAGE.values():
                raise AnnotationError(self.ann_file, lineno, f'usage {vrow[0]!r} names no split '
                                      f'({", ".join(_USAGE.values())})')
            if not vrow[1].strip():
                continue
            names.add(vrow[1], lineno)
            if vrow[0] != usage:
                continue
            try:
                v = np.array([float(x) for x in vrow[2:]], dtype=np.float32)
            except ValueError:
                raise AnnotationError(self.ann_file, lineno, f'non-numeric votes {vrow[2:]}') from None
            top = np.flatnonzero(v == v.max())
            if v.max() <= 0 or top.max() >= 8 or len(top) > 1:  # unknown / no-face / tie
                continue
            try:
                img = np.array(prow[1].split(), dtype=np.uint8).reshape(48, 48)
            except (IndexError, ValueError):
                raise AnnotationError(pixel_path, lineno, 'expected 48*48 grey pixel values') from None
            dist = v[:8] / v[:8].sum()
            info = dict(img=img, img_path=vrow[1], gt_label=int(top[0]), vote_dist=dist, sample_id=vrow[1],
                        gt_bboxes=face_box(0, 0, 48, 48))
            if self.soft_target:
                info['gt_score'] = dist
            data_list.append(info)
        return data_list
