"""Each stack workaround in mmfer.compat, exercised for real."""
import os.path as osp

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


def test_config_text_is_formatted_once():
    import mmengine.config.config as config_module
    from yapf.yapflib.yapf_api import FormatCode
    cfg = Config.fromfile(CONFIG)
    before = config_module.FormatCode.cache_info()
    text = cfg.pretty_text
    assert cfg.pretty_text == text
    after = config_module.FormatCode.cache_info()
    assert after.hits - before.hits >= 1 and after.misses - before.misses <= 1  # yapf ran at most once
    # and the text is yapf's, with mmengine's style
    raw = Config(cfg.to_dict(), format_python_code=False).pretty_text
    style = dict(based_on_style='pep8', blank_line_before_nested_class_or_def=True,
                 split_before_expression_after_opening_paren=True)
    assert text != raw and text == FormatCode(raw, style_config=style)[0]
