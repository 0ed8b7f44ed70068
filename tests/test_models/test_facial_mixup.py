import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmfer.models import FacialMixup
from mmfer.registry import BATCH_AUGMENTS


def samples(labels, boxes):
    out = []
    for y, b in zip(labels, boxes):
        s = DataSample().set_gt_label(y)
        if b is not None:
            s.set_field(np.array([b], np.float32), 'gt_bboxes')
        out.append(s)
    return out


def test_mixes_pairs_without_touching_the_real_batch():
    x = torch.randn(4, 3, 8, 8)
    before = x.clone()
    batch = FacialMixup(num_classes=3)(x, samples([0, 1, 2, 0], [None] * 4), lam=0.3)
    assert torch.equal(x, before)  # the real images are not modified
    torch.testing.assert_close(batch.mixed, 0.3 * x + 0.7 * x.flip(0))
    assert batch.pair.tolist() == [3, 2, 1, 0]
    torch.testing.assert_close(batch.mixed_target[1], torch.tensor([0., 0.3, 0.7]))
    torch.testing.assert_close(batch.mixed_target[0], torch.tensor([1., 0., 0.]))  # same class both sides


def test_iou_weights_from_boxes_and_default_box():
    boxes = [[0, 0, 4, 4], [0, 0, 8, 8], None, [2, 2, 6, 6]]
    mix = FacialMixup(num_classes=2, default_box=(0, 0, 1, 1))
    batch = mix(torch.zeros(4, 3, 8, 8), samples([0, 1, 0, 1], boxes), lam=0.5)
    # pairs (0,3): 4 / (16 + 16 - 4); (1,2): the default box is the whole 8x8 image -> 1
    iou03 = 4 / 28
    torch.testing.assert_close(batch.iou, torch.tensor([iou03, 1.0, 1.0, iou03]))
    torch.testing.assert_close(batch.real_weight, 1 - batch.iou)
    assert FacialMixup(2, weighting='none')(torch.zeros(4, 3, 8, 8), samples([0] * 4, boxes)).real_weight.sum() == 0
    with pytest.raises(ValueError, match='weighting'):
        FacialMixup(2, weighting='max')


def test_pair_iou_is_the_face_boxes_iou():
    x = torch.zeros(4, 1, 8, 8)
    boxes = [[0, 0, 2, 2], [0, 0, 1, 1], [2, 2, 3, 3], [1, 1, 3, 3]]  # pairs (0, 3) and (1, 2)
    batch = FacialMixup(2)(x, samples([0, 1, 0, 1], boxes))
    torch.testing.assert_close(batch.iou, torch.tensor([1 / 7, 0., 0., 1 / 7]))
    torch.testing.assert_close(batch.real_weight, 1 - batch.iou)
    assert type(BATCH_AUGMENTS.build(dict(type='FacialMixup', num_classes=2))) is FacialMixup


def test_lambda_follows_beta(monkeypatch):
    np.random.seed(0)
    lams = [FacialMixup(2, alpha=0.5)(torch.zeros(2, 1, 2, 2), samples([0, 1], [None, None])).lam
            for _ in range(2000)]
    assert abs(np.mean(lams) - 0.5) < 0.03 and abs(np.var(lams) - 0.125) < 0.015  # Beta(.5,.5): var 1/8


def test_label_smoothing_before_mixing():
    batch = FacialMixup(num_classes=4, label_smoothing=0.1)(torch.zeros(2, 1, 2, 2), samples([0, 1], [None] * 2),
                                                            lam=1.0)
    torch.testing.assert_close(batch.real_target[0], torch.tensor([0.925, 0.025, 0.025, 0.025]))
