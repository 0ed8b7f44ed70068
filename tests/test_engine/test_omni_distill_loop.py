"""OmniDistillLoop through tools/train.py on tiny SynthFER: every stage's files, resume, 2 processes."""
import json
import math
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
from collections import Counter

import cv2
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'omni_distill', 'omni-distill_resnet18-w16_quick48_synthfer-5pct.py')


def options(root, split, work_dir, **extra):
    opts = dict({
        'train_dataloader.dataset.data_root': root, 'train_dataloader.dataset.split_file': split,
        'train_dataloader.batch_size': 16, 'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root, 'train_cfg.pool.data_root': f'{root}/pool',
        'train_cfg.primitive.max_epochs': 2, 'train_cfg.final.max_epochs': 1,
        'train_cfg.mining.threshold': 0.0, 'train_cfg.mining.min_similarity': -1.0,
        'train_cfg.mining.require_agreement': False,
        'train_cfg.mining.class_balance': 1.0, 'train_cfg.mining.batch_size': 16,
        'train_cfg.distiller.iterations': 3, 'train_cfg.distiller.ipc': 2, 'train_cfg.distiller.batch_real': 4,
        'train_cfg.distiller.width': 8, 'train_cfg.distiller.depth': 2, 'default_hooks.logger.interval': 1,
        'model.backbone.base_channels': 8, 'model.backbone.stem_channels': 8, 'model.head.in_channels': 64,
    }, **extra)
    return ['--work-dir', work_dir, '--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


@pytest.fixture
def run(run_tool):
    """tools/train.py on the method B config, in this process (or 2 through tools/dist_train.sh)."""

    def train(args, processes=1, config=CONFIG):
        if processes == 1:
            code, log = run_tool('tools/train.py', config, *args)
            assert code == 0, log[-5000:]
            return log
        env = dict(os.environ, PORT='29541', PATH=osp.dirname(sys.executable) + ':' + os.environ['PATH'])
        out = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), CONFIG, str(processes)] + args,
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout + out.stderr

    return train


def lines(path):
    with open(path) as f:
        return f.read().splitlines()


