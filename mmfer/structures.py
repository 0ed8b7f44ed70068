"""Face boxes carried by data samples, gathered per batch."""
from typing import List, Sequence

import numpy as np
import torch

#: Method A's fallback face box, [25, 25, 220, 220] on a 224 px image, as image fractions.
DEFAULT_FACE_BOX = (25 / 224, 25 / 224, 220 / 224, 220 / 224)
#: landmarks of a landmark face detector's rows (see mmfer.models.face_detectors)
NUM_LANDMARKS = 5


def batch_face_boxes(data_samples: List, height: int, width: int,
                     default_box: Sequence[float] = DEFAULT_FACE_BOX, device=None) -> torch.Tensor:
    """The batch's face boxes ``(N, 4)``, ``x1, y1, x2, y2`` in pixels of the network input.

    A sample's box is the first row of its ``gt_bboxes``; a sample without one (or a
    ``None`` sample) gets ``default_box``, given as fractions of the image.
    """
    default = np.asarray(default_box, np.float32) * np.array([width, height, width, height], np.float32)
    boxes = np.empty((len(data_samples), 4), np.float32)
    for i, s in enumerate(data_samples):
        box = None if s is None else s.get('gt_bboxes', None)
        boxes[i] = default if box is None else np.asarray(box, np.float32).reshape(-1, 4)[0]
    return torch.from_numpy(boxes).to(device)


def split_detections(rows: np.ndarray):
    """``(boxes (K, 4), scores (K,), landmarks (K, 5, 2) or None)`` of a detector's ``(K, 5|15)`` rows."""
    rows = np.atleast_2d(np.asarray(rows, np.float32))
    landmarks = rows[:, 5:5 + 2 * NUM_LANDMARKS].reshape(-1, NUM_LANDMARKS, 2) if rows.shape[1] >= 15 else None
    return rows[:, :4], rows[:, 4], landmarks
