import os.path as osp

import pytest

from mmfer.datasets.synthfer import SynthFERConfig, generate
from mmfer.utils import register_all_modules
from mmfer.utils.inprocess import run_script as run_script_in_process

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

register_all_modules()


@pytest.fixture(scope='session')
def synthfer_root(tmp_path_factory):
    """A tiny SynthFER set (32 px), generated once per test session."""
    root = str(tmp_path_factory.mktemp('synthfer'))
    generate(root, SynthFERConfig(num_train=140, num_test=60, num_pool=80, img_size=32, num_identities=20,
                                  num_pool_identities=20, seed=3), workers=1, progress=False)
    return root


@pytest.fixture(scope='session')
def split_file(synthfer_root, tmp_path_factory):
    """A 25 % label split of the tiny set's training faces (``tools/data/make_split.py --ratio 0.25``)."""
    from mmfer.datasets import SynthFER, save_split
    from mmfer.datasets.splits import split_dataset
    path = str(tmp_path_factory.mktemp('split') / 'split.json')
    dataset = SynthFER(data_root=synthfer_root, split='train')
    save_split(split_dataset(dataset, 0.25, 0), path)
    return path


@pytest.fixture(scope='session')
def run_script():
    """Runs a script of the repository in this process and returns its exit code (``run_script_in_process``)."""
    return run_script_in_process


@pytest.fixture
def run_tool(capfd):
    """Runs a script of the repository in this process; returns ``(exit code, stdout + stderr)``."""

    def run(script, *args):
        capfd.readouterr()
        code = run_script_in_process(script, *args)
        out, err = capfd.readouterr()
        return code, out + err

    return run
