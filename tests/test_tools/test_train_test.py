"""tools/train.py and tools/test.py end to end on tiny SynthFER (in this process, see ``run_tool``),
and tools/dist_train.sh and tools/dist_test.sh with 2 processes."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGE3 = osp.join(REPO, 'configs', 'ssfer', 'stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py')


def _ok(result):
    code, log = result
    assert code == 0, log[-5000:]
    return log


@pytest.mark.parametrize('config, opts', [
    ('resnet18_1xb64_synthfer.py', ['model.backbone.base_channels=8', 'model.backbone.stem_channels=8',
                                    'model.head.in_channels=64']),
    ('vit-small-p8_1xb64_synthfer.py', ['model.backbone.arch.num_layers=1', 'model.backbone.img_size=32',
                                        'model.backbone.arch.embed_dims=48', 'model.head.in_channels=48',
                                        'model.backbone.arch.feedforward_channels=96'])])
def test_train_then_test(synthfer_root, tmp_path, run_tool, config, opts):
    cfg = osp.join(REPO, 'configs', 'supervised', config)
    size32 = ['train_dataloader.dataset.pipeline.1.scale=32', 'val_dataloader.dataset.pipeline.1.scale=(32,32)',
              'test_dataloader.dataset.pipeline.1.scale=(32,32)']
    common = [f'{k}_dataloader.{f}' for k in ('train', 'val', 'test')
              for f in (f'dataset.data_root={synthfer_root}', 'num_workers=0')]
    log = _ok(run_tool('tools/train.py', cfg, '--work-dir', tmp_path, '--cfg-options', 'train_cfg.max_epochs=1',
                       'train_cfg.val_interval=1', *opts, *size32, *common))
    assert 'accuracy/top1' in log and 'mean_class/recall' in log
    out = str(tmp_path / 'metrics.json')
    _ok(run_tool('tools/test.py', cfg, tmp_path / 'epoch_1.pth', '--work-dir', tmp_path, '--out', out,
                 '--cfg-options', *opts, *size32, *common))
    metrics = json.load(open(out))
    matrix = metrics['confusion_matrix']
    assert len(matrix) == 7 and sum(map(sum, matrix)) == 60  # every test image counted once
    correct = sum(matrix[i][i] for i in range(7))
    assert abs(metrics['accuracy/top1'] - 100 * correct / 60) < 1e-3
    assert osp.getsize(tmp_path / 'confusion_matrix.png') > 1000


def test_method_a_stage1_then_stage2(synthfer_root, split_file, tmp_path, run_tool):
    """Stage I through tools/train.py on SynthFER's pool (with a corrupt image in the list), then
    stage II from its encoder on a 25 % split with FacialMixup."""
    pool = tmp_path / 'pool'
    shutil.copytree(osp.join(synthfer_root, 'pool'), pool)
    (pool / 'images' / 'pool_000003.jpg').write_bytes(b'\xff\xd8 broken')
    cfg = osp.join(REPO, 'configs', 'face_mae', 'face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py')
    log = _ok(run_tool('tools/train.py', cfg, '--work-dir', tmp_path / 'wd', '--cfg-options', 'train_cfg.max_epochs=1',
                       f'train_dataloader.dataset.data_root={pool}', 'train_dataloader.batch_size=16',
                       'default_hooks.logger.interval=1', 'model.backbone.img_size=32', 'model.neck.num_patches=16',
                       'train_dataloader.dataset.pipeline.1.scale=32'))
    assert 'Epoch(train) [1][5/5]' in log and 'loss:' in log
    assert 'skipping' in log and 'pool_000003.jpg' in log
    assert osp.exists(tmp_path / 'wd' / 'epoch_1.pth')
    picture = cv2.imread(str(tmp_path / 'wd' / 'vis' / 'mae_epoch_1.png'))
    assert picture.shape == (3 * 32, 8 * 32, 3)  # original / masked / reconstructed x 8 faces

    stage2 = osp.join(REPO, 'configs', 'ssfer', 'stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py')
    log = _ok(run_tool('tools/train.py', stage2, '--work-dir', tmp_path / 'wd2', '--cfg-options',
                       'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
                       f'model.backbone.init_cfg.checkpoint={tmp_path}/wd/epoch_1.pth', 'model.backbone.img_size=32',
                       f'train_dataloader.dataset.split_file={split_file}', 'train_dataloader.batch_size=8',
                       'val_dataloader.dataset.pipeline.1.scale=(32,32)',
                       *[f'{k}_dataloader.dataset.data_root={synthfer_root}' for k in ('train', 'val', 'test')]))
    assert 'loss_mix:' in log and 'loss_real:' in log and 'accuracy/top1' in log
    init_log = open(glob.glob(str(tmp_path / 'wd2' / '*' / '*.log'))[0]).read()  # init info goes to the file only
    assert init_log.count(f'PretrainedInit: load from {tmp_path}/wd/epoch_1.pth') >= 4 * 6  # 4 blocks x 6+ tensors
    assert 'missing keys' not in init_log.lower()


def _stage3_options(root, split):
    return ['load_from=None', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'default_hooks.logger.interval=1',
            'model.classifier.backbone.img_size=32', 'train_dataloader.batch_size=8',
            'train_dataloader.sampler.batch_size=8', 'model.threshold=0.0',
            f'train_dataloader.dataset.datasets.0.data_root={root}',
            f'train_dataloader.dataset.datasets.0.split_file={split}',
            f'train_dataloader.dataset.datasets.1.data_root={root}/pool',
            'train_dataloader.dataset.datasets.0.pipeline.1.scale=32',
            'train_dataloader.dataset.datasets.1.pipeline.1.unsup_teacher.0.scale=32',
            'train_dataloader.dataset.datasets.1.pipeline.1.unsup_student.0.scale=32',
            f'val_dataloader.dataset.data_root={root}', 'val_dataloader.dataset.pipeline.1.scale=(32,32)']


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only launcher path')
def test_method_a_stage3_two_processes(synthfer_root, split_file, tmp_path, run_tool):
    """Stage III under tools/dist_train.sh with 2 processes (gloo, DDP): both ranks train, the teacher
    follows the (synchronised) student by EMA, rank 0 saves one checkpoint."""
    env = dict(os.environ, PORT='29541', PATH=osp.dirname(sys.executable) + ':' + os.environ['PATH'])
    out = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), STAGE3, '2', '--work-dir',
                          str(tmp_path / 'wd'), '--cfg-options'] + _stage3_options(synthfer_root, split_file)
                         + ['custom_hooks.0.momentum=0.5'], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert 'Distributed launcher: pytorch' in log and 'Distributed training: True' in log
    assert log.count('Iter(train) [4/4]') == 1 and 'unsup_mask_rate: 1.0000' in log  # rank 0 logs
    state = torch.load(str(tmp_path / 'wd' / 'iter_4.pth'), map_location='cpu', weights_only=False)['state_dict']
    teacher = {k[len('teacher.'):]: v for k, v in state.items() if k.startswith('teacher.')}
    student = {k[len('student.'):]: v for k, v in state.items() if k.startswith('student.')}
    assert teacher.keys() == student.keys() and len(teacher) > 10
    moved = [k for k in teacher if teacher[k].is_floating_point() and not torch.equal(teacher[k], student[k])]
    assert len(moved) > 10  # the teacher lags the student (momentum 0.5 over 4 iterations): not a copy

    # tools/dist_test.sh on 2 processes counts every test image once and agrees with one process
    test_opts = ['--cfg-options', 'model.classifier.backbone.img_size=32',
                 f'test_dataloader.dataset.data_root={synthfer_root}',
                 'test_dataloader.dataset.pipeline.1.scale=(32,32)']
    ckpt = str(tmp_path / 'wd' / 'iter_4.pth')
    out = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), STAGE3, ckpt, '2', '--work-dir',
                          str(tmp_path / 'test2'), '--out', str(tmp_path / 'two.json')] + test_opts,
                         capture_output=True, text=True, env=dict(env, PORT='29542'), timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    _ok(run_tool('tools/test.py', STAGE3, ckpt, '--work-dir', tmp_path / 'test1', '--out', tmp_path / 'one.json',
                 *test_opts))
    two, one = json.load(open(tmp_path / 'two.json')), json.load(open(tmp_path / 'one.json'))
    assert sum(map(sum, two['confusion_matrix'])) == 60 and two['confusion_matrix'] == one['confusion_matrix']
    assert two['accuracy/top1'] == pytest.approx(one['accuracy/top1'])


def test_method_a_stage3_runs_and_resumes(synthfer_root, split_file, tmp_path, run_tool):
    """Stage III through tools/train.py (labeled split + pool with hidden truth, 2 views, EMA teacher),
    then killed after 2 of 4 iterations and resumed: student, teacher (EMA state), optimizer and
    data position come back, so the weights equal the uninterrupted run's."""
    # no drop path: the resumed run must not depend on how many random numbers the skipped steps drew
    opts = _stage3_options(synthfer_root, split_file) + ['model.classifier.backbone.drop_path_rate=0.0',
                                                         'custom_hooks.0.momentum=0.3']
    log = _ok(run_tool('tools/train.py', STAGE3, '--work-dir', tmp_path / 'straight', '--cfg-options', *opts))
    for key in ('sup_loss', 'unsup_loss', 'unsup_mask_rate: 1.0000', 'unsup_pseudo_acc', 'unsup_pseudo_cls6',
                'accuracy/top1'):
        assert key in log, key
    _ok(run_tool('tools/train.py', STAGE3, '--work-dir', tmp_path / 'killed', '--cfg-options', *opts,
                 'train_cfg.max_iters=2'))
    log = _ok(run_tool('tools/train.py', STAGE3, '--work-dir', tmp_path / 'killed', '--resume', '--cfg-options',
                       *opts))
    assert 'resumed' in log.lower() and 'Iter(train) [4/4]' in log and 'Iter(train) [1/4]' not in log
    load = lambda d: torch.load(str(tmp_path / d / 'iter_4.pth'), map_location='cpu', weights_only=False)  # noqa
    straight, resumed = load('straight'), load('killed')
    a, b = straight['state_dict'], resumed['state_dict']
    assert any(k.startswith('teacher.') for k in a) and a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)
    steps = lambda c: [int(s['step']) for s in c['optimizer']['state'].values()]  # noqa: E731
    assert steps(straight) == steps(resumed) and set(steps(resumed)) == {4}


