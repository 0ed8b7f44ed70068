import torch
from mmengine.registry import DefaultScope

from mmfer.registry import MODELS
from mmfer.visualization import mae_reconstruction_grid


def test_grid_keeps_visible_patches_and_paints_predictions():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmfer'):
        model = MODELS.build(dict(
            type='FaceMAE',
            data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[100., 110., 120.],
                                   std=[50., 60., 70.], to_rgb=True),
            backbone=dict(type='mmpretrain.MAEViT', img_size=16, patch_size=8,
                          arch=dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)),
            neck=dict(type='mmpretrain.MAEPretrainDecoder', num_patches=4, patch_size=8, embed_dim=32,
                      decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2),
            head=dict(type='FaceMAEHead', patch_size=8,
                      loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))))
    model.eval()
    inputs = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.manual_seed(1)
    grid = mae_reconstruction_grid(model, inputs)
    assert grid.shape == (48, 32, 3) and grid.dtype.name == 'uint8'
    torch.manual_seed(1)  # same mask again
    _, mask, _ = model.backbone(inputs)
    original, masked, recon = grid[:16], grid[16:32], grid[32:]
    for b in range(2):
        for k in range(4):
            ys, xs = slice(8 * (k // 2), 8 * (k // 2) + 8), slice(16 * b + 8 * (k % 2), 16 * b + 8 * (k % 2) + 8)
            if mask[b, k]:  # masked: blank (the mean colour) in row 2, a prediction in row 3
                assert (masked[ys, xs] == [100, 110, 120]).all()
            else:  # visible: rows 2 and 3 are the original pixels
                assert (masked[ys, xs] == original[ys, xs]).all() and (recon[ys, xs] == original[ys, xs]).all()
    assert int(mask.sum()) == 2 * 3  # mask ratio 0.75 of 4 patches
