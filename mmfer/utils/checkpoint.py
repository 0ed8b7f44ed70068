"""Checkpoints that load exactly or fail naming the file: evaluation, inference, export and resume."""
import glob
import os.path as osp
import re
from typing import Optional

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

_SHOWN = 5  # mismatched keys named in an error


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read, or whose weights do not fit the model; names the file."""


def read_checkpoint(path: str, map_location: str = 'cpu') -> dict:
    """The checkpoint at ``path``; :class:`CheckpointError` naming it when missing or unreadable
    (a truncated or corrupt file gives torch's zip error without the path)."""
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint not found: {path}')
    try:
        return _load_checkpoint(path, map_location=map_location, logger='silent')
    except Exception as e:  # torch raises RuntimeError, EOFError, UnpicklingError, ... on a bad file
        raise CheckpointError(f'{path}: unreadable checkpoint ({type(e).__name__}: {e})') from None


def _first(keys) -> str:
    keys = sorted(keys)
    return ', '.join(keys[:_SHOWN]) + (f' and {len(keys) - _SHOWN} more' if len(keys) > _SHOWN else '')


def load_strict(model: nn.Module, path: str, map_location: str = 'cpu') -> dict:
    """Load every weight of ``model`` from ``path`` or raise :class:`CheckpointError`.

    The error names the checkpoint and the first missing, unexpected and shape-mismatched keys
    (another class count, another architecture); mmengine's ``load_from`` would only warn and
    leave those layers randomly initialised. A ``module.`` prefix (DDP) is dropped, as mmengine
    does. Returns the checkpoint (for its ``meta``).
    """
    ckpt = read_checkpoint(path, map_location)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: holds no state dict')
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    if is_model_wrapper(model):
        model = model.module
    own = model.state_dict()
    missing = {k for k in own.keys() - state.keys() if not k.endswith('num_batches_tracked')}  # as mmengine
    unexpected = state.keys() - own.keys()
    shapes = [f'{k} (checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)})' for k in sorted(own)
              if k in state and hasattr(state[k], 'shape') and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = [f'{len(missing)} missing keys ({_first(missing)})' if missing else '',
                 f'{len(unexpected)} unexpected keys ({_first(unexpected)})' if unexpected else '',
                 f'{len(shapes)} keys of another shape ({", ".join(shapes[:_SHOWN])})' if shapes else '']
        raise CheckpointError(f'{path} does not fit the {type(model).__name__} of the config: '
                              + '; '.join(p for p in parts if p)
                              + ' (another class count or architecture?)')
    model.load_state_dict(state, strict=False)  # checked above, BN step counters aside
    return ckpt


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The newest readable checkpoint of ``work_dir`` for ``--resume`` without a path.

    mmengine reads the one named in ``last_checkpoint``; when that one cannot be read — a run
    killed while saving — the newest readable ``epoch_<n>.pth`` / ``iter_<n>.pth`` (highest ``n``;
    ``best_*`` checkpoints lack the optimizer) is taken and the log says which were skipped.
    ``None`` when the folder holds no checkpoint (a fresh start). Every checkpoint unreadable is a
    :class:`CheckpointError` naming them.
    """
    numbered = [(int(m.group(1)), p) for p in glob.glob(osp.join(work_dir, '*.pth'))
                if (m := re.fullmatch(r'(?:epoch|iter)_(\d+)\.pth', osp.basename(p)))]
    candidates = [p for _, p in sorted(numbered, reverse=True)]
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            candidates = [named] + [c for c in candidates if not osp.samefile(c, named)]
    bad = []
    for path in candidates:
        try:
            read_checkpoint(path)
        except CheckpointError as e:
            bad.append(str(e))
            continue
        if bad:
            print_log(f'resuming from {path}, the newest readable checkpoint; skipped: ' + '; '.join(bad),
                      'current', level=30)
        return path
    if bad:
        raise CheckpointError(f'no readable checkpoint in {work_dir} to resume from: ' + '; '.join(bad))
    return None


__all__ = ['CheckpointError', 'find_resume_checkpoint', 'load_strict', 'read_checkpoint']
