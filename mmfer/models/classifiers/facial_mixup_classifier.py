"""Stage II of method A: supervised fine-tuning on real and face-Mixup images."""
from typing import Dict, List, Optional

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.models.losses.cross_entropy_loss import soft_cross_entropy

from mmfer.registry import BATCH_AUGMENTS, MODELS


@MODELS.register_module()
class FacialMixupClassifier(ImageClassifier):
    """mmpretrain's ``ImageClassifier`` trained on real and :class:`FacialMixup` images.

    Each step runs the real batch ``x`` and its mixed batch through the network
    (as two passes, each with the real batch's size) and minimises method A's loss

    ``L = (1/N) [ sum_i CE(f(mix_i), y_mix_i) + sum_i w_i (CE(f(x_i), y_i) + CE(f(x_pair(i)), y_pair(i))) ]``

    with ``w_i`` the pair's real weight (``1 - IoU`` by default), logged as
    ``loss_mix`` and ``loss_real``; the two terms are further scaled by ``mix_weight`` and
    ``real_scale`` (1 and 1 in the paper), which :class:`~mmfer.engine.hooks.SemiFERHook` can
    schedule per iteration. The head's own ``loss`` config is not used in training; prediction
    and evaluation are plain ``ImageClassifier``.

    Args:
        facial_mixup: a :class:`FacialMixup` config; ``num_classes`` defaults to the head's.
        mix_weight: weight of the virtual (mixed) images' loss.
        real_scale: factor on the real images' IoU-weighted loss.
        **kwargs: ``ImageClassifier`` arguments (backbone, neck, head, data_preprocessor, ...).
    """

    def __init__(self, facial_mixup: dict, mix_weight: float = 1.0, real_scale: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mix_weight, self.real_scale = mix_weight, real_scale
        facial_mixup = dict(facial_mixup)
        facial_mixup.setdefault('type', 'FacialMixup')
        facial_mixup.setdefault('num_classes', self.head.num_classes)
        self.facial_mixup = BATCH_AUGMENTS.build(facial_mixup)

    def loss(self, inputs: torch.Tensor, data_samples: List, lam: Optional[float] = None) -> Dict[str, torch.Tensor]:
        n = inputs.shape[0]
        batch = self.facial_mixup(inputs, data_samples, lam=lam)
        # two passes of N rather than one of 2N: on CPUs a doubled batch runs ~15 % slower per image
        real_logits = self.head(self.extract_feat(inputs))
        mix_logits = self.head(self.extract_feat(batch.mixed))
        ce_real = soft_cross_entropy(real_logits, batch.real_target, reduction='none')
        loss_real = self.real_scale * (batch.real_weight * (ce_real + ce_real[batch.pair])).sum() / n
        loss_mix = self.mix_weight * soft_cross_entropy(mix_logits, batch.mixed_target, reduction='none').sum() / n
        # logged, not summed (no 'loss' in the names): how far the paper's rule lets the real images count
        return dict(loss_mix=loss_mix, loss_real=loss_real, face_iou=batch.iou.mean().detach(),
                    real_weight=batch.real_weight.mean().detach())
