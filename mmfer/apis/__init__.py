"""Inference on images and videos: face detection, cropping, expression classification."""
from .inferencer import FERInferencer, build_classifier, default_device

__all__ = ['FERInferencer', 'build_classifier', 'build_face_detector', 'default_device']
