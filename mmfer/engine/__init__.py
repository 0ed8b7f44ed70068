from .hooks import MAEReconstructionHook, SemiFERHook
from .mining import ReliableSampleMiner, class_prototypes, select_mined
from .runner import OmniDistillLoop

__all__ = ['MAEReconstructionHook', 'SemiFERHook', 'OmniDistillLoop', 'ReliableSampleMiner', 'class_prototypes',
           'select_mined']
