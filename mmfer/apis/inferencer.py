"""Expression recognition on whole images: detect faces, crop, classify (mmpretrain's inferencer)."""
import copy
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmcv.image import imread
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmpretrain.apis import ImageClassificationInferencer

from mmfer.registry import DATASETS, MODELS, TASK_UTILS, TRANSFORMS
from mmfer.utils.checkpoint import load_strict

_LOADERS = ('LoadImageFromFile', 'LoadFaceImage')


def _test_pipeline(dataset: dict) -> list:
    """The pipeline of a test dataset config, looking through dataset wrappers."""
    while 'pipeline' not in dataset:
        dataset = dataset['dataset'] if 'dataset' in dataset else dataset['datasets'][0]
    return dataset['pipeline']


def default_device() -> str:
    """``'cuda'`` where a GPU is present, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def build_classifier(config: Union[str, Config], checkpoint: Optional[str] = None, device: Optional[str] = None):
    """An mmfer / mmpretrain classifier from a config (any ``default_scope``) and checkpoint.

    The model carries ``_config`` and ``_dataset_meta`` (the classes, from the checkpoint's meta or
    the test dataset's ``METAINFO``), as mmpretrain's ``get_model`` leaves them, so mmpretrain's
    inferencers accept it. The checkpoint is loaded strictly (:func:`~mmfer.utils.load_strict`): weights
    that do not fit the config's model are an error naming the file, never random layers. ``device``
    defaults to ``'cuda'`` where a GPU is present, else ``'cpu'``.
    """
    cfg = Config.fromfile(config) if isinstance(config, (str, Path)) else copy.deepcopy(config)
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor', None))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmfer')):
        model = MODELS.build(cfg.model)
        meta = {}
        if checkpoint:
            meta = (load_strict(model, checkpoint).get('meta') or {}).get('dataset_meta', {})
        if not meta and 'test_dataloader' in cfg:
            meta = dict(getattr(DATASETS.get(cfg.test_dataloader.dataset.type), 'METAINFO', {}))
    model._config, model._dataset_meta, model._metainfo = cfg, meta, None
    return model.to(device or default_device()).eval()


class FERInferencer(ImageClassificationInferencer):
    """Facial expression inferencer: faces are found, cropped and classified.

    Built like mmpretrain's :class:`ImageClassificationInferencer` (config + checkpoint), with a
    face detector in front. Each input image gives one result::

        {'img_path': 'a.jpg' (absent for arrays), 'height': H, 'width': W,
         'faces': [{'bbox': [x1, y1, x2, y2], 'det_score': s, 'detected': True,
                    'pred_label': k, 'pred_score': p, 'pred_class': 'Happiness',
                    'pred_scores': [p_0, ..., p_K-1]}, ...]}

    Faces are listed best detection first. An image without a detected face gives
    ``faces == []`` (``no_face='skip'``) or the whole image as one face marked
    ``detected: False`` (``no_face='whole'``). ``face_detector=None`` treats every image as
    one aligned face (RAF-DB's aligned set, SynthFER).

    Args:
        model: config path or ``Config`` of a classifier (ImageClassifier, FacialMixupClassifier,
            SemiFERClassifier — the latter predicts with its teacher).
        pretrained: checkpoint path.
        device: e.g. ``'cpu'``, ``'cuda:0'``; by default a GPU where present.
        face_detector: ``TASK_UTILS`` config of a face detector, ``'cascade'`` for OpenCV's
            bundled one, or ``None``.
        margin: each side of a detected box grows by this fraction of its size before cropping
            (aligned training faces show some context around the face).
        no_face: ``'skip'`` or ``'whole'``.
        max_faces: keep at most this many faces per image (``None``: all).
        classes: class names (default: from the checkpoint or the dataset).
    """

    def __init__(self, model: Union[str, Config], pretrained: Optional[str] = None, device: Optional[str] = None,
                 face_detector: Union[dict, str, None] = 'cascade', margin: float = 0.2, no_face: str = 'skip',
                 max_faces: Optional[int] = None, classes: Optional[Sequence[str]] = None) -> None:
        if no_face not in ('skip', 'whole'):
            raise ValueError(f"no_face must be 'skip' or 'whole', got {no_face!r}")
        super().__init__(build_classifier(model, pretrained, device), pretrained=False, classes=classes)
        if face_detector == 'cascade':
            face_detector = dict(type='CascadeFaceDetector')
        self.face_detector = None if face_detector is None else TASK_UTILS.build(face_detector)
        self.margin, self.no_face, self.max_faces = margin, no_face, max_faces

    def _init_pipeline(self, cfg: Config) -> Callable:
        steps = [t for t in _test_pipeline(cfg.test_dataloader.dataset) if t['type'].split('.')[-1] not in _LOADERS]
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmfer')):
            return Compose([TRANSFORMS.build(t) for t in steps])

    def detect(self, img: np.ndarray) -> List[dict]:
        """Face boxes of a BGR image, as ``{'bbox', 'det_score', 'detected'}`` dicts."""
        h, w = img.shape[:2]
        boxes = np.zeros((0, 5), np.float32) if self.face_detector is None else self.face_detector(img)
        faces = [dict(bbox=[float(v) for v in b[:4]], det_score=float(b[4]), detected=True) for b in boxes]
        if self.face_detector is None or (not faces and self.no_face == 'whole'):
            faces = [dict(bbox=[0.0, 0.0, float(w), float(h)], det_score=1.0, detected=self.face_detector is None)]
        return faces[:self.max_faces]

    def crop(self, img: np.ndarray, bbox: Sequence[float]) -> np.ndarray:
        """The face in ``bbox`` with ``margin`` around it, clipped to the image."""
        h, w = img.shape[:2]
        x1, y1, x2, y2 = bbox
        dx, dy = self.margin * (x2 - x1), self.margin * (y2 - y1)
        x1, y1 = int(max(0, np.floor(x1 - dx))), int(max(0, np.floor(y1 - dy)))
        x2, y2 = int(min(w, np.ceil(x2 + dx))), int(min(h, np.ceil(y2 + dy)))
        return img[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]

    def classify(self, crops: List[np.ndarray], batch_size: int = 8) -> List[dict]:
        """mmpretrain's per-image results (``pred_label``, ``pred_score``, ``pred_class``,
        ``pred_scores``) for BGR face crops, without its per-call progress bar."""
        preds = []
        for data in self.preprocess(crops, batch_size=batch_size):
            preds.extend(self.forward(data))
        return self.postprocess(preds, None)

    @torch.no_grad()
    def __call__(self, inputs, batch_size: int = 8, **kwargs) -> List[dict]:
        """Results for an image path, a BGR array or a list of them (see the class docstring)."""
        results = []
        for item in (inputs if isinstance(inputs, (list, tuple)) else [inputs]):
            img = imread(item)
            if img is None:
                raise ValueError(f'cannot read the image {item}')
            faces = self.detect(img)
            if faces:
                preds = self.classify([self.crop(img, f['bbox']) for f in faces], batch_size)
                for face, pred in zip(faces, preds):
                    face.update(pred, pred_scores=[float(p) for p in pred['pred_scores']])
            result = dict(height=img.shape[0], width=img.shape[1], faces=faces)
            if isinstance(item, (str, Path)):
                result['img_path'] = str(item)
            results.append(result)
        return results

    def draw(self, img: np.ndarray, result: dict) -> np.ndarray:
        """A copy of the BGR image with each face's box, class and score drawn on it."""
        out = img.copy()
        thick = max(1, round(min(img.shape[:2]) / 200))
        for face in result['faces']:
            x1, y1, x2, y2 = (int(round(v)) for v in face['bbox'])
            color = (0, 200, 0) if face['detected'] else (0, 160, 255)
            cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
            text = f"{face.get('pred_class', face['pred_label'])} {face['pred_score']:.2f}"
            scale = max(0.35, 0.5 * thick)
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            ty = y1 - 4 if y1 - th - base - 4 >= 0 else min(img.shape[0] - 1, y2 + th + 4)
            cv2.rectangle(out, (x1, ty - th - base), (x1 + tw, ty + base), color, -1)
            cv2.putText(out, text, (x1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
        return out
