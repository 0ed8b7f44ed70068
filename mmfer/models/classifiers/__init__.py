from .facial_mixup_classifier import FacialMixupClassifier

__all__ = ['FacialMixupClassifier']
