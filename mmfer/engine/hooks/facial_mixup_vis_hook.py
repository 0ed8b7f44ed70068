"""A picture of stage II's FacialMixup pairs: both faces, their boxes, the mix, IoU and weights."""
import os.path as osp
from typing import Optional

import mmcv
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfer.registry import HOOKS
from mmfer.visualization import facial_mixup_grid


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
