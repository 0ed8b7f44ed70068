from .semi_fer_classifier import SemiFERClassifier

__all__ = ['SemiFERClassifier']
