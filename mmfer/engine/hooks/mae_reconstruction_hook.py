"""Pictures of MAE / SparK reconstructions while pre-training (method A, stage I)."""
import os.path as osp
from typing import Optional

import mmcv
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfer.registry import HOOKS
from mmfer.visualization import mae_reconstruction_grid


@HOOKS.register_module()
class MAEReconstructionHook(Hook):
    """Draw original / masked / reconstructed faces every ``interval`` epochs and at the end (MAE or SparK).

    PNGs go to ``<work_dir>/vis/mae_epoch_<N>.png`` and to the runner's visualizer
    backends (e.g. TensorBoard). The images are the first ``num_images`` of the
    training set, so pictures from different epochs show the same faces.

    Args:
        interval: epochs between pictures.
        num_images: columns in the grid.
        out_dir: folder under the work dir.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 10, num_images: int = 8, out_dir: str = 'vis') -> None:
        if interval < 1 or num_images < 1:
            raise ValueError(f'interval and num_images must be >= 1, got {interval}, {num_images}')
        self.interval = interval
        self.num_images = num_images
        self.out_dir = out_dir
        self.last_path: Optional[str] = None

    def after_train_epoch(self, runner) -> None:
        if runner.rank != 0 or not (self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner)):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = runner.train_dataloader.dataset
        items = [dataset[i] for i in range(min(self.num_images, len(dataset)))]
        was_training = model.training
        model.eval()
        inputs = model.data_preprocessor(runner.train_dataloader.collate_fn(items), False)['inputs']
        grid = mae_reconstruction_grid(model, inputs)
        model.train(was_training)
        self.last_path = osp.join(runner.work_dir, self.out_dir, f'mae_epoch_{runner.epoch + 1}.png')
        mmcv.imwrite(mmcv.rgb2bgr(grid), self.last_path)
        runner.visualizer.add_image('mae_reconstruction', grid, step=runner.epoch + 1)
