"""RAF-DB (basic) and SynthFER, which is written in RAF-DB's layout."""
import os.path as osp
from typing import Dict, List, Optional

from mmfer.registry import DATASETS
from .base import AnnotationError, FERDataset, UniqueNames, face_box, read_lines

RAFDB_CLASSES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral')


@DATASETS.register_module()
class RAFDB(FERDataset):
    """RAF-DB basic: 7 expressions, split by the ``train_``/``test_`` file-name prefix.

    A name with neither prefix, or listed twice, is an :class:`AnnotationError` naming the line.

    Layout under ``data_root``::

        EmoLabel/list_patition_label.txt   # "train_00001.jpg 5", labels 1-7
        Image/aligned/train_00001_aligned.jpg

    Args:
        data_root: the RAF-DB ``basic`` folder.
        split: ``'train'`` or ``'test'``.
        ann_file: the label list, relative to ``data_root``.
        data_prefix: image folder, relative to ``data_root``.
        face_box_file: optional ``"<stem> x1 y1 x2 y2"`` lines giving face boxes;
            without it samples carry no box (RAF-DB's aligned crops are whole faces).
        **kwargs: see :class:`FERDataset`.
    """
    METAINFO = {'classes': RAFDB_CLASSES}

    def __init__(self, data_root: str, split: str = 'train',
                 ann_file: str = 'EmoLabel/list_patition_label.txt',
                 data_prefix: str = 'Image/aligned', face_box_file: Optional[str] = None, **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split
        self.face_box_file = face_box_file
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def _load_boxes(self) -> Dict[str, tuple]:
        path = osp.join(self.data_root, self.face_box_file)
        boxes = {}
        for lineno, line in read_lines(path):
            parts = line.split()
            try:
                boxes[parts[0]] = tuple(float(v) for v in parts[1:5])
                assert len(parts) == 5
            except (ValueError, AssertionError, IndexError):
                raise AnnotationError(path, lineno, f'expected "<stem> x1 y1 x2 y2", got {line!r}') from None
        return boxes

    def load_annotations(self) -> List[dict]:
        boxes = self._load_boxes() if self.face_box_file else {}
        num_classes = len(self.CLASSES)
        data_list, names = [], UniqueNames(self.ann_file)
        for lineno, line in read_lines(self.ann_file):
            parts = line.split()
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                raise AnnotationError(self.ann_file, lineno, f'expected "<name>.jpg <label 1-7>", got {line!r}')
            name, label = parts[0], int(parts[1])
            if not 1 <= label <= num_classes:
                raise AnnotationError(self.ann_file, lineno, f'unknown class id {label} (RAF-DB uses 1-7)')
            names.add(name, lineno, label)
            if not name.startswith(('train_', 'test_')):
                raise AnnotationError(self.ann_file, lineno, f'{name!r} names no split (RAF-DB names start '
                                      'with train_ or test_)')
            if not name.startswith(self.split + '_'):
                continue
            stem = osp.splitext(name)[0]
            info = dict(img_path=osp.join(self.img_prefix, f'{stem}_aligned.jpg'), gt_label=label - 1,
                        sample_id=name)
            if stem in boxes:
                info['gt_bboxes'] = face_box(*boxes[stem])
            data_list.append(info)
        return data_list


@DATASETS.register_module()
class SynthFER(RAFDB):
    """SynthFER's labeled part: RAF-DB's layout plus ``annotations/face_boxes.txt``.

    Written by ``tools/data/generate_synthfer.py``; every sample carries its
    ground-truth face box.
    """

    def __init__(self, data_root: str, face_box_file: Optional[str] = 'annotations/face_boxes.txt', **kwargs):
        super().__init__(data_root=data_root, face_box_file=face_box_file, **kwargs)
