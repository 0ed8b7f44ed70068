"""The per-iteration policy of method A's stages II and III: EMA teacher and loss-weight schedules."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmdet.engine.hooks import MeanTeacherHook
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
class SemiFERHook(MeanTeacherHook):
    """Moves a :class:`~mmfer.models.SemiFERClassifier`'s teacher by EMA and sets the loss schedules.

    The EMA is mmdet's :class:`~mmdet.engine.hooks.MeanTeacherHook`: after every ``interval``
    training iterations each teacher parameter becomes ``(1 - momentum) * teacher + momentum *
    student`` (``momentum = 1 - decay``; method A: decay 0.999), with the floating-point buffers
    (BatchNorm statistics) too when ``update_buffers``; at iteration 0 the teacher is set to the
    student (not on resume).
    Before each iteration it sets the model's ``threshold`` and ``unsup_weight`` from
    their schedules (a constant, or ``[(iter, value), ...]``, linear in between), so
    warm-ups or ramps need no model code. The teacher is the live module the model
    validates with, so validation always sees the current teacher.

    The stage II weights of real and virtual (mixed) images — ``real_scale`` and ``mix_weight``
    of a :class:`~mmfer.models.FacialMixupClassifier` — are scheduled the same way, on the
    stage III student when it is one, or on the stage II model itself (a model without a
    teacher gets no EMA update then).

    Args:
        momentum: EMA momentum, ``1 - decay``.
        interval: iterations between EMA updates.
        threshold: confidence threshold schedule, or ``None`` to leave the model's value.
        unsup_weight: unlabeled-loss weight schedule, or ``None`` to leave the model's value.
        update_buffers: also average floating-point buffers (BatchNorm statistics).
        mix_weight: schedule of the virtual images' loss weight (FacialMixupClassifier), or ``None``.
        real_scale: schedule of the factor on the real images' loss (FacialMixupClassifier), or ``None``.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, momentum: float = 1e-3, interval: int = 1, threshold: Optional[Schedule] = None,
                 unsup_weight: Optional[Schedule] = None, update_buffers: bool = True,
                 mix_weight: Optional[Schedule] = None, real_scale: Optional[Schedule] = None) -> None:
        if not 0 < momentum < 1:
            raise ValueError(f'momentum must be in (0, 1), got {momentum}')
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        super().__init__(momentum=momentum, interval=interval, skip_buffer=not update_buffers)
        self.threshold = threshold
        self.unsup_weight = unsup_weight
        self.mix_weight = mix_weight
        self.real_scale = real_scale

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not (hasattr(model, 'teacher') and hasattr(model, 'student')) and not hasattr(model, 'facial_mixup'):
            raise TypeError('SemiFERHook needs a model with teacher and student, or a FacialMixupClassifier, '
                            f'got {type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if hasattr(model, 'teacher'):
            super().before_train(runner)
        mixup = getattr(model, 'student', model)
        if (self.mix_weight is not None or self.real_scale is not None) and not hasattr(mixup, 'facial_mixup'):
            raise TypeError(f'mix_weight / real_scale schedules need a FacialMixupClassifier, got '
                            f'{type(mixup).__name__}')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = self._model(runner)
        if self.threshold is not None:
            model.threshold = schedule_value(self.threshold, runner.iter)
        if self.unsup_weight is not None:
            model.unsup_weight = schedule_value(self.unsup_weight, runner.iter)
        mixup = getattr(model, 'student', model)
        if self.mix_weight is not None:
            mixup.mix_weight = schedule_value(self.mix_weight, runner.iter)
        if self.real_scale is not None:
            mixup.real_scale = schedule_value(self.real_scale, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if hasattr(self._model(runner), 'teacher'):
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
