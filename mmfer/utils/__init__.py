from .checkpoint import CheckpointError, find_resume_checkpoint, load_strict, read_checkpoint
from .config import merge_cfg_options
from .fileio import atomic_open, write_atomic
from .setup_env import follow_thread_count, register_all_modules

__all__ = ['atomic_open', 'CheckpointError', 'find_resume_checkpoint', 'follow_thread_count', 'load_strict',
           'merge_cfg_options', 'read_checkpoint', 'register_all_modules', 'write_atomic']
