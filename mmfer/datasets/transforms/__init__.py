from .face_box import DetectFaceBox
from .formatting import LabelToScore
from .loading import LoadFaceImage, decode_image

__all__ = ['DetectFaceBox', 'LabelToScore', 'LoadFaceImage', 'decode_image']
