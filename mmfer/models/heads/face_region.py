"""Face-region weighting of masked-image-modelling losses, shared by the MAE and SparK heads."""
from typing import List, Optional, Sequence, Tuple

import torch

from mmfer.structures import batch_face_boxes

#: Eye/brow and mouth bands, as fractions of the face box height.
DEFAULT_BANDS = ((0.15, 0.5), (0.6, 0.95))


class FaceRegionWeighting:
    """Mixin for a reconstruction head with a ``patch_size``: per-patch loss weights from the face box.

    With a region weight, a masked patch whose centre falls in the face region weighs ``inside`` and
    any other masked patch ``outside``; the head's loss becomes the weighted mean
    ``sum(l * m * w) / sum(m * w)`` over patch losses ``l``, mask ``m`` and weights ``w``.

    ``region_weight``: ``None`` (no weighting), or ``dict(mode='box' | 'bands', inside=2.0,
    outside=1.0)``; ``'box'`` weighs the whole face box, ``'bands'`` only its eye/brow and mouth
    bands (``bands``: ``(top, bottom)`` fractions of the box height). ``default_box`` is the face box,
    as ``(x1, y1, x2, y2)`` image fractions, for samples that carry no ``gt_bboxes``.
    """
    patch_size: int

    def init_region_weight(self, region_weight: Optional[dict], default_box: Sequence[float]) -> None:
        """Check and store the weighting settings (call from the head's ``__init__``)."""
        if region_weight is not None:
            region_weight = dict(region_weight)
            mode = region_weight.setdefault('mode', 'box')
            if mode not in ('box', 'bands'):
                raise ValueError(f"region_weight mode must be 'box' or 'bands', got {mode!r}")
            region_weight.setdefault('inside', 2.0)
            region_weight.setdefault('outside', 1.0)
            region_weight.setdefault('bands', DEFAULT_BANDS)
            if min(region_weight['inside'], region_weight['outside']) < 0 or \
                    max(region_weight['inside'], region_weight['outside']) <= 0:
                raise ValueError(f'region weights must be >= 0 and not all 0, got {region_weight}')
        if len(default_box) != 4:
            raise ValueError(f'default_box must be (x1, y1, x2, y2) fractions, got {default_box}')
        self.region_weight = region_weight
        self.default_box = tuple(float(v) for v in default_box)

    def patch_weights(self, data_samples: List, size: Tuple[int, int], device=None) -> torch.Tensor:
        """Per-patch weights ``(B, L)`` for images of ``size = (H, W)``, patches in row-major order."""
        h, w = size
        p = self.patch_size
        ys = (torch.arange(h // p, device=device, dtype=torch.float32) + 0.5) * p
        xs = (torch.arange(w // p, device=device, dtype=torch.float32) + 0.5) * p
        cy, cx = torch.meshgrid(ys, xs, indexing='ij')
        cy, cx = cy.reshape(1, -1), cx.reshape(1, -1)
        boxes = batch_face_boxes(data_samples, h, w, self.default_box, device)
        x1, y1, x2, y2 = (boxes[:, k:k + 1] for k in range(4))
        inside = (cx >= x1) & (cx < x2) & (cy >= y1) & (cy < y2)
        if self.region_weight['mode'] == 'bands':
            rel = (cy - y1) / (y2 - y1).clamp(min=1e-6)
            in_band = torch.zeros_like(inside)
            for top, bottom in self.region_weight['bands']:
                in_band |= (rel >= top) & (rel < bottom)
            inside &= in_band
        rw = self.region_weight
        return torch.where(inside, torch.full_like(cx, rw['inside']), torch.full_like(cx, rw['outside']))

    def weigh_mask(self, mask: torch.Tensor, data_samples: Optional[List], size: Tuple[int, int]) -> torch.Tensor:
        """``mask (B, L)`` times the patch weights, or ``mask`` itself without a region weight."""
        if self.region_weight is None:
            return mask
        if data_samples is None:
            data_samples = [None] * mask.shape[0]
        return mask * self.patch_weights(data_samples, size, mask.device)
