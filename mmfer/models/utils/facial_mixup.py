"""Method A's face Mixup: mix pairs of faces and weigh the real images by face overlap."""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps

from mmfer.registry import BATCH_AUGMENTS
from mmfer.structures import DEFAULT_FACE_BOX, batch_face_boxes

_WEIGHTINGS = ('one_minus_iou', 'iou', 'constant', 'none')


@dataclass
class MixedBatch:
    """What :class:`FacialMixup` returns; the real batch itself is left untouched.

    Attributes:
        mixed: virtual images ``lam * x + (1 - lam) * x[pair]``, ``(N, C, H, W)``.
        mixed_target: their soft labels, ``(N, K)``.
        real_target: the real images' (smoothed) one-hot labels, ``(N, K)``.
        pair: ``pair[i] = N - 1 - i``.
        iou: IoU of the face boxes of ``i`` and ``pair[i]``, ``(N,)``.
        real_weight: weight of the real pair ``(x_i, x_pair(i))`` in the loss, ``(N,)``.
        lam: the mixing coefficient.
    """
    mixed: torch.Tensor
    mixed_target: torch.Tensor
    real_target: torch.Tensor
    pair: torch.Tensor
    iou: torch.Tensor
    real_weight: torch.Tensor
    lam: float


@BATCH_AUGMENTS.register_module()
class FacialMixup:
    """Batch Mixup of face pairs with face-overlap weights (method A, stage II).

    Image ``i`` is mixed with image ``N - 1 - i`` using one ``lam ~ Beta(alpha, alpha)``
    per batch; the mixed image's label is ``lam * y_i + (1 - lam) * y_pair``. The IoU of
    the two faces' boxes sets the weight of the real pair: with the paper's rule
    ``'one_minus_iou'`` the mixed image weighs 1 and the real images ``1 - IoU`` — a
    poorly aligned mix is a less trustworthy signal, so the real faces count more.
    Other rules: ``'iou'``, ``'constant'`` (``real_weight`` for every pair) and
    ``'none'`` (0: plain Mixup). The input batch is never modified (method A's public
    code mixes in place, so its "real" loss and IoU saw mixed images).

    Boxes come from each data sample's ``gt_bboxes`` (pixels of the network input,
    kept in step by mmcv's ``Resize``/``RandomFlip``); a sample without one gets
    ``default_box`` (image fractions; method A's detector fallback by default).

    Args:
        num_classes: classes of the one-hot labels.
        alpha: Beta parameter (method A: 1.0).
        weighting: one of ``'one_minus_iou'``, ``'iou'``, ``'constant'``, ``'none'``.
        real_weight: the weight used by ``'constant'``.
        label_smoothing: applied to the one-hot labels before mixing (method A: 0.1).
        default_box: ``(x1, y1, x2, y2)`` fractions of the image for samples without a box.
    """

    def __init__(self, num_classes: int, alpha: float = 1.0, weighting: str = 'one_minus_iou',
                 real_weight: float = 1.0, label_smoothing: float = 0.0,
                 default_box: Sequence[float] = DEFAULT_FACE_BOX) -> None:
        if alpha <= 0:
            raise ValueError(f'alpha must be > 0, got {alpha}')
        if weighting not in _WEIGHTINGS:
            raise ValueError(f'weighting must be one of {_WEIGHTINGS}, got {weighting!r}')
        if not 0 <= label_smoothing < 1:
            raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
        self.num_classes = num_classes
        self.alpha = alpha
        self.weighting = weighting
        self.real_weight = real_weight
        self.label_smoothing = label_smoothing
        self.default_box = tuple(float(v) for v in default_box)

    def one_hot(self, labels: torch.Tensor) -> torch.Tensor:
        eps = self.label_smoothing
        target = torch.nn.functional.one_hot(labels, self.num_classes).float()
        return target * (1 - eps) + eps / self.num_classes

    def __call__(self, inputs: torch.Tensor, data_samples: List, lam: Optional[float] = None) -> MixedBatch:
        """Mix a batch.

        Args:
            inputs: preprocessed images ``(N, C, H, W)``; not modified.
            data_samples: their data samples, with ``gt_label`` and optionally ``gt_bboxes``.
            lam: a fixed mixing coefficient (drawn from Beta(alpha, alpha) when ``None``).
        """
        n = inputs.shape[0]
        if lam is None:
            lam = float(np.random.beta(self.alpha, self.alpha))
        pair = torch.arange(n - 1, -1, -1, device=inputs.device)
        labels = torch.cat([s.gt_label for s in data_samples]).to(inputs.device)
        real_target = self.one_hot(labels)
        boxes = batch_face_boxes(data_samples, inputs.shape[2], inputs.shape[3], self.default_box, inputs.device)
        iou = bbox_overlaps(boxes, boxes[pair], is_aligned=True)
        weight = {'one_minus_iou': 1 - iou, 'iou': iou, 'constant': torch.full_like(iou, self.real_weight),
                  'none': torch.zeros_like(iou)}[self.weighting]
        return MixedBatch(
            mixed=lam * inputs + (1 - lam) * inputs[pair],  # a new tensor: the real batch stays as it was
            mixed_target=lam * real_target + (1 - lam) * real_target[pair], real_target=real_target,
            pair=pair, iou=iou, real_weight=weight, lam=lam)
