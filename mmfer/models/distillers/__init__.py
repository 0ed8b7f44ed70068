from .base import DISTILLED_FILE, BaseDistiller, RealFaces, convnet, siamese_augment, write_distilled
from .distribution_matching import DistributionMatching, ImprovedDistributionMatching, moment_distance
from .gradient_matching import GradientMatching, gradient_distance

__all__ = [
    'BaseDistiller', 'DISTILLED_FILE', 'RealFaces', 'convnet', 'siamese_augment', 'DistributionMatching',
    'ImprovedDistributionMatching', 'moment_distance', 'GradientMatching', 'gradient_distance', 'write_distilled'
]
