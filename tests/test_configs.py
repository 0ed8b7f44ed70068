"""Every config parses, and its model and (where data exists) datasets build."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmfer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LEAVES = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py')) if '_base_' not in p)


@pytest.mark.parametrize('path', LEAVES, ids=[osp.relpath(p, REPO) for p in LEAVES])
def test_leaf_config_builds_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmfer'
    with DefaultScope.overwrite_default_scope('mmfer'):
        model = MODELS.build(cfg.model)
    assert model.head.num_classes == cfg.data_preprocessor.num_classes
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type in ('SynthFER', 'RAFDB', 'AffectNet', 'FERPlus')


def test_affectnet8_has_eight_classes():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_affectnet8.py'))
    assert cfg.train_dataloader.dataset.num_classes == cfg.val_dataloader.dataset.num_classes == 8
