"""SparK pre-training on faces: mmpretrain's SparK, with the batch's face boxes reaching the head."""
from typing import Dict, List

import torch
from mmpretrain.models.selfsup import SparK

from mmfer.registry import MODELS


@MODELS.register_module()
class FaceSparK(SparK):
    """mmpretrain's ``SparK`` (``SparseResNet`` / ``SparseConvNeXt`` encoder, ``SparKLightDecoder``)
    whose head also receives the data samples, so :class:`~mmfer.models.FaceSparKHead` can weigh the
    face region. The encoder's weights carry the ``backbone.`` prefix and load into a dense
    ``mmpretrain.ResNet`` / ``mmpretrain.ConvNeXt`` of the same shape through
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.

    The input side must be a multiple of ``downsample_raito`` (32 for a ResNet): SparK masks whole
    cells of the deepest feature map, ``input_size / downsample_raito`` on a side.
    """

    def loss(self, inputs: torch.Tensor, data_samples: List, **kwargs) -> Dict[str, torch.Tensor]:
        if inputs.shape[-1] != self.input_size or inputs.shape[-2] != self.input_size:
            raise ValueError(f'FaceSparK was built for {self.input_size} px inputs, got {tuple(inputs.shape[-2:])}')
        # upstream SparK calls head(pred, target, mask): hand the samples to it on the way in
        handle = self.head.register_forward_pre_hook(
            lambda module, args, kw: (args, {**kw, 'data_samples': data_samples}), with_kwargs=True)
        try:
            return super().loss(inputs, data_samples, **kwargs)
        finally:
            handle.remove()
