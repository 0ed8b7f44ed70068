from .hooks import MAEReconstructionHook, SemiFERHook

__all__ = ['MAEReconstructionHook', 'SemiFERHook']
