"""AffectNet (manually annotated part), 7 or 8 expressions."""
import csv
from typing import List

from mmfer.registry import DATASETS
from .base import AnnotationError, FERDataset, UniqueNames, face_box, iter_text

AFFECTNET_CLASSES = ('Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger', 'Contempt')
_HEADER = ('subDirectory_filePath', 'face_x', 'face_y', 'face_width', 'face_height', 'expression')


@DATASETS.register_module()
class AffectNet(FERDataset):
    """AffectNet from its ``training.csv`` / ``validation.csv``.

    Codes 8-10 (None, Uncertain, No-face) are always excluded; with ``num_classes=7``
    Contempt (7) is excluded too (AffectNet-7). The CSV's face rectangle becomes the
    sample's face box. An image listed twice is an :class:`AnnotationError` naming the line.

    Args:
        data_root: the AffectNet folder.
        ann_file: ``training.csv`` or ``validation.csv``, relative to ``data_root``.
        data_prefix: image folder, relative to ``data_root``.
        num_classes: 7 or 8.
        **kwargs: see :class:`FERDataset`.
    """

    def __init__(self, data_root: str, ann_file: str = 'training.csv',
                 data_prefix: str = 'Manually_Annotated_Images', num_classes: int = 8, **kwargs):
        if num_classes not in (7, 8):
            raise ValueError(f'AffectNet num_classes must be 7 or 8, got {num_classes}')
        self.num_classes = num_classes
        kwargs.setdefault('metainfo', dict(classes=AFFECTNET_CLASSES[:num_classes]))
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_annotations(self) -> List[dict]:
        data_list, names = [], UniqueNames(self.ann_file)
        reader = csv.DictReader(iter_text(self.ann_file))
        missing = [k for k in _HEADER if k not in (reader.fieldnames or ())]
        if missing:
            raise AnnotationError(self.ann_file, 1, f'header lacks columns {missing}')
        for row in reader:
            lineno = reader.line_num
            try:
                label = int(row['expression'])
                x, y, w, h = (float(row[k]) for k in ('face_x', 'face_y', 'face_width', 'face_height'))
            except (TypeError, ValueError):
                raise AnnotationError(self.ann_file, lineno, f'malformed row {row}') from None
            if not 0 <= label <= 10:
                raise AnnotationError(self.ann_file, lineno, f'unknown expression code {label} (0-10)')
            path = row['subDirectory_filePath']
            names.add(path, lineno, label)
            if label >= self.num_classes:  # 8-10 unusable; 7 (Contempt) outside AffectNet-7
                continue
            data_list.append(dict(img_path=f'{self.img_prefix}/{path}', gt_label=label, sample_id=path,
                                  gt_bboxes=face_box(x, y, x + w, y + h)))
        return data_list
