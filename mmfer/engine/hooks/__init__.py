from .facial_mixup_vis_hook import FacialMixupVisHook
from .mae_reconstruction_hook import MAEReconstructionHook
from .semi_fer_hook import SemiFERHook, schedule_value

__all__ = ['FacialMixupVisHook', 'MAEReconstructionHook', 'SemiFERHook', 'schedule_value']
