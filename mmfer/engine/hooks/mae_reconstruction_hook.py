"""Pictures of MAE / SparK reconstructions while pre-training (method A, stage I)."""
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfer.registry import HOOKS


def _mae_reconstruction(model, inputs: torch.Tensor):
    """Visible-pixel mask ``(B, 1, H, W)`` and reconstruction of an MAE."""
    head = model.head
    latent, mask, ids_restore = model.backbone(inputs)
    pred = model.neck(latent, ids_restore)
    if head.norm_pix:  # undo the per-patch normalisation of the target
        target = head.patchify(inputs)
        pred = pred * (target.var(-1, keepdim=True) + 1e-6)**.5 + target.mean(-1, keepdim=True)
    p = head.patch_size
    masked = mask.reshape(mask.shape[0], 1, inputs.shape[2] // p, inputs.shape[3] // p)
    return masked.logical_not(), head.unpatchify(pred), p


def _spark_reconstruction(model, inputs: torch.Tensor):
    """Visible-pixel mask and reconstruction of a SparK, read off what its forward hands the head."""
    seen = {}
    handle = model.head.register_forward_hook(lambda module, args, out: seen.update(args=args))
    try:
        model.loss(inputs, [None] * inputs.shape[0])
    finally:
        handle.remove()
    pred, _, active = seen['args'][:3]
    if model.head.norm_pix:  # undo the per-patch normalisation of the target
        p = model.head.patch_size
        pred_p, target = model.head.patchify(pred), model.head.patchify(inputs)
        pred_p = pred_p * (target.var(-1, keepdim=True) + 1e-6)**.5 + target.mean(-1, keepdim=True)
        b, c, h, w = inputs.shape
        pred = pred_p.reshape(b, h // p, w // p, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, h, w)
    return active, pred, model.downsample_raito


def mae_reconstruction_grid(model, inputs: torch.Tensor) -> np.ndarray:
    """Rows of original / masked / reconstructed images for a batch of masked-modelling inputs.

    Args:
        model: an mmpretrain ``MAE`` / ``SparK`` (or mmfer ``FaceMAE`` / ``FaceSparK``) with its data
            preprocessor.
        inputs: preprocessed images ``(B, C, H, W)``.

    Returns:
        an RGB uint8 image of 3 rows x B columns. In the reconstruction, visible
        patches are the input's and masked patches the model's prediction.
    """
    with torch.no_grad():
        reconstruct = _spark_reconstruction if hasattr(model, 'downsample_raito') else _mae_reconstruction
        visible, pred, p = reconstruct(model, inputs)
        visible = visible.repeat_interleave(p, 2).repeat_interleave(p, 3).bool()
        recon = torch.where(visible, inputs, pred)
        masked = torch.where(visible, inputs, torch.zeros_like(inputs))
    pre = model.data_preprocessor
    rows = []
    for batch in (inputs, masked, recon):
        img = batch * pre.std + pre.mean  # preprocessor already turned BGR into RGB
        img = img.clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()
        rows.append(np.concatenate(list(img), axis=1))
    return np.concatenate(rows, axis=0)


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
