"""Export an mmfer / mmpretrain classifier to ONNX and check it against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx [--check IMG ...]

The graph takes ``input``: float32 ``(N, 3, H, W)`` BGR pixels in 0-255 at the test pipeline's
size (what ``mmcv.imread`` + the config's resize give) and returns ``probs``: ``(N, K)`` class
probabilities. The data preprocessor's channel flip and mean/std normalisation are inside the
graph. A semi-supervised model (``SemiFERClassifier``) exports the network it predicts with
(its teacher by default). ``--check`` runs the images through onnxruntime and through the
PyTorch model's own ``test_step`` and fails when any probability differs by more than
``--atol``; the last line printed is a JSON summary.
"""
import argparse
import json
import sys

import numpy as np
import torch
from torch import nn

from mmfer.apis import FERInferencer


class ExportWrapper(nn.Module):
    """``probs = softmax(net(normalise(bgr_pixels)))`` with the model's own preprocessing."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        pre = model.data_preprocessor
        pre = getattr(pre, 'data_preprocessor', pre)  # mmdet's MultiBranchDataPreprocessor wraps one
        if getattr(model, 'predict_on', None):
            model = getattr(model, model.predict_on)
        self.model = model
        self.to_rgb = bool(getattr(pre, 'to_rgb', False))
        self.register_buffer('mean', pre.mean.clone().float() if getattr(pre, '_enable_normalize', True) else
                             torch.zeros(3, 1, 1))
        self.register_buffer('std', pre.std.clone().float() if getattr(pre, '_enable_normalize', True) else
                             torch.ones(3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.to_rgb:
            x = x.flip(1)
        return self.model((x - self.mean) / self.std, mode='tensor').softmax(-1)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='model.onnx')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--check', nargs='*', default=[], help='images (aligned faces) to compare outputs on')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--device', default=None, help='where the graph is traced and the check runs '
                        '(default: cuda where a GPU is present, else cpu)')
    return parser.parse_args()


def export(inferencer: FERInferencer, out: str, opset: int = 17) -> tuple:
    """Write the ONNX graph; return the input size ``(H, W)`` it was traced at."""
    wrapper = ExportWrapper(inferencer.model).eval()
    probe = inferencer.pipeline(dict(img=np.zeros((32, 32, 3), np.uint8), img_shape=(32, 32), ori_shape=(32, 32)))
    h, w = probe['inputs'].shape[-2:]
    probe = torch.zeros(1, 3, h, w, device=next(wrapper.parameters()).device)
    torch.onnx.export(wrapper, (probe, ), out, dynamo=False, opset_version=opset,
                      input_names=['input'], output_names=['probs'],
                      dynamic_axes={'input': {0: 'batch'}, 'probs': {0: 'batch'}})
    return h, w


def check(inferencer: FERInferencer, onnx_file: str, images: list) -> float:
    """The largest absolute difference of class probabilities, onnxruntime vs PyTorch."""
    import onnxruntime
    session = onnxruntime.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    batch = next(inferencer.preprocess(images, batch_size=len(images)))
    onnx_probs = session.run(None, {'input': batch['inputs'].float().cpu().numpy()})[0]
    torch_probs = np.stack([p['pred_scores'] for p in inferencer.postprocess(inferencer.forward(batch), None)])
    return float(np.abs(onnx_probs - torch_probs).max())


def main():
    args = parse_args()
    inferencer = FERInferencer(args.config, args.checkpoint, device=args.device, face_detector=None)
    size = export(inferencer, args.out, args.opset)
    print(f'wrote {args.out} (input N x 3 x {size[0]} x {size[1]} BGR 0-255, output N x {len(inferencer.classes)})')
    summary = dict(onnx=args.out, input_size=list(size), classes=list(inferencer.classes or []))
    if args.check:
        summary.update(max_abs_diff=check(inferencer, args.out, args.check), checked_images=len(args.check),
                       atol=args.atol)
        summary['ok'] = summary['max_abs_diff'] <= args.atol
    print(json.dumps(summary))
    if not summary.get('ok', True):
        sys.exit(1)


if __name__ == '__main__':
    main()
