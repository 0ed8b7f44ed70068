from .mae_reconstruction_hook import MAEReconstructionHook, mae_reconstruction_grid

__all__ = ['MAEReconstructionHook', 'mae_reconstruction_grid']
