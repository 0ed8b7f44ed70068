from .classifiers import FacialMixupClassifier
from .heads import FaceMAEHead
from .selfsup import FaceMAE

__all__ = ['FaceMAE', 'FaceMAEHead', 'FacialMixupClassifier']
