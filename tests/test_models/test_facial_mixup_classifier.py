import numpy as np
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmfer.registry import MODELS


def test_loss_is_method_a_formula():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmfer'):
        model = MODELS.build(dict(
            type='FacialMixupClassifier',
            facial_mixup=dict(alpha=1.0, label_smoothing=0.0),
            backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=4, stem_channels=4),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(type='mmpretrain.LinearClsHead', num_classes=3, in_channels=32)))
    model.eval()  # fixed BatchNorm statistics, so separate forwards match the joint one
    x = torch.randn(4, 3, 16, 16)
    data = []
    for y, box in zip([0, 1, 2, 1], [[0, 0, 8, 8], [0, 0, 16, 16], [4, 4, 12, 12], [0, 0, 16, 16]]):
        s = DataSample().set_gt_label(y)
        s.set_field(np.array([box], np.float32), 'gt_bboxes')
        data.append(s)
    losses = model.loss(x, data, lam=0.25)

    y = torch.tensor([0, 1, 2, 1])
    mixed = 0.25 * x + 0.75 * x.flip(0)
    soft = 0.25 * F.one_hot(y, 3).float() + 0.75 * F.one_hot(y.flip(0), 3).float()
    ce_mix = -(soft * F.log_softmax(model(mixed), -1)).sum(-1)
    ce_real = F.cross_entropy(model(x), y, reduction='none')
    # pairs (0,3) and (1,2): IoU(0..8 box, whole image) = 64/256, IoU(whole, 4..12 box) = 64/256
    w = torch.full((4, ), 1 - 0.25)
    torch.testing.assert_close(losses['loss_mix'], ce_mix.sum() / 4)
    torch.testing.assert_close(losses['loss_real'], (w * (ce_real + ce_real.flip(0))).sum() / 4)
    assert losses['loss_mix'].requires_grad
    # the real / virtual weights SemiFERHook schedules scale each term
    model.mix_weight, model.real_scale = 0.5, 3.0
    scaled = model.loss(x, data, lam=0.25)
    torch.testing.assert_close(scaled['loss_mix'], 0.5 * losses['loss_mix'])
    torch.testing.assert_close(scaled['loss_real'], 3.0 * losses['loss_real'])
