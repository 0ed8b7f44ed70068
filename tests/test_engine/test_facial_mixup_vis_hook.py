from types import SimpleNamespace

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmfer.engine.hooks import FacialMixupVisHook
from mmfer.registry import MODELS
from mmfer.visualization import facial_mixup_grid

MEAN, STD = [100., 110., 120.], [50., 60., 70.]


def _model():
    with DefaultScope.overwrite_default_scope('mmfer'):
        return MODELS.build(dict(
            type='FacialMixupClassifier', facial_mixup=dict(alpha=1.0),
            data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=3, mean=MEAN, std=STD,
                                   to_rgb=False),
            backbone=dict(type='mmpretrain.VisionTransformer', arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                                                                         feedforward_channels=32),
                          img_size=16, patch_size=8),
            head=dict(type='mmpretrain.LinearClsHead', num_classes=3, in_channels=16)))


def _samples(boxes):
    samples = [DataSample().set_gt_label(k % 3) for k in range(len(boxes))]
    for s, b in zip(samples, boxes):
        if b is not None:
            s.set_field(np.array([b], np.float32), 'gt_bboxes', field_type='metainfo')
    return samples


def test_grid_shows_both_faces_their_mix_and_the_pair_numbers():
    model = _model()
    torch.manual_seed(0)
    inputs = torch.rand(4, 3, 16, 16) * 2 - 1
    # pair 0 + 3: identical boxes (IoU 1, real weight 0); pair 1 + 2: disjoint halves (IoU 0, weight 1)
    samples = _samples([[0, 0, 16, 16], [0, 0, 8, 16], [8, 0, 16, 16], [0, 0, 16, 16]])
    grid = facial_mixup_grid(model, inputs, samples, num_pairs=2, lam=0.25, tile=32)
    assert grid.shape == (64, 5 * 32, 3) and grid.dtype == np.uint8
    mean, std = torch.tensor(MEAN)[:, None, None], torch.tensor(STD)[:, None, None]
    pixels = lambda x: (x * std + mean).permute(1, 2, 0)  # noqa: E731
    # interior of row 0 (away from the box lines): face 0, face 3 and 0.25 * face 0 + 0.75 * face 3
    a, b = pixels(inputs[0]), pixels(inputs[3])
    for col, expected in ((0, a), (1, b), (2, 0.25 * a + 0.75 * b)):
        tile = grid[:32, 32 * col:32 * col + 32]
        expected = cv2.resize(expected.clamp(0, 255).byte().numpy(), (32, 32), interpolation=cv2.INTER_NEAREST)
        assert np.abs(tile[4:28, 4:28].astype(int) - expected[4:28, 4:28]).max() <= 1
    # row 1, face 1's box is the left half: its green right edge at x = 15 of the 32 px tile
    assert tuple(grid[32 + 10, 15]) == (0, 200, 0) and tuple(grid[32 + 10, 64 + 16]) == (230, 40, 40)


def test_hook_writes_the_picture_before_training(tmp_path):
    model = _model()
    imgs = [np.full((16, 16, 3), 10 * k, np.uint8) for k in range(6)]
    dataset = [dict(inputs=torch.from_numpy(im).permute(2, 0, 1), data_samples=s)
               for im, s in zip(imgs, _samples([None] * 6))]
    logged = []
    runner = SimpleNamespace(rank=0, model=model, work_dir=str(tmp_path),
                             train_dataloader=SimpleNamespace(dataset=dataset, collate_fn=pseudo_collate),
                             visualizer=SimpleNamespace(add_image=lambda name, img, step: logged.append((name, img))))
    hook = FacialMixupVisHook(num_pairs=3)
    hook.before_train(runner)
    picture = cv2.imread(hook.last_path)
    assert hook.last_path == str(tmp_path / 'vis' / 'facial_mixup_pairs.png')
    assert picture.shape == (3 * 128, 5 * 128, 3) and logged[0][0] == 'facial_mixup_pairs'
    np.testing.assert_array_equal(picture[..., ::-1], logged[0][1])
    # no boxes: every face gets the default box, so IoU 1 and the real images weigh 0; lambda fixed at 0.5
    mixed = picture[:128, 256:384][40:90, 40:90]  # pair 0 + 5: (0 + 50) / 2 in every channel
    assert np.abs(mixed.astype(int) - 25).max() <= 1
    runner.rank = 1
    FacialMixupVisHook().before_train(runner)
    assert len(logged) == 1
