from .face_box import DetectFaceBox
from .facial_mixup import FacialMixup, MixedBatch, box_iou
from .formatting import LabelToScore
from .loading import LoadFaceImage, decode_image

__all__ = ['DetectFaceBox', 'FacialMixup', 'MixedBatch', 'box_iou', 'LabelToScore', 'LoadFaceImage', 'decode_image']
