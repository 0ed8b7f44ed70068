from .omni_distill_loop import OmniDistillLoop

__all__ = ['OmniDistillLoop']
