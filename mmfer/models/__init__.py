from .classifiers import FacialMixupClassifier
from .distillers import DistributionMatching, GradientMatching, ImprovedDistributionMatching
from .face_detectors import CascadeFaceDetector, FaceDetector, MMDetFaceDetector, MTCNNFaceDetector, split_detections
from .heads import FaceMAEHead, FaceSparKHead
from .selfsup import FaceMAE, FaceSparK
from .semi import PseudoLabels, SemiFERClassifier
from .utils import FacialMixup, MixedBatch

__all__ = [
    'CascadeFaceDetector', 'FaceDetector', 'MTCNNFaceDetector', 'split_detections', 'DistributionMatching',
    'ImprovedDistributionMatching', 'GradientMatching', 'FaceMAE', 'FaceMAEHead', 'FaceSparK', 'FaceSparKHead',
    'FacialMixup', 'FacialMixupClassifier', 'MixedBatch', 'MMDetFaceDetector', 'PseudoLabels', 'SemiFERClassifier'
]
