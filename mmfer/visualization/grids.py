"""The pictures mmfer draws: masked-modelling reconstructions, FacialMixup pairs, distilled images per class.

Each function returns an image array; the hooks and the method B loop write them to the work dir and
the runner's visualizer backends.
"""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch

from mmfer.structures import batch_face_boxes


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


def class_rows_grid(names: Sequence[str], rows: Sequence[Sequence[np.ndarray]], margin: int = 96) -> np.ndarray:
    """One row per class: its name on a white margin on the left, then its images (all of one size)."""
    out = []
    for name, images in zip(names, rows):
        h = images[0].shape[0]
        label = np.full((h, margin, 3), 255, np.uint8)
        cv2.putText(label, name[:10], (2, h // 2 + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        out.append(np.concatenate([label] + list(images), axis=1))
    return np.concatenate(out, axis=0)
