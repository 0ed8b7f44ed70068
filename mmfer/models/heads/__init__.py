from .face_mae_head import FaceMAEHead
from .face_region import FaceRegionWeighting
from .face_spark_head import FaceSparKHead

__all__ = ['FaceMAEHead', 'FaceRegionWeighting', 'FaceSparKHead']
