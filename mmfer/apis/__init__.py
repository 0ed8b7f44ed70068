"""Inference on images and videos: face detection, cropping, expression classification."""
from .inferencer import FERInferencer, build_classifier

__all__ = ['FERInferencer', 'build_classifier']
