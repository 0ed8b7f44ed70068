from .classifiers import FacialMixupClassifier
from .heads import FaceMAEHead
from .selfsup import FaceMAE
from .semi import SemiFERClassifier

__all__ = ['FaceMAE', 'FaceMAEHead', 'FacialMixupClassifier', 'SemiFERClassifier']
