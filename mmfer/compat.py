"""Workarounds for the pinned stack on current machines, each applied in one place.

1. torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 writes
   its message hub (``HistoryBuffer``, whose statistics methods pickle as
   ``getattr(HistoryBuffer, 'min')``) and numpy arrays/dtypes/scalars into them, so
   ``Runner.resume`` fails with ``UnpicklingError``. :func:`allow_mmengine_checkpoints`
   replaces mmengine's local-file checkpoint loader with one that allow-lists exactly
   those types, only while it loads (no ``weights_only=False``, and ``torch.load``
   elsewhere keeps its defaults); it runs on ``import mmfer``.
2. mmengine 0.10.7's pytorch and slurm launchers call ``torch.cuda.set_device`` and
   fail without a GPU. :func:`init_cpu_distributed` starts a gloo process group first
   (mmengine then skips its own init) and asks for a DDP wrapper without device ids.
3. mmengine 0.10.7 formats a config's text with yapf every time ``Config.pretty_text`` is
   read, and a run reads it four times before its first step (config dump, environment
   log, visualizer, runtime info): about 6 s each for a quick config on a slow 2-core
   machine, most of a tiny run (open-mmlab/mmcv#2466). :func:`cache_config_formatting`
   formats each distinct text once per process; it runs on ``import mmfer``.
"""
import functools
import logging
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import torch
import torch.distributed as torch_dist


def _numpy_checkpoint_types() -> list:
    """numpy classes pickled inside mmengine checkpoints (arrays, dtypes, scalars)."""
    types = [np.ndarray, np.dtype]
    multiarray = getattr(np, '_core', None) or np.core
    types += [multiarray.multiarray._reconstruct, multiarray.multiarray.scalar]
    scalars = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_)
    types += [type(np.dtype(t)) for t in scalars]
    return types


def mmengine_checkpoint_types() -> list:
    """Every global an mmengine 0.10.7 checkpoint pickles besides tensors."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, getattr] + _numpy_checkpoint_types()


def load_local_checkpoint(filename: str, map_location=None):
    """``torch.load`` a local checkpoint, weights only, with mmengine's types allowed."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    with torch.serialization.safe_globals(mmengine_checkpoint_types()):
        return torch.load(filename, map_location=map_location, weights_only=True)


def allow_mmengine_checkpoints() -> None:
    """Make mmengine's loader of local checkpoints use :func:`load_local_checkpoint`."""
    if hasattr(torch.serialization, 'safe_globals'):  # torch < 2.5 loads everything anyway
        from mmengine.runner.checkpoint import CheckpointLoader
        CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


def cache_config_formatting(maxsize: int = 32) -> None:
    """Memoise the yapf call behind mmengine's ``Config.pretty_text`` on the unformatted text.

    The formatted text is what yapf returns for it, so dumps and logs do not change."""
    import mmengine.config.config as config_module
    format_code = config_module.FormatCode
    if hasattr(format_code, 'cache_info'):
        return

    @functools.lru_cache(maxsize=maxsize)
    def format_once(text: str, style: tuple, kwargs: tuple):
        return format_code(text, style_config=dict(style), **dict(kwargs))

    @functools.wraps(format_code)
    def cached(text: str, style_config: dict, **kwargs):  # mmengine passes its style as a dict
        return format_once(text, tuple(sorted(style_config.items())), tuple(sorted(kwargs.items())))

    cached.cache_info = format_once.cache_info
    config_module.FormatCode = cached


def init_cpu_distributed(launcher: str, cfg) -> bool:
    """Start a gloo process group for ``launcher`` when no GPU is visible.

    Returns ``True`` when it did (and then sets ``cfg.env_cfg.dist_cfg.backend`` to
    gloo and ``cfg.model_wrapper_cfg`` to a device-less ``MMDistributedDataParallel``);
    ``False`` on a GPU machine, for ``launcher='none'``, or when a group already exists.
    """
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            nodes = os.environ['SLURM_NODELIST']
            os.environ['MASTER_ADDR'] = subprocess.getoutput(f'scontrol show hostname {nodes} | head -n1')
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported on CPU; use pytorch or slurm')
    torch_dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    return True


def close_distributed(exit_process: bool = False) -> None:
    """Wait for every rank, then destroy the default process group, if any, before the interpreter
    exits: a gloo group left to interpreter teardown can abort a rank whose work is done
    ("terminate called without an active exception", exit -6). Destroying the group was not enough on
    torch 2.14 (CI, 2026-12-01: rank 1 aborted after its last checkpoint and validation), so with
    ``exit_process`` a rank that ran distributed ends here: logs and streams are flushed and the process
    exits 0 without the interpreter's teardown (``os._exit``), whose C++ thread destructors abort. Only
    the tools' ``main`` under a launcher asks for it; single-process runs return as usual."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    torch_dist.barrier()
    torch_dist.destroy_process_group()
    if exit_process:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


allow_mmengine_checkpoints()
cache_config_formatting()
