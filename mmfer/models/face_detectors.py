"""Face detectors for images without face boxes: MTCNN (boxes and five landmarks), OpenCV's bundled
cascade and any mmdet detector.

A detector is a callable ``detector(img) -> (K, 5) float32 array`` of ``x1, y1, x2, y2, score``
rows in pixels of ``img`` (BGR ``uint8``, as mmcv loads images), best first; ``K`` may be 0. A
detector that also finds landmarks returns ``(K, 15)`` rows: the same five values, then the
``x, y`` of the left eye, right eye, nose tip, left and right mouth corner (left and right as seen in
the image). ``detector.batch(imgs)`` gives the arrays of a list of images (one call where the
detector can batch them). All are registered in ``TASK_UTILS``, so a config or the demo names them
with a dict.
"""
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from mmfer.registry import TASK_UTILS
from mmfer.structures import NUM_LANDMARKS, split_detections  # noqa: F401 (split_detections: re-exported)


class FaceDetector:
    """What every detector shares: :meth:`batch` over :meth:`__call__`."""

    def __call__(self, img: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def batch(self, imgs: Sequence[np.ndarray]) -> List[np.ndarray]:
        """The detections of each image (detectors that can run images together override this)."""
        return [self(img) for img in imgs]


@TASK_UTILS.register_module()
class MTCNNFaceDetector(FaceDetector):
    """MTCNN (Zhang et al., 2016): face boxes and five landmarks, from facenet-pytorch.

    The weights ship inside the ``facenet-pytorch`` wheel (MIT licence), so nothing is downloaded;
    its metadata pins an old torch, so ``tools/install.sh`` installs it without dependencies. It finds
    turned, tilted and small faces that the frontal cascade misses (docs/inference.md has the figures).
    Images of one size are detected in one batched pass (:meth:`batch`).

    Args:
        min_size: smallest face side in pixels.
        thresholds: the three stages' face-probability thresholds.
        score_thr: faces whose final probability is below this are dropped.
        device: where the networks run (default: a GPU where present).
    """

    def __init__(self, min_size: int = 20, thresholds: Sequence[float] = (0.6, 0.7, 0.7), score_thr: float = 0.9,
                 device: Optional[str] = None) -> None:
        try:
            from facenet_pytorch import MTCNN
        except ImportError as e:
            raise ImportError('MTCNNFaceDetector needs facenet-pytorch: pip install --no-deps facenet-pytorch==2.6.0 '
                              '(tools/install.sh does it)') from e
        device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.mtcnn = MTCNN(min_face_size=min_size, thresholds=list(thresholds), keep_all=True, device=device)
        self.score_thr = score_thr

    def _rows(self, boxes, probs, landmarks) -> np.ndarray:
        if boxes is None or len(boxes) == 0:
            return np.zeros((0, 15), np.float32)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        probs = np.asarray(probs, np.float32).reshape(-1, 1)
        landmarks = np.asarray(landmarks, np.float32).reshape(-1, 2 * NUM_LANDMARKS)
        rows = np.concatenate([boxes, probs, landmarks], 1)
        rows = rows[rows[:, 4] >= self.score_thr]
        return rows[np.argsort(-rows[:, 4], kind='stable')]

    def __call__(self, img: np.ndarray) -> np.ndarray:
        return self.batch([img])[0]

    @torch.no_grad()
    def batch(self, imgs: Sequence[np.ndarray]) -> List[np.ndarray]:
        rgb = [np.ascontiguousarray((cv2.cvtColor(i, cv2.COLOR_GRAY2BGR) if i.ndim == 2 else i)[..., ::-1])
               for i in imgs]
        out = []
        for start, end in _same_size_runs(rgb):
            if end - start == 1:
                found = [self.mtcnn.detect(rgb[start], landmarks=True)]
            else:
                boxes, probs, lms = self.mtcnn.detect(np.stack(rgb[start:end]), landmarks=True)
                found = zip(boxes, probs, lms)
            out.extend(self._rows(*f) for f in found)
        return out


def _same_size_runs(imgs: Sequence[np.ndarray]):
    """``(start, end)`` of each run of consecutive images of one shape."""
    start = 0
    for i in range(1, len(imgs) + 1):
        if i == len(imgs) or imgs[i].shape != imgs[start].shape:
            yield start, i
            start = i


@TASK_UTILS.register_module()
class CascadeFaceDetector(FaceDetector):
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
class MMDetFaceDetector(FaceDetector):
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
