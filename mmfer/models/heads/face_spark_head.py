"""SparK pixel reconstruction for faces (method A, stage I on convolutional backbones)."""
from typing import List, Optional, Sequence

import torch
from mmpretrain.models.heads import SparKPretrainHead

from mmfer.registry import MODELS
from mmfer.structures import DEFAULT_FACE_BOX
from .face_region import FaceRegionWeighting


@MODELS.register_module()
class FaceSparKHead(FaceRegionWeighting, SparKPretrainHead):
    """mmpretrain's ``SparKPretrainHead`` with the optional face-region weighting of
    :class:`FaceMAEHead` (one implementation: :class:`FaceRegionWeighting`).

    With ``region_weight=None`` this is exactly ``SparKPretrainHead``: the pixel loss averaged over
    the masked (non-active) patches of side ``patch_size`` (SparK's downsample ratio). Method A's
    stage I reconstructs raw face pixels, so ``norm_pix`` defaults to off here (upstream: on).

    Args:
        loss: reconstruction loss config, e.g. ``dict(type='mmpretrain.PixelReconstructionLoss',
            criterion='L2')``; it receives the (weighted) mask.
        norm_pix: normalise each target patch.
        patch_size: patch side in pixels, equal to the backbone's downsample ratio.
        region_weight: ``None``, or ``dict(mode='box' | 'bands', inside=2.0, outside=1.0)``.
        default_box: the face box, as ``(x1, y1, x2, y2)`` image fractions, for samples without
            ``gt_bboxes``.
    """

    def __init__(self, loss: dict, norm_pix: bool = False, patch_size: int = 32,
                 region_weight: Optional[dict] = None, default_box: Sequence[float] = DEFAULT_FACE_BOX) -> None:
        super().__init__(loss=loss, norm_pix=norm_pix, patch_size=patch_size)
        self.init_region_weight(region_weight, default_box)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, active_mask: torch.Tensor,
                data_samples: Optional[List] = None) -> torch.Tensor:
        """Reconstruction loss.

        Args:
            pred: the reconstructed images ``(B, C, H, W)``.
            target: the input images ``(B, C, H, W)``.
            active_mask: ``(B, 1, f, f)``, True for visible patches.
            data_samples: the batch's data samples; their ``gt_bboxes`` place the face region.
        """
        size = target.shape[-2:]
        target, pred = self.construct_target(target), self.patchify(pred)
        masked = active_mask.logical_not().float().view(active_mask.shape[0], -1)
        return self.loss(pred, target, self.weigh_mask(masked, data_samples, size))
