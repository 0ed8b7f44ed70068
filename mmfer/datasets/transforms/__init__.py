from .face_box import DetectFaceBox
from .facial_mixup import FacialMixup, MixedBatch, box_iou
from .loading import LoadFaceImage, decode_image

__all__ = ['DetectFaceBox', 'FacialMixup', 'MixedBatch', 'box_iou', 'LoadFaceImage', 'decode_image']
