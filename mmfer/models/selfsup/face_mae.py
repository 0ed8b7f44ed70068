"""MAE pre-training on faces: mmpretrain's MAE, with the batch's face boxes reaching the head."""
from typing import Dict, List

import torch
from mmpretrain.models.selfsup import MAE

from mmfer.registry import MODELS


@MODELS.register_module()
class FaceMAE(MAE):
    """mmpretrain's ``MAE`` (``MAEViT`` backbone, ``MAEPretrainDecoder`` neck) whose
    head also receives the data samples, so :class:`FaceMAEHead` can weigh the face."""

    def loss(self, inputs: torch.Tensor, data_samples: List, **kwargs) -> Dict[str, torch.Tensor]:
        latent, mask, ids_restore = self.backbone(inputs)
        pred = self.neck(latent, ids_restore)
        return dict(loss=self.head.loss(pred, inputs, mask, data_samples))
