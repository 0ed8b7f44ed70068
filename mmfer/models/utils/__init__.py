from .facial_mixup import FacialMixup, MixedBatch

__all__ = ['FacialMixup', 'MixedBatch']
