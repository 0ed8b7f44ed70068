"""benchmarks/common.py's reuse: a stage trained by ``reuse_or_train`` is reused by the next call."""
import os.path as osp
import sys
from types import SimpleNamespace

import numpy as np
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class FakeRunner:
    """Runner.from_cfg's stand-in: no training; remembers each config it was built from."""
    built = []

    def __init__(self, cfg):
        self.cfg = cfg
        self.val_loop = SimpleNamespace(run=lambda: {'accuracy/top1': 50.0})
        self.message_hub = SimpleNamespace(log_scalars={'train/time': SimpleNamespace(data=[np.array([0.5, 0.5])])})
        FakeRunner.built.append(cfg)

    def train(self):
        pass

    def save_checkpoint(self, out_dir, filename, **kwargs):
        with open(osp.join(out_dir, filename), 'wb') as f:
            f.write(b'weights')


def test_a_finished_stage_is_reused_and_the_callers_config_is_left_as_it_was(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(osp.join(REPO, 'benchmarks'))
    sys.modules.pop('common', None)
    import common
    monkeypatch.setattr(common, 'Runner', SimpleNamespace(from_cfg=FakeRunner))
    FakeRunner.built.clear()
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                                         logger=dict(type='LoggerHook', interval=50)), train_cfg=dict(max_iters=3)))
    before = cfg.pretty_text
    (tmp_path / 'arm').mkdir()
    first = common.reuse_or_train(True, cfg, str(tmp_path), 'arm')
    assert cfg.pretty_text == before  # the run's own hooks went to its copy only
    assert FakeRunner.built[0].default_hooks.checkpoint.interval == -1
    second = common.reuse_or_train(True, cfg, str(tmp_path), 'arm')
    assert len(FakeRunner.built) == 1 and second['checkpoint'] == first['checkpoint']
    cfg.train_cfg.max_iters = 4  # another budget trains afresh
    common.reuse_or_train(True, cfg, str(tmp_path), 'arm')
    assert len(FakeRunner.built) == 2