TINY_RESNET = ['model.backbone.base_channels=8', 'model.backbone.stem_channels=8', 'model.head.in_channels=64',
               'train_dataloader.dataset.pipeline.1.scale=32', 'val_dataloader.dataset.pipeline.1.scale=(32,32)',
               'test_dataloader.dataset.pipeline.1.scale=(32,32)']


def _tiny_resnet(root):
    return TINY_RESNET + [f'{k}_dataloader.{f}' for k in ('train', 'val', 'test')
                          for f in (f'dataset.data_root={root}', 'num_workers=0')]


def test_test_tool_refuses_a_checkpoint_of_another_model(synthfer_root, tmp_path, run_tool):
    """tools/test.py loads strictly: a checkpoint of another class count or architecture is an error naming it,
    and no metrics are written."""
    from mmengine.config import Config

    from mmfer.registry import MODELS
    from mmfer.utils import CheckpointError
    cfg_path = osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py')
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict({k: eval(v) for k, v in (o.split('=') for o in TINY_RESNET[:3])})
    cfg.model.head.num_classes = 8
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, str(tmp_path / 'eight.pth'))
    vit = Config.fromfile(osp.join(REPO, 'configs', 'supervised', 'vit-small-p8_1xb64_synthfer.py'))
    vit.model.backbone.update(arch=dict(num_layers=1, embed_dims=48, feedforward_channels=96, num_heads=2),
                              img_size=32)
    vit.model.head.in_channels = 48
    torch.save({'state_dict': MODELS.build(vit.model).state_dict()}, str(tmp_path / 'vit.pth'))
    out = tmp_path / 'metrics.json'
    args = ['--work-dir', tmp_path, '--out', out, '--cfg-options', *_tiny_resnet(synthfer_root)]
    with pytest.raises(CheckpointError, match=r'eight.pth does not fit .*head.fc.bias \(checkpoint \(8,\), model '
                                              r'\(7,\)\)'):
        run_tool('tools/test.py', cfg_path, tmp_path / 'eight.pth', *args)
    with pytest.raises(CheckpointError, match=r'vit.pth does not fit .*\d+ missing keys \(backbone.bn1.bias'):
        run_tool('tools/test.py', cfg_path, tmp_path / 'vit.pth', *args)
    assert not out.exists()


