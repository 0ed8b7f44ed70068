"""benchmarks/ssfer.py's oracle arms: the pool's true labels, on every face or on the teacher's kept ones."""
import os.path as osp
import sys

import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmfer.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLS = dict(type='mmpretrain.ImageClassifier',
           backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=4, stem_channels=4),
           neck=dict(type='mmpretrain.GlobalAveragePooling'),
           head=dict(type='mmpretrain.LinearClsHead', num_classes=3, in_channels=32))


def test_oracle_learns_true_labels_on_faces_and_with_teacher_mask_only_on_kept_ones(monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO, 'benchmarks'))
    sys.modules.pop('common', None)
    import ssfer  # noqa: F401 (registers OracleSemiFER)
    torch.manual_seed(0)
    weak, strong = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)
    truth = [2, 0, -1, 1]  # the third image is not a face
    samples = [DataSample().set_gt_label(y) for y in truth]
    sup = [DataSample().set_gt_label(i % 3) for i in range(2)]
    inputs = dict(sup=torch.randn(2, 3, 16, 16), unsup_teacher=weak, unsup_student=strong)
    with DefaultScope.overwrite_default_scope('mmfer'):
        model = MODELS.build(dict(type='OracleSemiFER', classifier=CLS, unsup_weight=2.0))
        masked = MODELS.build(dict(type='OracleSemiFER', classifier=CLS, unsup_weight=2.0, teacher_mask=True))
    masked.load_state_dict(model.state_dict())
    model.teacher.eval()
    with torch.no_grad():
        conf = torch.softmax(model.teacher(weak), -1).max(-1).values
    low, second = conf[[0, 1, 3]].sort().values[:2]
    masked.threshold = float(low + second) / 2  # the teacher keeps two of the three faces
    kept = (conf >= masked.threshold).float() * torch.tensor([1., 1., 0., 1.])
    assert kept.sum() == 2
    ce = F.cross_entropy(model.student(strong), torch.tensor([2, 0, 0, 1]), reduction='none')
    all_faces = model.loss(inputs, dict(sup=sup, unsup_teacher=samples, unsup_student=samples))
    torch.testing.assert_close(all_faces['unsup_loss'], 2.0 * (ce * torch.tensor([1., 1., 0., 1.])).mean())
    teacher_kept = masked.loss(inputs, dict(sup=sup, unsup_teacher=samples, unsup_student=samples))
    torch.testing.assert_close(teacher_kept['unsup_loss'], 2.0 * (ce * kept).mean())
    assert float(teacher_kept['unsup_loss']) < float(all_faces['unsup_loss'])


def test_goals_are_read_at_1pct_on_the_resnet_and_5pct_on_the_vit(monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO, 'benchmarks'))
    sys.modules.pop('common', None)
    import ssfer
    ratios = {}
    for argv in (['--quick'], ['--quick', '--backbone', 'vit'], ['--quick', '--ratio', '0.05']):
        monkeypatch.setattr(sys, 'argv', ['ssfer.py', *argv])
        ratios[' '.join(argv)] = ssfer.parse_args().ratio
    assert ratios == {'--quick': 0.01, '--quick --backbone vit': 0.05, '--quick --ratio 0.05': 0.05}


def test_stage3_starts_from_the_stage2_seed_best_on_the_heldout_faces(monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO, 'benchmarks'))
    sys.modules.pop('common', None)
    import ssfer
    seeds = {'stage1_2_seed0': {'heldout/accuracy/top1': 56.2, 'accuracy/top1': 70.0},
             'stage1_2_seed1': {'heldout/accuracy/top1': 64.7, 'accuracy/top1': 50.0},
             'supervised_seed0': {'heldout/accuracy/top1': 90.0}}
    assert ssfer.stage3_start(seeds) == 'stage1_2_seed1'  # held out, not the test set, and stage II only
    seeds['stage1_2_seed1']['heldout/accuracy/top1'] = None
    assert ssfer.stage3_start(seeds) == 'stage1_2_seed0'
