from .hooks import FacialMixupVisHook, MAEReconstructionHook, SemiFERHook
from .mining import ReliableSampleMiner, build_miner, class_prototypes, eval_pipeline, select_mined
from .runner import OmniDistillLoop

__all__ = ['build_miner', 'class_prototypes', 'eval_pipeline', 'FacialMixupVisHook', 'MAEReconstructionHook',
           'OmniDistillLoop', 'ReliableSampleMiner', 'select_mined', 'SemiFERHook']
