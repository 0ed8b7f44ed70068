from .semi_fer_classifier import PseudoLabels, SemiFERClassifier

__all__ = ['PseudoLabels', 'SemiFERClassifier']
