from .face_mae_head import FaceMAEHead

__all__ = ['FaceMAEHead']
