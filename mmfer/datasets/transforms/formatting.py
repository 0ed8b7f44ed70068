"""Target formatting for batches that mix hard labels with soft targets."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmfer.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LabelToScore(BaseTransform):
    """Give a sample without ``gt_score`` the one-hot score of its ``gt_label``; keep an existing one.

    mmpretrain's ``ClsHead`` trains on ``gt_score`` when a batch's first sample has one, so a batch
    of labeled faces and soft-target ones (``FaceList(soft_target=True)``) needs a score on every
    sample. Place it before ``PackInputs``.

    Args:
        num_classes: length of the score.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes

    def transform(self, results: dict) -> dict:
        if 'gt_score' not in results:
            score = np.zeros(self.num_classes, dtype=np.float32)
            score[int(results['gt_label'])] = 1.0
            results['gt_score'] = score
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'
