"""FaceSparK / FaceSparKHead: mmpretrain's SparK with the face-region weighting of FaceMAEHead, and an
encoder that loads whole into a dense mmpretrain ResNet."""
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import save_checkpoint
from mmpretrain.structures import DataSample

from mmfer.registry import MODELS
from mmfer.visualization import mae_reconstruction_grid

LOSS = dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2')
WIDTH = dict(depth=18, base_channels=4, stem_channels=4)


def spark(type='FaceSparK', head=None, size=64):
    torch.manual_seed(0)
    bn = dict(type='mmpretrain.SparseBatchNorm2d')
    with DefaultScope.overwrite_default_scope('mmfer'):
        return MODELS.build(dict(
            type=type, input_size=size, downsample_raito=32, mask_ratio=0.5, enc_dec_norm_cfg=bn, enc_dec_norm_dim=32,
            data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[100., 110., 120.],
                                   std=[50., 60., 70.], to_rgb=True),
            backbone=dict(type='mmpretrain.SparseResNet', out_indices=(0, 1, 2, 3), norm_cfg=bn, **WIDTH),
            neck=dict(type='mmpretrain.SparKLightDecoder', feature_dim=32, upsample_ratio=32, last_act=False,
                      norm_cfg=dict(type='BN')),
            head=head or dict(type='FaceSparKHead', patch_size=32, norm_pix=True, loss=LOSS)))


def test_without_region_weight_the_loss_is_mmpretrains_spark():
    ours = spark()
    stock = spark('mmpretrain.SparK', dict(type='mmpretrain.SparKPretrainHead', patch_size=32, loss=LOSS))
    stock.load_state_dict(ours.state_dict())
    x = torch.randn(3, 3, 64, 64)
    torch.manual_seed(5)
    a = ours.loss(x, [DataSample() for _ in range(3)])['loss']
    torch.manual_seed(5)  # the same mask
    b = stock.loss(x, [DataSample() for _ in range(3)])['loss']
    assert torch.equal(a, b) and float(a.detach()) > 0


def test_face_region_weighting_reaches_the_head_through_the_samples():
    head = dict(type='FaceSparKHead', patch_size=32, loss=LOSS, region_weight=dict(mode='box', inside=3.0))
    model = spark(head=head)
    x = torch.randn(2, 3, 64, 64)
    samples = [DataSample(metainfo=dict()) for _ in range(2)]
    for s in samples:
        s.gt_bboxes = torch.tensor([[0., 0., 31., 31.]])  # only the top-left cell's centre is inside
    seen = {}
    model.head.register_forward_hook(lambda m, args, kwargs, out: seen.update(args=args, kwargs=kwargs, out=out),
                                     with_kwargs=True)
    model.loss(x, samples)
    pred, target, active = seen['args']
    assert seen['kwargs']['data_samples'] is samples
    err = ((model.head.patchify(pred) - model.head.patchify(target))**2).mean(-1)  # (B, 4) per cell
    masked = active.logical_not().float().view(2, -1)
    w = torch.tensor([3., 1., 1., 1.]) * masked
    torch.testing.assert_close(seen['out'], (err * w).sum() / w.sum())
    assert int(masked.sum()) == 2 * 2  # mask ratio 0.5 of a 2 x 2 grid


def test_encoder_loads_whole_into_a_dense_resnet(tmp_path):
    model = spark()
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p))
    save_checkpoint(model.state_dict(), str(tmp_path / 'spark.pth'))
    with DefaultScope.overwrite_default_scope('mmfer'):
        cls = MODELS.build(dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmpretrain.ResNet', **WIDTH, init_cfg=dict(
                type='Pretrained', checkpoint=str(tmp_path / 'spark.pth'), prefix='backbone.')),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=32)))
    cls.init_weights()
    encoder = {k[len('backbone.'):]: v for k, v in model.state_dict().items() if k.startswith('backbone.')}
    dense = cls.backbone.state_dict()
    assert encoder.keys() == dense.keys()  # none skipped, none missing
    for k, v in encoder.items():
        assert torch.equal(dense[k], v), k
    assert cls(torch.randn(2, 3, 48, 48)).shape == (2, 7)  # and runs at the classifier's own size


def test_reconstruction_grid_keeps_visible_cells_and_paints_predictions():
    model = spark()
    model.head.norm_pix = False
    model.eval()
    inputs = torch.rand(2, 3, 64, 64) * 2 - 1
    torch.manual_seed(1)
    grid = mae_reconstruction_grid(model, inputs)
    assert grid.shape == (192, 128, 3) and grid.dtype.name == 'uint8'
    torch.manual_seed(1)  # same mask again
    active = model.mask(inputs.shape, inputs.device)
    original, masked, recon = grid[:64], grid[64:128], grid[128:]
    for b in range(2):
        for k in range(4):
            ys, xs = slice(32 * (k // 2), 32 * (k // 2) + 32), slice(64 * b + 32 * (k % 2), 64 * b + 32 * (k % 2) + 32)
            if active[b, 0, k // 2, k % 2]:  # visible: rows 2 and 3 are the original pixels
                assert (masked[ys, xs] == original[ys, xs]).all() and (recon[ys, xs] == original[ys, xs]).all()
            else:  # masked: blank (the mean colour) in row 2, a prediction in row 3
                assert (masked[ys, xs] == [100, 110, 120]).all() and not (recon[ys, xs] == original[ys, xs]).all()
    assert int(active.sum()) == 2 * 2
