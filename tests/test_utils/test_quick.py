"""The quick-run schedules reach the configured learning rate (a one-step LinearLR would not); the reuse rule."""
import json
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

from mmfer.registry import DATASETS
from mmfer.utils import quick
from mmfer.utils.quick import heldout_dataloader, quick_arms, reusable, set_iter_schedule, set_schedule

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

SCHEDULERS = dict(LinearLR=LinearLR, CosineAnnealingLR=CosineAnnealingLR)


def _lrs(param_scheduler, steps, lr=1e-3):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedulers = [SCHEDULERS[s['type']](opt, **{k: v for k, v in s.items() if k != 'type'}) for s in param_scheduler]
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]['lr'])
        for s in schedulers:
            s.step()
    return lrs


@pytest.mark.parametrize('warmup', [0, 1, 2, 50])
def test_iter_schedule_warms_up_then_follows_the_cosine(warmup):
    cfg = Config(dict(train_dataloader=dict(sampler=dict(type='DefaultSampler'))))
    set_iter_schedule(cfg, 400, warmup=warmup)
    assert cfg.train_cfg.max_iters == 400 and cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    lrs = _lrs(cfg.param_scheduler, 400)
    start = warmup if warmup >= 2 else 0
    if warmup >= 2:
        assert lrs[0] == pytest.approx(1e-5)  # start_factor 0.01
    for t in (start, 200, 399):  # cosine from the full lr at the end of the warm-up down to eta_min
        expected = 1e-6 + (1e-3 - 1e-6) * (1 + math.cos(math.pi * (t - start) / (400 - start))) / 2
        assert lrs[t] == pytest.approx(expected, rel=1e-3), t


def test_epoch_schedule_of_one_epoch_has_no_warm_up():
    cfg = Config()
    set_schedule(cfg, 1, warmup=1)
    assert [s['type'] for s in cfg.param_scheduler] == ['CosineAnnealingLR']
    set_schedule(cfg, 8, warmup=1)
    assert [s['type'] for s in cfg.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']


def test_a_stage_is_not_reused_after_the_checkpoint_it_starts_from_was_rewritten(tmp_path):
    """``reusable``: same config and a result: reused; another config, or the named encoder written after the
    result (a retrained stage I under the same path): not."""
    encoder = tmp_path / 'stage1' / 'epoch_8.pth'
    encoder.parent.mkdir()
    encoder.write_bytes(b'weights')
    cfg = Config(dict(model=dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=str(encoder))))))
    config_file, result = tmp_path / 'stage2.py', tmp_path / 'stage2.pth'
    cfg.dump(str(config_file))
    result.write_bytes(b'fine-tuned')
    os.utime(encoder, (1, 1))  # the encoder is older than the result
    assert reusable(cfg, str(config_file), str(result))
    other = Config(dict(model=dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=str(encoder)))),
                        max_iters=5))
    assert not reusable(other, str(config_file), str(result))
    os.utime(encoder)  # stage I trained again: now newer than stage II's result
    assert not reusable(cfg, str(config_file), str(result))


def test_a_longer_stage_three_alone_gives_the_supervised_arm_both_stages_budget(tmp_path):
    """The ResNet's stage II trains by epoch (240 over 600 labels: 2400 iterations); a stage III budget on its
    own moves the supervised arm to stage II's iterations + stage III's."""
    split = tmp_path / 'split.json'
    split.write_text(json.dumps(dict(labeled=[f'{i}.png' for i in range(600)])))
    arms = quick_arms(REPO, 'resnet', str(tmp_path), str(split), stage3_iters=1200)
    assert arms['stage3'].train_cfg.max_iters == 1200
    assert arms['supervised'].train_cfg.max_iters == 240 * 10 + 1200
    assert arms['stage2'].train_cfg.max_epochs == 240  # stage II keeps its own schedule


COUNTS = dict(Surprise=1303, Fear=256, Disgust=700, Happiness=4656, Sadness=1882, Anger=703, Neutral=2500)


def _split(tmp_path, ratio, labeled):
    split = tmp_path / 'split.json'
    split.write_text(json.dumps(dict(ratio=ratio, class_counts=COUNTS, labeled=[f'{i}.png' for i in range(labeled)])))
    return str(split)


