"""A picture of stage II's FacialMixup pairs: both faces, their boxes, the mix, IoU and weights."""
import os.path as osp
from typing import Optional

import cv2
import mmcv
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfer.registry import HOOKS
from mmfer.structures import batch_face_boxes


def facial_mixup_grid(model, inputs: torch.Tensor, data_samples: list, num_pairs: int,
                      lam: Optional[float] = None, tile: int = 128) -> np.ndarray:
    """One row per pair ``(i, N-1-i)``: face ``i`` (green box), face ``N-1-i`` (red box) and their mix
    with both boxes, captioned with the boxes' IoU, the real pair's weight and lambda.

    Args:
        model: a :class:`FacialMixupClassifier` (its ``facial_mixup`` and data preprocessor are used).
        inputs: preprocessed images ``(N, C, H, W)``.
        data_samples: their data samples.
        num_pairs: rows to draw (at most ``N // 2``).
        lam: the mixing coefficient (drawn as in training when ``None``).
        tile: side of each drawn image in pixels.

    Returns:
        an RGB uint8 image.
    """
    mix = model.facial_mixup(inputs, data_samples, lam=lam)
    h, w = inputs.shape[2:]
    boxes = batch_face_boxes(data_samples, h, w, model.facial_mixup.default_box).numpy() * ([tile / w, tile / h] * 2)
    pre = model.data_preprocessor
    to_img = lambda x: cv2.resize((x * pre.std + pre.mean).clamp(0, 255).byte().permute(1, 2, 0).numpy(),  # noqa
                                  (tile, tile), interpolation=cv2.INTER_NEAREST)
    green, red = (0, 200, 0), (230, 40, 40)
    rows = []
    for i in range(min(num_pairs, inputs.shape[0] // 2)):
        j = int(mix.pair[i])
        a, b, m = (np.ascontiguousarray(to_img(x)) for x in (inputs[i], inputs[j], mix.mixed[i]))
        for img, drawn in ((a, [(i, green)]), (b, [(j, red)]), (m, [(i, green), (j, red)])):
            for k, color in drawn:
                x1, y1, x2, y2 = (int(round(v)) for v in boxes[k])
                cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), color, 1)
        caption = np.full((tile, 2 * tile, 3), 255, np.uint8)
        for n, text in enumerate((f'pair {i} + {j}', f'IoU {float(mix.iou[i]):.3f}',
                                  f'real weight {float(mix.real_weight[i]):.3f}', 'mixed weight 1',
                                  f'lambda {mix.lam:.3f}')):
            cv2.putText(caption, text, (6, 20 + 22 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.concatenate([a, b, m, caption], axis=1))
    return np.concatenate(rows, axis=0)


@HOOKS.register_module()
class FacialMixupVisHook(Hook):
    """Draw the first training samples' FacialMixup pairs once, before training (stage II).

    Written to ``<work_dir>/<out_dir>/facial_mixup_pairs.png`` and to the runner's visualizer
    backends as ``facial_mixup_pairs`` (see :func:`facial_mixup_grid` for the layout).

    Args:
        num_pairs: pairs to draw (from the first ``2 * num_pairs`` training samples).
        lam: a fixed lambda for the picture (default: drawn from Beta(alpha, alpha) as in training).
        out_dir: folder under the work dir.
    """

    def __init__(self, num_pairs: int = 4, lam: Optional[float] = 0.5, out_dir: str = 'vis') -> None:
        self.num_pairs = num_pairs
        self.lam = lam
        self.out_dir = out_dir
        self.last_path: Optional[str] = None

    def before_train(self, runner) -> None:
        if runner.rank != 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = runner.train_dataloader.dataset
        items = [dataset[i] for i in range(min(2 * self.num_pairs, len(dataset)))]
        data = model.data_preprocessor(runner.train_dataloader.collate_fn(items), False)
        with torch.no_grad():
            grid = facial_mixup_grid(model, data['inputs'], data['data_samples'], self.num_pairs, self.lam)
        self.last_path = osp.join(runner.work_dir, self.out_dir, 'facial_mixup_pairs.png')
        mmcv.imwrite(mmcv.rgb2bgr(grid), self.last_path)
        runner.visualizer.add_image('facial_mixup_pairs', grid, step=0)