def test_stages_write_their_files_and_resume(synthfer_root, split_file, tmp_path, run, run_tool, monkeypatch):
    from mmengine.runner import Runner
    calls, call_hook = [], Runner.call_hook

    def record(self, fn, **kwargs):
        calls.append((fn, self.work_dir))
        return call_hook(self, fn, **kwargs)

    monkeypatch.setattr(Runner, 'call_hook', record)
    wd = str(tmp_path / 'wd')
    run(options(synthfer_root, split_file, wd))
    outer = [fn for fn, work_dir in calls if work_dir == wd and fn in ('before_train', 'after_train')]
    assert outer == ['before_train', 'after_train']  # the loop calls the outer runner's hooks, as mmengine's do
    assert osp.exists(osp.join(wd, 'primitive', 'primitive.pth'))
    assert 'accuracy/top1' in json.load(open(osp.join(wd, 'primitive', 'metrics.json')))
    summary = json.load(open(osp.join(wd, 'mining', 'summary.json')))
    mined = lines(osp.join(wd, 'mined.txt'))
    assert summary['pool'] == summary['processed'] == 80 and summary['skipped'] == 0
    assert summary['candidates'] == 80  # thresholds off: every readable face is a candidate
    counts = list(summary['mined_per_class'].values())
    assert len(mined) == summary['mined'] == sum(counts)
    # class_balance 1: no class keeps more than the median class's candidate count
    candidates = Counter(int(line.split('\t')[2]) for line in lines(osp.join(wd, 'mining', 'rank0.tsv')))
    cap = math.ceil(statistics.median(candidates.values()))
    assert counts == [min(candidates[c], cap) for c in range(7)]
    for line in mined:  # the primitive's class probabilities: they sum to 1 and peak at the label
        probs = [float(p) for p in line.split('\t')[4].split(',')]
        assert len(probs) == 7 and sum(probs) == pytest.approx(1, abs=1e-4)
        assert max(range(7), key=probs.__getitem__) == int(line.split('\t')[1])
    # ipc 2 at the quick config's factor 2: 2 stored mosaics per class, 8 faces per class written
    distilled = lines(osp.join(wd, 'distilled', 'distilled.txt'))
    assert [int(line.split('\t')[1]) for line in distilled] == [c for c in range(7) for _ in range(8)]
    first = cv2.imread(osp.join(wd, 'distilled', distilled[0].split('\t')[0]))
    assert first.shape == (48, 48, 3)
    assert cv2.imread(osp.join(wd, 'distilled', 'grid.png')).shape == (7 * 48, 96 + 8 * 48, 3)
    assert torch.load(osp.join(wd, 'distilled', 'state.pth'))['images'].shape == (14, 3, 48, 48)
    assert cv2.imread(osp.join(wd, 'distilled', 'loss.png')) is not None  # the matching loss per iteration
    assert 'accuracy/top1' in json.load(open(osp.join(wd, 'final', 'metrics.json')))
    results = json.load(open(osp.join(wd, 'results.json')))
    assert set(results) == {'primitive', 'mining', 'distilled', 'final'}
    assert results['final']['train_seconds'] > 0 and results['distilled']['loss_curve'].endswith('loss.png')

    # the cheap final: the primitive fine-tuned on labeled + distilled faces only; under --resume too, where
    # the final stage has no checkpoint of its own yet (it must load the primitive's weights, not resume its
    # 2 finished epochs)
    cheap = CONFIG.replace('5pct.py', '5pct_distilled-only.py')
    log = run(options(synthfer_root, split_file, str(tmp_path / 'cheap'),
                      **{'train_cfg.primitive.checkpoint': osp.join(wd, 'primitive', 'primitive.pth')})
              + ['--resume'], config=cheap)
    assert f"Load checkpoint from {osp.join(wd, 'primitive', 'primitive.pth')}" in log
    assert osp.exists(tmp_path / 'cheap' / 'final' / 'epoch_1.pth')  # it trained its epoch
    assert 'accuracy/top1' in json.load(open(tmp_path / 'cheap' / 'final' / 'metrics.json'))

    # resumed: finished stages are not redone, their files are left as they were
    stamp = os.stat(osp.join(wd, 'mined.txt')).st_mtime_ns
    log = run(options(synthfer_root, split_file, wd) + ['--resume'])
    assert 'primitive stage already done' in log and 'mining already done' in log
    assert os.stat(osp.join(wd, 'mined.txt')).st_mtime_ns == stamp
    # resumed with another distiller setting: the finished set is not passed off as this one
    state = re.escape(osp.join(wd, 'distilled', 'state.pth'))
    with pytest.raises(ValueError, match=state + '.*lr: 10.0 there, 1.0 here'):
        run_tool('tools/train.py', CONFIG, *options(synthfer_root, split_file, wd, **{'train_cfg.distiller.lr': 1.0}),
                 '--resume')
    # resumed with another final setting, or after the distilled set was rewritten: the finished final is not
    # reused as this run's
    final = re.escape(osp.join(wd, 'final'))
    with pytest.raises(RuntimeError, match=final + ' was trained with other settings'):
        run_tool('tools/train.py', CONFIG, *options(synthfer_root, split_file, wd, **{'train_cfg.final.max_epochs': 2}),
                 '--resume')
    os.utime(osp.join(wd, 'distilled', 'distilled.txt'))
    with pytest.raises(RuntimeError, match='metrics.json is older than .*distilled.txt.*delete ' + final):
        run_tool('tools/train.py', CONFIG, *options(synthfer_root, split_file, wd), '--resume')


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only launcher path')
def test_two_processes_mine_the_same_set_as_one(synthfer_root, split_file, tmp_path, run):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    # every face a candidate; the best 3 per class by confidence x similarity are kept
    mining = {'train_cfg.mining.max_per_class': 3, 'train_cfg.mining.class_balance': 'None',
              'train_cfg.final.max_epochs': 1}
    run(options(synthfer_root, split_file, one, **mining))
    primitive = osp.join(one, 'primitive', 'primitive.pth')
    log = run(options(synthfer_root, split_file, two, **mining, **{'train_cfg.primitive.checkpoint': primitive}), 2)
    assert 'distributed: True' in log or 'Distributed launcher: pytorch' in log
    assert [json.load(open(osp.join(two, 'mining', f'rank{r}.json')))['done'] for r in (0, 1)] == [40, 40]
    assert sorted(lines(osp.join(one, 'mined.txt'))) == sorted(lines(osp.join(two, 'mined.txt')))
    assert 0 < len(lines(osp.join(one, 'mined.txt'))) <= 21


def test_other_ranks_wait_for_the_distilled_list_with_a_timeout(tmp_path):
    from mmfer.engine import OmniDistillLoop
    loop = OmniDistillLoop.__new__(OmniDistillLoop)
    loop.wait_timeout = 0.1
    with pytest.raises(TimeoutError, match=r'waited 0 s for rank 0 to write .*distilled.txt; raise '
                                           'train_cfg.wait_timeout'):
        loop._wait_for(str(tmp_path / 'distilled.txt'))


def test_distilled_images_load_back_as_they_were_distilled(tmp_path):
    """PNG round trip through LoadFaceImage + the classifier's preprocessor (BGR files, RGB inputs)."""
    from mmfer.datasets import FaceList
    from mmfer.models.distillers import write_distilled
    from mmfer.registry import MODELS

    pre = MODELS.build(dict(type='mmpretrain.ClsDataPreprocessor', mean=[150., 117., 102.], std=[58., 51., 48.],
                            to_rgb=True))
    real = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    real[:, 0], real[:, 2] = 200, 30  # BGR files: blue 200, red 30
    images = pre(dict(inputs=list(real)), False)['inputs']  # RGB, normalised
    assert images[0, 0, 0, 0] == pytest.approx((30 - 150) / 58)
    grid = write_distilled(images, 1, ('a', 'b'), pre, str(tmp_path))
    ds = FaceList(ann_file='distilled.txt', data_root=str(tmp_path), classes=('a', 'b'),
                  pipeline=[dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')])
    assert [ds.get_data_info(i)['gt_label'] for i in range(2)] == [0, 1]
    assert torch.equal(torch.stack([ds[i]['inputs'] for i in range(2)]), real)
    assert grid.shape == (2 * 8, 96 + 8, 3) and (grid[:8, 96:, 0] == 200).all()  # grid.png is BGR too
