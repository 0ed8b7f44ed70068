from .mae_reconstruction_hook import MAEReconstructionHook, mae_reconstruction_grid
from .semi_fer_hook import SemiFERHook, schedule_value

__all__ = ['MAEReconstructionHook', 'mae_reconstruction_grid', 'SemiFERHook', 'schedule_value']
