from .facial_mixup_vis_hook import FacialMixupVisHook, facial_mixup_grid
from .mae_reconstruction_hook import MAEReconstructionHook, mae_reconstruction_grid
from .semi_fer_hook import SemiFERHook, schedule_value

__all__ = [
    'FacialMixupVisHook', 'facial_mixup_grid', 'MAEReconstructionHook', 'mae_reconstruction_grid', 'SemiFERHook',
    'schedule_value'
]
