import itertools
import os.path as osp
import runpy
import sys

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


@pytest.fixture(scope='session')
def split_file(synthfer_root, tmp_path_factory):
    """A 25 % label split of the tiny set's training faces (``tools/data/make_split.py --ratio 0.25``)."""
    from mmfer.datasets import SynthFER, save_split
    from mmfer.datasets.splits import split_dataset
    path = str(tmp_path_factory.mktemp('split') / 'split.json')
    dataset = SynthFER(data_root=synthfer_root, split='train')
    save_split(split_dataset(dataset, 0.25, 0), path)
    return path


_runs = itertools.count()


def _run_script(script: str, *args) -> int:
    """Run a script of the repository (``tools/train.py``, ``demo/fer_demo.py`` ...) as ``python SCRIPT
    ARGS`` would, but in this process, where the stack is already imported: a subprocess spends most of
    a tiny run importing torch, mmengine, mmpretrain and mmdet (40 s on a slow 2-core machine).

    Returns the exit code. Each train or test run gets its own ``experiment_name``: mmengine names a
    run's logger, visualizer and message hub after it, and two runs started in the same second would
    otherwise share them."""
    args = [str(a) for a in args]
    if osp.basename(script) in ('train.py', 'test.py'):
        name = f'experiment_name=run{next(_runs)}'
        if '--cfg-options' in args:
            args.insert(args.index('--cfg-options') + 1, name)
        else:
            args += ['--cfg-options', name]
    path = osp.join(REPO, script)
    argv, sys.argv = sys.argv, [path] + args
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = argv
    return 0


@pytest.fixture(scope='session')
def run_script():
    """Runs a script of the repository in this process and returns its exit code (``_run_script``)."""
    return _run_script


@pytest.fixture
def run_tool(capfd):
    """Runs a script of the repository in this process; returns ``(exit code, stdout + stderr)``."""

    def run(script, *args):
        capfd.readouterr()
        code = _run_script(script, *args)
        out, err = capfd.readouterr()
        return code, out + err

    return run
