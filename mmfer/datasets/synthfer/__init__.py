"""SynthFER: the procedural face-expression data set mmfer embeds as its default data."""
from .faces import AU_NAMES, CLASSES, PROTOTYPES, Identity, render
from .generator import SynthFERConfig, generate, make_sample

__all__ = ['AU_NAMES', 'CLASSES', 'PROTOTYPES', 'Identity', 'render', 'SynthFERConfig', 'generate', 'make_sample']
