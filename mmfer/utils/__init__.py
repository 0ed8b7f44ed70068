from .checkpoint import CheckpointError, find_resume_checkpoint, load_strict, read_checkpoint
from .config import merge_cfg_options
from .setup_env import register_all_modules

__all__ = ['CheckpointError', 'find_resume_checkpoint', 'load_strict', 'merge_cfg_options', 'read_checkpoint',
           'register_all_modules']
