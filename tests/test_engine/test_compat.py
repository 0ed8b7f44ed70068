"""Each stack workaround in mmfer.compat, exercised for real."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfer.compat import load_local_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py')


def tiny_cfg(data_root, work_dir, epochs, name):
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.head.in_channels = 64
    # the test pipeline has no randomness, so a resumed run can match an uninterrupted one exactly
    pipe = [dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False, batch_size=32)
        cfg[loader].dataset.update(data_root=data_root, pipeline=pipe)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=100)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=4, eta_min=1e-5)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger.interval = 1000
    cfg.work_dir, cfg.experiment_name, cfg.log_level = work_dir, name, 'WARNING'
    return cfg


def test_resume_matches_uninterrupted_run(synthfer_root, tmp_path):
    straight = Runner.from_cfg(tiny_cfg(synthfer_root, str(tmp_path / 'a'), 4, 'straight'))
    straight.train()

    first = Runner.from_cfg(tiny_cfg(synthfer_root, str(tmp_path / 'b'), 2, 'first'))
    first.train()
    cfg = tiny_cfg(synthfer_root, str(tmp_path / 'b'), 4, 'resumed')
    cfg.resume = True  # torch >= 2.6 would refuse mmengine's checkpoint without mmfer.compat
    resumed = Runner.from_cfg(cfg)
    resumed.train()

    assert resumed.iter == straight.iter == 4 * 5
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)
    sa, sb = straight.optim_wrapper.state_dict()['state'], resumed.optim_wrapper.state_dict()['state']
    assert all(int(sa[k]['step']) == int(sb[k]['step']) == 20 for k in sa)


def test_checkpoint_loads_weights_only(tmp_path, synthfer_root):
    runner = Runner.from_cfg(tiny_cfg(synthfer_root, str(tmp_path), 1, 'ckpt'))
    runner.train()
    path = str(tmp_path / 'epoch_1.pth')
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)  # plain torch still refuses: the allow-list is scoped
    ckpt = load_local_checkpoint(path)
    assert 'HistoryBuffer' in type(ckpt['message_hub']['log_scalars']['train/loss']).__name__
    with pytest.raises(FileNotFoundError, match='can not be found'):
        load_local_checkpoint(str(tmp_path / 'missing.pth'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only launcher path')
def test_two_process_training_on_cpu(synthfer_root, tmp_path):
    """tools/dist_train.sh with 2 processes: gloo group, DDP without device ids."""
    cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), CONFIG, '2', '--work-dir', str(tmp_path),
           '--no-validate', '--cfg-options', 'train_cfg.max_epochs=1', f'train_dataloader.dataset.data_root={synthfer_root}',
           'train_dataloader.num_workers=0', 'train_dataloader.batch_size=16', 'model.backbone.base_channels=8',
           'model.backbone.stem_channels=8', 'model.head.in_channels=64', 'default_hooks.logger.interval=1']
    env = dict(__import__('os').environ, PORT='29533', PATH=osp.dirname(sys.executable) + ':' +
               __import__('os').environ['PATH'])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert 'Distributed launcher: pytorch' in log or 'distributed: True' in log
    assert 'Epoch(train) [1][5/5]' in log  # 140 images / (2 ranks x 16) = 5 iterations per rank
    assert osp.exists(osp.join(str(tmp_path), 'epoch_1.pth'))
