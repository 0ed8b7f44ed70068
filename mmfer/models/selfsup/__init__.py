from .face_mae import FaceMAE
from .face_spark import FaceSparK

__all__ = ['FaceMAE', 'FaceSparK']
