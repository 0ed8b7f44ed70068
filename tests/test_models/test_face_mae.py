import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import save_checkpoint
from mmpretrain.structures import DataSample

from mmfer.registry import MODELS

SMALL_VIT = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def face_mae(region_weight=None, img_size=32, patch=8):
    with DefaultScope.overwrite_default_scope('mmfer'):
        return MODELS.build(dict(
            type='FaceMAE',
            backbone=dict(type='mmpretrain.MAEViT', arch=SMALL_VIT, img_size=img_size, patch_size=patch,
                          mask_ratio=0.75),
            neck=dict(type='mmpretrain.MAEPretrainDecoder', num_patches=(img_size // patch)**2, patch_size=patch,
                      in_chans=3, embed_dim=32, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2),
            head=dict(type='FaceMAEHead', patch_size=patch, region_weight=region_weight,
                      loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))))


def test_default_is_exactly_mmpretrain_mae_head():
    with DefaultScope.overwrite_default_scope('mmfer'):
        ours = MODELS.build(dict(type='FaceMAEHead', patch_size=8,
                                 loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2')))
        stock = MODELS.build(dict(type='mmpretrain.MAEPretrainHead', patch_size=8,
                                  loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2')))
    pred, img = torch.randn(2, 16, 192), torch.randn(2, 3, 32, 32)
    mask = (torch.rand(2, 16) > 0.25).float()
    assert torch.equal(ours.loss(pred, img, mask, [DataSample(), DataSample()]), stock.loss(pred, img, mask))


def test_box_weighting_formula():
    head = face_mae(dict(mode='box', inside=3.0, outside=1.0)).head
    img = torch.zeros(1, 3, 32, 32)
    pred = torch.zeros(1, 16, 192)
    pred[0, :, :] = torch.arange(16.).unsqueeze(1)  # patch k has squared error k^2
    sample = DataSample()
    sample.set_field(torch.tensor([[0., 0., 16., 16.]]), 'gt_bboxes')  # top-left 2x2 patches (0, 1, 4, 5)
    w = head.patch_weights([sample], (32, 32))
    assert w.tolist() == [[3., 3., 1., 1., 3., 3., 1., 1.] + [1.] * 8]
    mask = torch.ones(1, 16)
    mask[0, 5] = 0  # patch 5 visible: no loss
    err = torch.arange(16.)**2
    expected = (err * mask[0] * w[0]).sum() / (mask[0] * w[0]).sum()
    torch.testing.assert_close(head.loss(pred, img, mask, [sample]), expected)


def test_bands_and_default_box():
    head = face_mae(dict(mode='bands', inside=2.0, outside=0.5)).head
    w = head.patch_weights([DataSample()], (32, 32))  # default box ~ [3.6, 3.6, 31.4, 31.4]
    # patch rows centred at 4, 12, 20, 28 px: relative heights 0.01, 0.3, 0.59, 0.88
    rows = w.reshape(4, 4)[:, 1].tolist()
    assert rows == [0.5, 2.0, 0.5, 2.0]
    with pytest.raises(ValueError, match='mode'):
        face_mae(dict(mode='eyes'))


def test_face_mae_trains_and_encoder_loads_into_vit(tmp_path):
    model = face_mae(dict(mode='box'))
    model.init_weights()
    imgs = torch.randn(2, 3, 32, 32)
    loss = model.loss(imgs, [DataSample(), DataSample()])['loss']
    loss.backward()
    assert loss.item() > 0 and model.backbone.patch_embed.projection.weight.grad is not None

    path = str(tmp_path / 'mae.pth')
    save_checkpoint({'state_dict': model.state_dict()}, path)
    with DefaultScope.overwrite_default_scope('mmfer'):
        vit = MODELS.build(dict(type='mmpretrain.VisionTransformer', arch=SMALL_VIT, img_size=32, patch_size=8,
                                out_type='cls_token',
                                init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.')))
    vit.init_weights()
    enc = {k[len('backbone.'):]: v for k, v in model.state_dict().items() if k.startswith('backbone.')}
    vit_state = vit.state_dict()
    assert set(enc) == set(vit_state)  # nothing skipped, nothing left over
    for k, v in enc.items():
        assert torch.equal(vit_state[k], v), k
