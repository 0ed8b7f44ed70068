"""Five-point face alignment: a similarity transform of the landmarks onto a template."""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfer.registry import TRANSFORMS

#: The five-point template of ArcFace / InsightFace crops (112 x 112 pixels): left eye, right eye, nose
#: tip, left and right mouth corner, left and right as seen in the image. RAF-DB's aligned faces are made
#: the same way (a similarity transform of five landmarks) onto a template it does not publish.
ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
#: mmfer's default shrink of the template: the crop shows the whole face with some context, as RAF-DB's
#: aligned faces and SynthFER's do (and MTCNN finds the landmarks of such a crop again within 4 px).
ALIGN_SCALE = 0.8


def face_template(size: int, scale: float = 1.0) -> np.ndarray:
    """:data:`ARCFACE_TEMPLATE` for a ``size`` x ``size`` crop; ``scale < 1`` shrinks the points about
    the centre, so the crop shows more context around the face."""
    centre = np.float32(56.0)
    return ((ARCFACE_TEMPLATE - centre) * scale + centre) * (size / 112.0)


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` similarity transform (rotation, uniform scale, translation) that maps the points
    ``src`` onto ``dst`` with the least squared error (Umeyama, 1991)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rot = u @ sign @ vt
    var = (s**2).sum() / len(src)
    c = float((sigma * np.diag(sign)).sum() / var) if var > 0 else 1.0
    return np.concatenate([c * rot, (mu_d - c * rot @ mu_s)[:, None]], 1).astype(np.float32)


def align_face(img: np.ndarray, landmarks: np.ndarray, size: int, scale: float = 1.0,
               border_value: Tuple[int, ...] = (0, 0, 0)) -> Tuple[np.ndarray, np.ndarray]:
    """The ``size`` x ``size`` crop of ``img`` whose five ``landmarks`` land on :func:`face_template`,
    and the ``(2, 3)`` matrix from ``img``'s pixels to the crop's."""
    matrix = similarity_matrix(np.asarray(landmarks, np.float32).reshape(5, 2), face_template(size, scale))
    crop = cv2.warpAffine(img, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=border_value)
    return crop, matrix


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``(..., 2)`` points through a ``(2, 3)`` affine matrix."""
    points = np.asarray(points, np.float32)
    return points @ matrix[:, :2].T + matrix[:, 2]


@TRANSFORMS.register_module()
class AlignFace(BaseTransform):
    """Warp the face so that its five landmarks fall on a template (:func:`face_template`).

    Reads ``results['gt_landmarks']`` (``(5, 2)`` or ``(1, 5, 2)`` pixels: left eye, right eye, nose,
    left and right mouth corner), set by a dataset's annotation or by :class:`DetectFaceBox` with a
    landmark detector (``MTCNNFaceDetector``). The image becomes the ``size`` x ``size`` aligned crop;
    ``gt_bboxes`` (its corners' bounding box) and ``gt_landmarks`` follow the warp, and
    ``results['align_matrix']`` keeps it. A sample without landmarks is left as it is, with
    ``results['aligned'] = False`` (boxes-only detectors: the later transforms crop or resize as before).
    :class:`~mmfer.apis.FERInferencer` aligns detected faces the same way.

    Args:
        size: side of the aligned crop in pixels.
        scale: ``< 1`` shows more context around the face (see :func:`face_template`; default
            :data:`ALIGN_SCALE`).
        border_value: fill of the parts outside the image.
    """

    def __init__(self, size: int = 112, scale: float = ALIGN_SCALE, border_value: Tuple[int, ...] = (0, 0, 0)) -> None:
        if size <= 0 or scale <= 0:
            raise ValueError(f'size and scale must be > 0, got {size} and {scale}')
        self.size, self.scale, self.border_value = size, scale, tuple(border_value)

    def transform(self, results: dict) -> Optional[dict]:
        landmarks = results.get('gt_landmarks')
        if landmarks is None:
            results['aligned'] = False
            return results
        landmarks = np.asarray(landmarks, np.float32).reshape(5, 2)
        results['img'], matrix = align_face(results['img'], landmarks, self.size, self.scale, self.border_value)
        results['img_shape'] = (self.size, self.size)
        results['gt_landmarks'] = transform_points(landmarks, matrix)
        boxes = results.get('gt_bboxes')
        if boxes is not None and len(boxes):
            boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
            corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [0, 3]], boxes[:, [2, 3]]], 1)
            moved = transform_points(corners, matrix)
            results['gt_bboxes'] = np.concatenate([moved.min(1), moved.max(1)], 1).clip(0, self.size)
        results['align_matrix'] = matrix
        results['aligned'] = True
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size}, scale={self.scale})'
