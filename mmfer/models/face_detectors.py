"""Face detectors for images without face boxes: OpenCV's bundled cascade and any mmdet detector.

A detector is a callable ``detector(img) -> (K, 5) float32 array`` of ``x1, y1, x2, y2, score``
rows in pixels of ``img`` (BGR ``uint8``, as mmcv loads images), best first; ``K`` may be 0.
Both are registered in ``TASK_UTILS``, so a config or the demo names them with a dict.
"""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import torch

from mmfer.registry import TASK_UTILS


@TASK_UTILS.register_module()
class CascadeFaceDetector:
    """OpenCV's Viola-Jones frontal-face cascade, shipped inside opencv-python (no download).

    Fast and dependency-free but only for roughly frontal faces; its score is the number of
    raw detections merged into the box (``minNeighbors`` is the least kept), not a probability.

    Args:
        cascade: a file in ``cv2.data.haarcascades`` or a path to a cascade XML.
        scale_factor: image pyramid step.
        min_neighbors: raw detections a box needs to be kept (higher: fewer false faces).
        min_size: smallest face side as a fraction of the image's shorter side.
    """

    def __init__(self, cascade: str = 'haarcascade_frontalface_default.xml', scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: float = 0.1) -> None:
        path = cascade if osp.isfile(cascade) else osp.join(cv2.data.haarcascades, cascade)
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise FileNotFoundError(f'cannot load the face cascade {path}')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size

    def __call__(self, img: np.ndarray) -> np.ndarray:
        gray = cv2.equalizeHist(img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        side = max(1, int(self.min_size * min(gray.shape)))
        rects, neighbours = self.cascade.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side))
        if len(rects) == 0:
            return np.zeros((0, 5), np.float32)
        x, y, w, h = np.asarray(rects, np.float32).T
        boxes = np.stack([x, y, x + w, y + h, np.asarray(neighbours, np.float32).reshape(-1)], 1)
        return boxes[np.argsort(-boxes[:, 4], kind='stable')]


@TASK_UTILS.register_module()
class MMDetFaceDetector:
    """Any mmdet detector (config + checkpoint) as the face detector.

    Args:
        config: mmdet config file.
        checkpoint: its weights.
        score_thr: boxes below this score are dropped.
        labels: the detector's class indices that are faces (``None``: every class, for a
            face-only detector).
        device: where the detector runs (default: a GPU where present).
    """

    def __init__(self, config: str, checkpoint: Optional[str] = None, score_thr: float = 0.5,
                 labels: Optional[Sequence[int]] = None, device: Optional[str] = None) -> None:
        from mmdet.apis import init_detector
        device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.model = init_detector(config, checkpoint, device=device)
        self.score_thr = score_thr
        self.labels = None if labels is None else list(labels)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        from mmdet.apis import inference_detector
        pred = inference_detector(self.model, img).pred_instances.cpu().numpy()
        keep = pred.scores >= self.score_thr
        if self.labels is not None:
            keep &= np.isin(pred.labels, self.labels)
        boxes = np.concatenate([pred.bboxes[keep], pred.scores[keep, None]], 1).astype(np.float32)
        return boxes[np.argsort(-boxes[:, 4], kind='stable')]
