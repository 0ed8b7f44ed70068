import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', 'analysis'))
from plot_curves import read_scalars  # noqa: E402

from mmfer.visualization import plot_curves as plot  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _log(path, rows):
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


def test_resumed_logs_are_merged_in_time_order(tmp_path, run_tool):
    first = [dict(lr=1e-3, loss=3.0 - s / 100, unsup_mask_rate=s / 100, step=s) for s in (50, 100, 150)]
    first.append({'accuracy/top1': 40.0, 'step': 150})  # a validation row: no lr, not a training curve
    resumed = [dict(lr=1e-3, loss=9.0, unsup_mask_rate=0.9, step=s) for s in (150, 200)]
    _log(tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json', first)
    _log(tmp_path / '20260101_010000' / 'vis_data' / 'scalars.json', resumed)
    series = read_scalars(str(tmp_path))
    steps, values = series['unsup_mask_rate']
    np.testing.assert_array_equal(steps, [50, 100, 150, 200])
    np.testing.assert_allclose(values, [0.5, 1.0, 0.9, 0.9])  # step 150 from the resumed run
    assert 'accuracy/top1' not in series

    out = str(tmp_path / 'curves.png')
    plot(series, ['loss', 'unsup_mask_rate'], out, smooth=2)
    assert cv2.imread(out).shape[1] > cv2.imread(out).shape[0] > 100  # two panels side by side
    with pytest.raises(SystemExit, match='unsup_pseudo_acc'):  # nothing to draw
        plot(series, ['unsup_pseudo_acc'], out)
    plot(series, ['unsup_pseudo_acc', 'loss'], str(tmp_path / 'one.png'))  # draws what was logged
    assert cv2.imread(str(tmp_path / 'one.png')).shape[1] < cv2.imread(out).shape[1]
    assert run_tool('tools/analysis/plot_curves.py', tmp_path, '--keys', 'loss')[0] == 0
    assert osp.exists(tmp_path / 'curves.png')
