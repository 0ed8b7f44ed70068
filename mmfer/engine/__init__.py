from .hooks import MAEReconstructionHook

__all__ = ['MAEReconstructionHook']
