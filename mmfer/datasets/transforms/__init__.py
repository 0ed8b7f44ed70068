from .align import (ALIGN_SCALE, ARCFACE_TEMPLATE, AlignFace, align_face, face_template, similarity_matrix,
                    transform_points)
from .face_box import DetectFaceBox
from .formatting import LabelToScore
from .loading import LoadFaceImage, decode_image

__all__ = [
    'ALIGN_SCALE', 'ARCFACE_TEMPLATE', 'AlignFace', 'align_face', 'face_template', 'similarity_matrix',
    'transform_points', 'DetectFaceBox', 'LabelToScore', 'LoadFaceImage', 'decode_image'
]
