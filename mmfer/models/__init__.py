from .classifiers import FacialMixupClassifier
from .distillers import DistributionMatching, GradientMatching
from .face_detectors import CascadeFaceDetector, MMDetFaceDetector
from .heads import FaceMAEHead
from .selfsup import FaceMAE
from .semi import SemiFERClassifier

__all__ = [
    'CascadeFaceDetector', 'DistributionMatching', 'GradientMatching', 'FaceMAE', 'FaceMAEHead',
    'FacialMixupClassifier', 'MMDetFaceDetector', 'SemiFERClassifier'
]
