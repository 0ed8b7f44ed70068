"""The per-iteration policy of method A's stage III: EMA teacher and pseudo-label schedules."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfer.registry import HOOKS

Schedule = Union[float, Sequence[Tuple[int, float]]]


def schedule_value(schedule: Schedule, it: int) -> float:
    """A constant, or ``[(iter, value), ...]`` interpolated linearly (held flat outside)."""
    if isinstance(schedule, (int, float)):
        return float(schedule)
    its, values = zip(*schedule)
    return float(np.interp(it, its, values))


@HOOKS.register_module()
class SemiFERHook(Hook):
    """Moves a :class:`~mmfer.models.SemiFERClassifier`'s teacher by EMA and sets its schedules.

    After every ``interval`` training iterations each teacher parameter becomes
    ``(1 - momentum) * teacher + momentum * student`` (``momentum = 1 - decay``; method A:
    decay 0.999); floating-point buffers follow the same rule with ``update_buffers``.
    Before each iteration it sets the model's ``threshold`` and ``unsup_weight`` from
    their schedules (a constant, or ``[(iter, value), ...]``, linear in between), so
    warm-ups or ramps need no model code. The teacher is the live module the model
    validates with, so validation always sees the current teacher.

    Args:
        momentum: EMA momentum, ``1 - decay``.
        interval: iterations between EMA updates.
        threshold: confidence threshold schedule, or ``None`` to leave the model's value.
        unsup_weight: unlabeled-loss weight schedule, or ``None`` to leave the model's value.
        update_buffers: also average floating-point buffers (BatchNorm statistics).
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, momentum: float = 1e-3, interval: int = 1, threshold: Optional[Schedule] = None,
                 unsup_weight: Optional[Schedule] = None, update_buffers: bool = True) -> None:
        if not 0 < momentum <= 1:
            raise ValueError(f'momentum must be in (0, 1], got {momentum}')
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.momentum = momentum
        self.interval = interval
        self.threshold = threshold
        self.unsup_weight = unsup_weight
        self.update_buffers = update_buffers

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not (hasattr(model, 'teacher') and hasattr(model, 'student')):
            raise TypeError(f'SemiFERHook needs a model with teacher and student, got {type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        self._model(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = self._model(runner)
        if self.threshold is not None:
            model.threshold = schedule_value(self.threshold, runner.iter)
        if self.unsup_weight is not None:
            model.unsup_weight = schedule_value(self.unsup_weight, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if (runner.iter + 1) % self.interval == 0:
            self.momentum_update(self._model(runner), self.momentum)

    @torch.no_grad()
    def momentum_update(self, model, momentum: float) -> None:
        """``teacher = (1 - momentum) * teacher + momentum * student``."""
        for t, s in zip(model.teacher.parameters(), model.student.parameters()):
            t.mul_(1 - momentum).add_(s.detach(), alpha=momentum)
        if self.update_buffers:
            for t, s in zip(model.teacher.buffers(), model.student.buffers()):
                if t.dtype.is_floating_point:
                    t.mul_(1 - momentum).add_(s.detach(), alpha=momentum)
                else:
                    t.copy_(s)
