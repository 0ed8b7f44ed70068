"""A face-box provider for samples whose annotation carries no face box."""
from typing import Optional

from mmcv.transforms import BaseTransform

from mmfer.registry import TASK_UTILS, TRANSFORMS
from mmfer.structures import split_detections


@TRANSFORMS.register_module()
class DetectFaceBox(BaseTransform):
    """Set ``gt_bboxes`` from a face detector where the annotation gives no box.

    Place it right after loading, before any geometric transform (mmcv's ``Resize`` and
    ``RandomFlip`` then keep the box in step). The detector's best box becomes the sample's
    ``(1, 4)`` ``gt_bboxes``. With no face found the sample keeps no box and the consumers
    (:class:`FacialMixup`, :class:`FaceMAEHead`) fall back to their ``default_box`` — method A's
    behaviour when its detector fails. ``results['face_detected']`` records which case applied
    (``True`` also for an annotated box that was kept). A landmark detector (``MTCNNFaceDetector``)
    also sets the face's five ``gt_landmarks`` (``(5, 2)``), which :class:`AlignFace` reads.

    Args:
        detector: a ``TASK_UTILS`` face detector config (default: OpenCV's bundled cascade).
        overwrite: detect even where the annotation has a box.
    """

    def __init__(self, detector: Optional[dict] = None, overwrite: bool = False) -> None:
        self.detector = TASK_UTILS.build(detector or dict(type='CascadeFaceDetector'))
        self.overwrite = overwrite

    def transform(self, results: dict) -> dict:
        if results.get('gt_bboxes') is not None and not self.overwrite:
            results['face_detected'] = True
            return results
        boxes, _, landmarks = split_detections(self.detector(results['img']))
        results['face_detected'] = len(boxes) > 0
        if len(boxes):
            results['gt_bboxes'] = boxes[:1].copy()
            if landmarks is not None:
                results['gt_landmarks'] = landmarks[0].copy()
        else:
            results.pop('gt_bboxes', None)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(detector={type(self.detector).__name__}, overwrite={self.overwrite})'