def test_unknown_top_level_cfg_options_are_errors(synthfer_root, tmp_path, run_tool):
    cfg_path = osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py')
    for tool, extra in (('tools/test.py', [tmp_path / 'none.pth']), ('tools/train.py', [])):
        with pytest.raises(ValueError, match=r'--cfg-options sets keys the config does not have: test_dataloder '
                                             r'\(did you mean test_dataloader'):
            run_tool(tool, cfg_path, *extra, '--work-dir', tmp_path, '--cfg-options',
                     'test_dataloder.dataset.data_root=elsewhere')


def test_resume_falls_back_to_the_newest_readable_checkpoint(synthfer_root, tmp_path, run_tool):
    """A run killed while saving leaves a truncated last checkpoint: --resume takes the one before and says so;
    --resume naming the truncated file is an error naming it."""
    from mmfer.utils import CheckpointError
    cfg_path = osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py')
    opts = ['--work-dir', tmp_path, '--cfg-options', *_tiny_resnet(synthfer_root), 'train_cfg.val_interval=10',
            'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=3']
    _ok(run_tool('tools/train.py', cfg_path, *opts, 'train_cfg.max_epochs=2'))
    last = tmp_path / 'epoch_2.pth'
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=rf'{last}: unreadable checkpoint'):
        run_tool('tools/train.py', cfg_path, '--resume', last, *opts, 'train_cfg.max_epochs=3')
    log = _ok(run_tool('tools/train.py', cfg_path, '--resume', *opts, 'train_cfg.max_epochs=3'))
    assert f'resuming from {tmp_path}/epoch_1.pth, the newest readable checkpoint; skipped: {last}' in log
    assert 'resumed epoch: 1, iter: 3' in log
    assert torch.load(str(tmp_path / 'epoch_3.pth'), map_location='cpu', weights_only=False)['meta']['epoch'] == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU refusal')
def test_amp_without_a_gpu_is_a_clear_error(tmp_path, run_tool):
    cfg_path = osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py')
    code, log = run_tool('tools/train.py', cfg_path, '--amp', '--work-dir', tmp_path)
    assert code == 1 and "--amp needs a GPU: mmengine's AmpOptimWrapper runs on CUDA" in log
