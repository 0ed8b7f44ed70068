from .classifiers import FacialMixupClassifier
from .distillers import DistributionMatching, GradientMatching
from .heads import FaceMAEHead
from .selfsup import FaceMAE
from .semi import SemiFERClassifier

__all__ = ['DistributionMatching', 'GradientMatching', 'FaceMAE', 'FaceMAEHead', 'FacialMixupClassifier', 'SemiFERClassifier']
