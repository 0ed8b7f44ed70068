import os.path as osp

import pytest

from mmfer.datasets.synthfer import SynthFERConfig, generate
from mmfer.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

register_all_modules()


@pytest.fixture(scope='session')
def synthfer_root(tmp_path_factory):
    """A tiny SynthFER set (32 px), generated once per test session."""
    root = str(tmp_path_factory.mktemp('synthfer'))
    generate(root, SynthFERConfig(num_train=140, num_test=60, num_pool=80, img_size=32, num_identities=20,
                                  num_pool_identities=20, seed=3), workers=1, progress=False)
    return root
