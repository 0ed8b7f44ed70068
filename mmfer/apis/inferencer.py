"""Expression recognition on whole images: detect faces, align or crop, classify (mmpretrain's inferencer)."""
import copy
import importlib.util
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

from mmfer.datasets.transforms.align import ALIGN_SCALE, align_face
from mmfer.registry import DATASETS, MODELS, TASK_UTILS, TRANSFORMS
from mmfer.structures import split_detections
from mmfer.utils.checkpoint import load_strict

_LOADERS = ('LoadImageFromFile', 'LoadFaceImage')


def _test_pipeline(dataset: dict) -> list:
    """The pipeline of a test dataset config, looking through dataset wrappers."""
    while 'pipeline' not in dataset:
        dataset = dataset['dataset'] if 'dataset' in dataset else dataset['datasets'][0]
    return dataset['pipeline']


def build_face_detector(face_detector: Union[dict, str, None], device: Optional[str] = None):
    """A face detector from a ``TASK_UTILS`` config or a name: ``'mtcnn'``, ``'cascade'``, ``'auto'``
    (MTCNN where facenet-pytorch is installed, else the cascade) or ``None``."""
    if face_detector == 'auto':
        face_detector = 'mtcnn' if importlib.util.find_spec('facenet_pytorch') else 'cascade'
    if isinstance(face_detector, str):
        names = dict(mtcnn=dict(type='MTCNNFaceDetector', device=device), cascade=dict(type='CascadeFaceDetector'))
        if face_detector not in names:
            raise ValueError(f"face_detector must be a config, 'auto', 'mtcnn', 'cascade' or None, "
                             f'got {face_detector!r}')
        face_detector = names[face_detector]
    return None if face_detector is None else TASK_UTILS.build(face_detector)


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
    """Facial expression inferencer: faces are found, aligned (or cropped) and classified.

    Built like mmpretrain's :class:`ImageClassificationInferencer` (config + checkpoint), with a
    face detector in front. Each input image gives one result::

        {'img_path': 'a.jpg' (absent for arrays), 'height': H, 'width': W,
         'faces': [{'bbox': [x1, y1, x2, y2], 'det_score': s, 'detected': True, 'aligned': True,
                    'landmarks': [[x, y] * 5] (landmark detectors only),
                    'pred_label': k, 'pred_score': p, 'pred_class': 'Happiness',
                    'pred_scores': [p_0, ..., p_K-1]}, ...]}

    A face whose detector gives five landmarks (``MTCNNFaceDetector``, the default where
    facenet-pytorch is installed) is aligned onto the template of
    :class:`~mmfer.datasets.transforms.AlignFace` (``aligned: True``: aligned here on its landmarks),
    as aligned training sets are; a box-only detector's face is cropped with ``margin`` around it.
    All faces of all the images of one call are classified together, ``batch_size`` faces per forward
    pass (the detector, too, runs same-size images together where it can). Faces are listed best
    detection first. An image without a detected face gives ``faces == []`` (``no_face='skip'``) or the
    whole image as one face marked ``detected: False`` (``no_face='whole'``). ``face_detector=None``
    treats every image as one aligned face (RAF-DB's aligned set, SynthFER).

    Args:
        model: config path or ``Config`` of a classifier (ImageClassifier, FacialMixupClassifier,
            SemiFERClassifier — the latter predicts with its teacher).
        pretrained: checkpoint path.
        device: e.g. ``'cpu'``, ``'cuda:0'``; by default a GPU where present.
        face_detector: ``TASK_UTILS`` config of a face detector, ``'mtcnn'`` (boxes and landmarks),
            ``'cascade'`` (OpenCV's bundled frontal cascade, boxes only), ``'auto'`` (MTCNN where
            facenet-pytorch is installed, else the cascade) or ``None``.
        margin: each side of a box grows by this fraction of its size before cropping (box-only
            detectors; aligned training faces show some context around the face).
        align: align faces that have landmarks (``False``: margin crops for every detector).
        align_size: side of the aligned crop (the test pipeline then resizes it to the model's input).
        align_scale: ``scale`` of :func:`~mmfer.datasets.transforms.face_template`.
        no_face: ``'skip'`` or ``'whole'``.
        max_faces: keep at most this many faces per image (``None``: all).
        classes: class names (default: from the checkpoint or the dataset).
    """

    def __init__(self, model: Union[str, Config], pretrained: Optional[str] = None, device: Optional[str] = None,
                 face_detector: Union[dict, str, None] = 'auto', margin: float = 0.2, align: bool = True,
                 align_size: int = 112, align_scale: float = ALIGN_SCALE, no_face: str = 'skip',
                 max_faces: Optional[int] = None, classes: Optional[Sequence[str]] = None) -> None:
        if no_face not in ('skip', 'whole'):
            raise ValueError(f"no_face must be 'skip' or 'whole', got {no_face!r}")
        super().__init__(build_classifier(model, pretrained, device), pretrained=False, classes=classes)
        self.face_detector = build_face_detector(face_detector, device)
        self.margin, self.no_face, self.max_faces = margin, no_face, max_faces
        self.align, self.align_size, self.align_scale = align, align_size, align_scale

    def _init_pipeline(self, cfg: Config) -> Callable:
        steps = [t for t in _test_pipeline(cfg.test_dataloader.dataset) if t['type'].split('.')[-1] not in _LOADERS]
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmfer')):
            return Compose([TRANSFORMS.build(t) for t in steps])

    def faces(self, img: np.ndarray, rows: Optional[np.ndarray]) -> List[dict]:
        """Face dicts (``bbox``, ``det_score``, ``detected``, ``landmarks``) of a detector's rows for ``img``."""
        h, w = img.shape[:2]
        boxes, scores, landmarks = split_detections(np.zeros((0, 5), np.float32) if rows is None else rows)
        faces = []
        for k in range(len(boxes)):
            face = dict(bbox=[float(v) for v in boxes[k]], det_score=float(scores[k]), detected=True)
            if landmarks is not None:
                face['landmarks'] = landmarks[k].tolist()
            faces.append(face)
        if self.face_detector is None or (not faces and self.no_face == 'whole'):
            faces = [dict(bbox=[0.0, 0.0, float(w), float(h)], det_score=1.0, detected=self.face_detector is None)]
        return faces[:self.max_faces]

    def detect(self, img: np.ndarray) -> List[dict]:
        """The face dicts of one BGR image (see :meth:`faces`)."""
        return self.faces(img, None if self.face_detector is None else self.face_detector(img))

    def crop(self, img: np.ndarray, bbox: Sequence[float]) -> np.ndarray:
        """The face in ``bbox`` with ``margin`` around it, clipped to the image."""
        h, w = img.shape[:2]
        x1, y1, x2, y2 = bbox
        dx, dy = self.margin * (x2 - x1), self.margin * (y2 - y1)
        x1, y1 = int(max(0, np.floor(x1 - dx))), int(max(0, np.floor(y1 - dy)))
        x2, y2 = int(min(w, np.ceil(x2 + dx))), int(min(h, np.ceil(y2 + dy)))
        return img[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]

    def face_input(self, img: np.ndarray, face: dict) -> np.ndarray:
        """What the classifier sees of ``face``: the aligned crop where it has landmarks (and ``align``),
        else the margin crop; sets ``face['aligned']``."""
        face['aligned'] = bool(self.align and 'landmarks' in face)
        if face['aligned']:
            return align_face(img, np.asarray(face['landmarks'], np.float32), self.align_size, self.align_scale)[0]
        return self.crop(img, face['bbox'])

    def classify(self, crops: List[np.ndarray], batch_size: int = 8) -> List[dict]:
        """mmpretrain's per-image results (``pred_label``, ``pred_score``, ``pred_class``,
        ``pred_scores``) for BGR face crops, ``batch_size`` per forward pass, without its progress bar."""
        preds = []
        for data in self.preprocess(crops, batch_size=batch_size):
            preds.extend(self.forward(data))
        return self.postprocess(preds, None)

    @torch.no_grad()
    def __call__(self, inputs, batch_size: int = 8, **kwargs) -> List[dict]:
        """Results for an image path, a BGR array or a list of them (see the class docstring); the faces
        of every image in ``inputs`` are classified together, ``batch_size`` per forward pass."""
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        imgs = []
        for item in items:
            img = imread(item)
            if img is None:
                raise ValueError(f'cannot read the image {item}')
            imgs.append(img)
        rows = [None] * len(imgs) if self.face_detector is None else self.face_detector.batch(imgs)
        per_image = [self.faces(img, r) for img, r in zip(imgs, rows)]
        crops = [self.face_input(img, face) for img, faces in zip(imgs, per_image) for face in faces]
        preds = iter(self.classify(crops, batch_size) if crops else [])
        results = []
        for item, img, faces in zip(items, imgs, per_image):
            for face in faces:
                pred = next(preds)
                face.update(pred, pred_scores=[float(p) for p in pred['pred_scores']])
            result = dict(height=img.shape[0], width=img.shape[1], faces=faces)
            if isinstance(item, (str, Path)):
                result['img_path'] = str(item)
            results.append(result)
        return results

    def draw(self, img: np.ndarray, result: dict) -> np.ndarray:
        """A copy of the BGR image with each face's box, landmarks, class and score drawn on it."""
        out = img.copy()
        thick = max(1, round(min(img.shape[:2]) / 200))
        for face in result['faces']:
            x1, y1, x2, y2 = (int(round(v)) for v in face['bbox'])
            color = (0, 200, 0) if face['detected'] else (0, 160, 255)
            cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
            for x, y in face.get('landmarks', []):
                cv2.circle(out, (int(round(x)), int(round(y))), thick + 1, (0, 255, 255), -1)
            text = f"{face.get('pred_class', face['pred_label'])} {face['pred_score']:.2f}"
            scale = max(0.35, 0.5 * thick)
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            ty = y1 - 4 if y1 - th - base - 4 >= 0 else min(img.shape[0] - 1, y2 + th + 4)
            cv2.rectangle(out, (x1, ty - th - base), (x1 + tw, ty + base), color, -1)
            cv2.putText(out, text, (x1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
        return out
