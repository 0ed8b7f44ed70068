from .base import BaseDistiller, RealFaces, convnet, siamese_augment
from .distribution_matching import DistributionMatching
from .gradient_matching import GradientMatching, gradient_distance

__all__ = [
    'BaseDistiller', 'RealFaces', 'convnet', 'siamese_augment', 'DistributionMatching', 'GradientMatching',
    'gradient_distance'
]
