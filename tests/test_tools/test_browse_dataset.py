"""tools/analysis/browse_dataset.py: a grid of what the pipeline feeds the model."""
import importlib.util
import os.path as osp

import numpy as np
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location('browse_dataset',
                                              osp.join(REPO, 'tools', 'analysis', 'browse_dataset.py'))
browse_dataset = importlib.util.module_from_spec(spec)
spec.loader.exec_module(browse_dataset)


def test_grid_of_samples_with_face_boxes(synthfer_root):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', 'stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py'))
    cfg.train_dataloader.dataset.update(data_root=synthfer_root, split_file=None)
    grid = browse_dataset.browse(cfg, 'train', num=5, cols=2, size=32)
    assert grid.shape == (3 * 48, 2 * 32, 3)  # 5 tiles in rows of 2, each 32 px + a 16 px caption
    green = (grid[..., 1] == 200) & (grid[..., 0] == 0) & (grid[..., 2] == 0)
    assert green.any()  # SynthFER's face boxes are drawn
    assert (grid[-48:, 32:] == 255).all()  # the 6th tile is blank


def test_multi_branch_samples_show_every_view(synthfer_root, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', 'stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py'))
    labeled, unlabeled = cfg.train_dataloader.dataset.datasets
    labeled.update(data_root=synthfer_root, split_file=None)
    unlabeled.data_root = osp.join(synthfer_root, 'pool')
    grid = browse_dataset.browse(cfg, 'train', num=4, cols=8, size=32)
    # 3 branches per sample; 8 columns round down to 6 so a row holds whole samples
    assert grid.shape[1] == 6 * 32 and grid.shape[0] == 2 * 48
    rows = [grid[r * 48:r * 48 + 32] for r in range(2)]
    blank = [[(row[:, c * 32:(c + 1) * 32] == 255).all() for c in range(6)] for row in rows]
    # a labeled sample has only the `sup` view, an unlabeled one only the teacher's and the student's
    assert all(b in ([False, True, True], [True, False, False]) for row in blank for b in (row[:3], row[3:]))
    for r, row in enumerate(rows):
        for start in (0, 96):
            if not blank[r][start // 32 + 1]:  # weak and strong views of the same face differ
                assert not np.array_equal(row[:, start + 32:start + 64], row[:, start + 64:start + 96])
