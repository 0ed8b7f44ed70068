"""mmfer: semi-supervised facial expression recognition on OpenMMLab."""
from . import compat  # noqa: F401  (stack workarounds must apply before any runner exists)
from .version import __version__

__all__ = ['__version__']
