"""MAE pixel reconstruction for faces (method A, stage I)."""
from typing import List, Optional, Sequence

import torch
from mmpretrain.models.heads import MAEPretrainHead

from mmfer.registry import MODELS
from mmfer.structures import DEFAULT_FACE_BOX
from .face_region import FaceRegionWeighting


@MODELS.register_module()
class FaceMAEHead(FaceRegionWeighting, MAEPretrainHead):
    """mmpretrain's ``MAEPretrainHead`` with optional face-region weighting of the loss.

    With ``region_weight=None`` (the default, as in method A) this is exactly
    ``MAEPretrainHead``: the pixel loss averaged over masked patches. With a region weight the
    masked patches are weighed by :class:`~mmfer.models.heads.face_region.FaceRegionWeighting`.

    Args:
        loss: reconstruction loss config, e.g. ``dict(type='mmpretrain.PixelReconstructionLoss',
            criterion='L2')``; it receives the weighted mask.
        norm_pix: normalise each target patch (method A: off).
        patch_size: patch side in pixels.
        in_channels: image channels.
        region_weight: ``None``, or ``dict(mode='box' | 'bands', inside=2.0, outside=1.0)``.
        default_box: the face box, as ``(x1, y1, x2, y2)`` image fractions, for samples
            that carry no ``gt_bboxes`` (method A's detector fallback by default).
    """

    def __init__(self, loss: dict, norm_pix: bool = False, patch_size: int = 16, in_channels: int = 3,
                 region_weight: Optional[dict] = None, default_box: Sequence[float] = DEFAULT_FACE_BOX) -> None:
        super().__init__(loss=loss, norm_pix=norm_pix, patch_size=patch_size, in_channels=in_channels)
        self.init_region_weight(region_weight, default_box)

    def loss(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
             data_samples: Optional[List] = None) -> torch.Tensor:
        """Reconstruction loss.

        Args:
            pred: decoder output ``(B, L, p*p*C)``.
            target: the input images ``(B, C, H, W)``.
            mask: ``(B, L)``, 1 for masked patches.
            data_samples: the batch's data samples; their ``gt_bboxes`` (pixels of the
                input image) place the face region. Only read with ``region_weight``.
        """
        return super().loss(pred, target, self.weigh_mask(mask, data_samples, target.shape[-2:]))
