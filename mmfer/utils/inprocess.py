"""Running the repository's scripts (``tools/train.py``, ``demo/fer_demo.py`` ...) inside this process."""
import itertools
import os.path as osp
import runpy
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_runs = itertools.count()


def run_script(script: str, *args) -> int:
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
