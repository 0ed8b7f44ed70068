from .face_mae import FaceMAE

__all__ = ['FaceMAE']
