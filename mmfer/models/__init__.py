from .classifiers import FacialMixupClassifier
from .distillers import DistributionMatching, GradientMatching
from .face_detectors import CascadeFaceDetector, MMDetFaceDetector
from .heads import FaceMAEHead, FaceSparKHead
from .selfsup import FaceMAE, FaceSparK
from .semi import SemiFERClassifier
from .utils import FacialMixup, MixedBatch

__all__ = [
    'CascadeFaceDetector', 'DistributionMatching', 'GradientMatching', 'FaceMAE', 'FaceMAEHead', 'FaceSparK',
    'FaceSparKHead', 'FacialMixup', 'FacialMixupClassifier', 'MixedBatch', 'MMDetFaceDetector', 'SemiFERClassifier'
]