@pytest.mark.parametrize('ratio,labeled', [(0.01, 121), (0.02, 240), (0.05, 600)])
def test_a_split_of_another_label_share_keeps_the_iterations_not_the_epochs(tmp_path, ratio, labeled):
    """The ResNet's stage II and supervised arm train by epoch over the 5 % split (240 and 300 epochs of 10
    batches); on a 2 % split they keep those 2400 + 600 iterations instead of shrinking to 960 + 600. At 1 %
    the committed 1 % configs train stage III for 1800 iterations, and the supervised arm for both stages'."""
    arms = quick_arms(REPO, 'resnet', str(tmp_path), _split(tmp_path, ratio, labeled))
    stage3 = 1800 if ratio == 0.01 else 600
    if ratio == 0.05:  # the committed schedules, untouched
        assert arms['stage2'].train_cfg.max_epochs == 240 and arms['supervised'].train_cfg.max_epochs == 300
    else:
        assert arms['stage2'].train_cfg.max_iters == 2400
        assert arms['supervised'].train_cfg.max_iters == 2400 + stage3
    assert arms['stage3'].train_cfg.max_iters == stage3
    assert arms['full_labels'].train_cfg.max_iters == 2400 + stage3


def test_the_committed_1pct_configs_are_the_5pct_recipe_at_their_budgets(tmp_path, monkeypatch):
    """The 1 % ResNet configs (a 24-epoch stage I, the ``*-1pct`` ones) train what ``benchmarks/ssfer.py
    --ratio 0.01 --stage1-epochs 24 --stage3-iters 1800`` builds from the 5 % configs: the same models, data
    and optimisers, the same schedules."""
    split = _split(tmp_path, 0.01, 121)
    committed = quick_arms(REPO, 'resnet', str(tmp_path), split)
    assert committed['stage3'].filename.endswith('stage3_resnet18-w16_1xb128-quick48_synthfer-1pct.py')
    monkeypatch.setattr(quick, 'QUICK_CONFIGS_BY_RATIO', {})
    derived = quick_arms(REPO, 'resnet', str(tmp_path), split, stage1_epochs=24, stage3_iters=1800)
    assert derived['stage3'].filename.endswith('-5pct.py')
    stage1 = osp.splitext(osp.basename(committed['stage1'].filename))[0]
    assert committed['stage2'].model.backbone.init_cfg.checkpoint == f'work_dirs/{stage1}/epoch_24.pth'
    for cfgs in (committed, derived):  # the benchmark sets the encoder stage I wrote
        cfgs['stage2'].model.backbone.init_cfg.checkpoint = None
    for arm in ('stage1', 'supervised', 'stage2', 'stage3', 'full_labels'):
        for key in ('model', 'train_dataloader', 'train_cfg', 'param_scheduler', 'optim_wrapper', 'custom_hooks'):
            assert committed[arm].get(key) == derived[arm].get(key), (arm, key)


def test_heldout_faces_are_training_faces_outside_the_split_read_like_the_test_set(synthfer_root, split_file):
    """``heldout_dataloader``: the first ``num`` training faces the split leaves out, with the validation
    pipeline; the split's own faces and the test faces are not among them."""
    arms = quick_arms(REPO, 'resnet', synthfer_root, split_file)
    loader = heldout_dataloader(arms['supervised'], split_file, 20)
    heldout = DATASETS.build(loader.dataset)
    labeled = DATASETS.build(arms['supervised'].train_dataloader.dataset)
    ids = [heldout.get_data_info(i)['sample_id'] for i in range(len(heldout))]
    labeled_ids = {labeled.get_data_info(i)['sample_id'] for i in range(len(labeled))}
    assert len(ids) == 20 and len(set(ids)) == 20
    assert labeled_ids == set(json.load(open(split_file))['labeled'])
    assert not labeled_ids & set(ids)
    assert all(i.startswith('train_') for i in ids)
    assert loader.dataset.pipeline == arms['supervised'].val_dataloader.dataset.pipeline
    assert arms['supervised'].val_dataloader.dataset.split == 'test'  # the config itself is left as it was
