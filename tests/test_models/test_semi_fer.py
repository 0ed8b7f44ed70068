import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmfer.engine.hooks import SemiFERHook, schedule_value
from mmfer.registry import MODELS

CLS = dict(type='mmpretrain.ImageClassifier',
           backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=4, stem_channels=4),
           neck=dict(type='mmpretrain.GlobalAveragePooling'),
           head=dict(type='mmpretrain.LinearClsHead', num_classes=3, in_channels=32))


def build(**kwargs):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmfer'):
        return MODELS.build(dict(dict(type='SemiFERClassifier', classifier=CLS), **kwargs))


def unsup_loss(model, weak, strong, unsup):
    """``model.loss`` on two random labeled faces plus the given unlabeled views."""
    sup = [DataSample().set_gt_label(i % 3) for i in range(2)]
    return model.loss(dict(sup=torch.randn(2, 3, 16, 16), unsup_teacher=weak, unsup_student=strong),
                      dict(sup=sup, unsup_teacher=unsup, unsup_student=unsup))


def test_teacher_moves_by_the_ema_formula():
    model = build()
    t0 = [p.clone() for p in model.teacher.parameters()]
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(1.0)
    s = [p.clone() for p in model.student.parameters()]
    SemiFERHook(momentum=0.1).momentum_update(model, 0.1)
    for t, a, b in zip(model.teacher.parameters(), t0, s):
        torch.testing.assert_close(t, 0.9 * a + 0.1 * b)
        assert not t.requires_grad


def test_unsup_loss_threshold_mask_and_pseudo_accuracy():
    model = build(threshold=0.0, unsup_weight=5.0)
    weak, strong = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)
    model.teacher.eval()
    with torch.no_grad():
        probs = torch.softmax(model.teacher(weak), -1)
    conf, pseudo = probs.max(-1)
    thr = float(conf.sort().values[2])  # exactly two of four pass
    model.threshold = thr
    truth = [int(pseudo[0]), (int(pseudo[1]) + 1) % 3, -1, int(pseudo[3])]
    unsup = [DataSample().set_gt_label(y) for y in truth]
    losses = unsup_loss(model, weak, strong, unsup)
    mask = (conf >= thr).float()
    assert float(losses['unsup_mask_rate']) == 0.5
    ce = torch.nn.functional.cross_entropy(model.student(strong), pseudo, reduction='none')
    torch.testing.assert_close(losses['unsup_loss'], 5.0 * (ce * mask).mean())
    judged = mask * torch.tensor([1., 1., 0., 1.])
    correct = torch.tensor([1., 0., 0., 1.])
    torch.testing.assert_close(losses['unsup_pseudo_acc'], (correct * judged).sum() / judged.sum())
    assert abs(sum(float(losses[f'unsup_pseudo_cls{c}']) for c in range(3)) - 1) < 1e-6
    assert 'sup_loss' in losses


def test_plain_checkpoint_loads_into_both_and_prediction_uses_live_teacher():
    with DefaultScope.overwrite_default_scope('mmfer'):
        plain = MODELS.build(CLS)
    model = build()
    model.load_state_dict(plain.state_dict())
    for k, v in plain.state_dict().items():
        assert torch.equal(model.student.state_dict()[k], v) and torch.equal(model.teacher.state_dict()[k], v)
    x = torch.randn(2, 3, 16, 16)
    model.eval()
    with torch.no_grad():
        for p in model.teacher.parameters():
            p.mul_(0.5)  # as an EMA step would change it
        torch.testing.assert_close(model(x), model.teacher(x))  # the current teacher, not a stale copy
        assert not torch.allclose(model(x), model.student(x))
    model.predict_on = 'student'
    torch.testing.assert_close(model(x), model.student(x))


def test_schedules_set_by_hook():
    assert schedule_value(0.7, 10) == 0.7
    assert schedule_value([(0, 0.0), (100, 5.0)], 50) == 2.5
    assert schedule_value([(0, 0.0), (100, 5.0)], 500) == 5.0

    class Runner:
        iter = 50
        model = build()
    hook = SemiFERHook(threshold=[(0, 0.95), (100, 0.7)], unsup_weight=[(0, 0.0), (100, 5.0)])
    hook.before_train_iter(Runner, 0)
    assert abs(Runner.model.threshold - 0.825) < 1e-9 and Runner.model.unsup_weight == 2.5


def test_hook_schedules_stage2_real_and_virtual_weights():
    mixup = dict(type='FacialMixupClassifier', facial_mixup=dict(alpha=1.0),
                 **{k: v for k, v in CLS.items() if k != 'type'})
    hook = SemiFERHook(mix_weight=[(0, 0.0), (100, 1.0)], real_scale=[(0, 2.0), (100, 1.0)])

    class Runner:
        iter = 25
        model = build(classifier=mixup)  # stage III with a FacialMixup student
    hook.before_train(Runner)
    hook.before_train_iter(Runner, 0)
    assert (Runner.model.student.mix_weight, Runner.model.student.real_scale) == (0.25, 1.75)

    with DefaultScope.overwrite_default_scope('mmfer'):
        Runner.model = MODELS.build(mixup)  # stage II alone: schedules, no teacher to update
    Runner.iter = 100
    hook.before_train_iter(Runner, 0)
    hook.after_train_iter(Runner, 0)
    assert (Runner.model.mix_weight, Runner.model.real_scale) == (1.0, 1.0)

    Runner.model = build()  # a plain student has no such weights
    with pytest.raises(TypeError, match='FacialMixupClassifier'):
        hook.before_train(Runner)
    with DefaultScope.overwrite_default_scope('mmfer'):
        Runner.model = MODELS.build(CLS)
    with pytest.raises(TypeError, match='teacher and student'):
        SemiFERHook().before_train(Runner)


def test_debiased_pseudo_labels_follow_the_running_prior():
    model = build(threshold=0.0, debias=0.5, debias_momentum=0.9)
    assert torch.equal(model.pseudo_prior, torch.full((3, ), 1 / 3))
    weak, strong = torch.randn(6, 3, 16, 16), torch.randn(6, 3, 16, 16)
    unsup = [DataSample() for _ in range(6)]
    model.teacher.eval()
    with torch.no_grad():
        logits = model.teacher(weak)
    prior = 0.9 * torch.full((3, ), 1 / 3) + 0.1 * logits.softmax(-1).mean(0)
    pseudo = (logits - 0.5 * prior.log()).argmax(-1)
    losses = unsup_loss(model, weak, strong, unsup)
    torch.testing.assert_close(model.pseudo_prior, prior)
    ce = torch.nn.functional.cross_entropy(model.student(strong), pseudo, reduction='none')
    torch.testing.assert_close(losses['unsup_loss'], 5.0 * ce.mean())
    # a strong prior on one class takes pseudo-labels away from it
    model.pseudo_prior.copy_(torch.tensor([0.98, 0.01, 0.01]))
    model.debias, model.debias_momentum = 5.0, 1.0
    losses = unsup_loss(model, weak, strong, unsup)
    shifted = (logits - 5.0 * model.pseudo_prior.log()).argmax(-1)
    assert not (shifted == 0).any() and float(losses['unsup_pseudo_cls0']) == 0
    ce = torch.nn.functional.cross_entropy(model.student(strong), shifted, reduction='none')
    torch.testing.assert_close(losses['unsup_loss'], 5.0 * ce.mean())
    # the prior is checkpointed; a plain classifier checkpoint leaves it as it is
    state = model.state_dict()
    assert torch.equal(state['pseudo_prior'], model.pseudo_prior)
    fresh = build()
    fresh.load_state_dict(state)
    assert torch.equal(fresh.pseudo_prior, model.pseudo_prior)
    fresh.load_state_dict(model.student.state_dict())
    assert torch.equal(fresh.pseudo_prior, model.pseudo_prior)


def test_soft_targets_are_the_sharpened_teacher_distribution_under_the_mask():
    model = build(threshold=0.0, unsup_weight=2.0, soft_targets=True, temperature=0.5)
    weak, strong = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)
    unsup = [DataSample() for _ in range(4)]
    model.teacher.eval()
    with torch.no_grad():
        logits = model.teacher(weak)
    conf = logits.softmax(-1).max(-1).values
    model.threshold = float(conf.sort().values[1])  # three of four pass, judged on the unsharpened probabilities
    losses = unsup_loss(model, weak, strong, unsup)
    target = (logits / 0.5).softmax(-1)
    assert (target.max(-1).values > conf).all()  # sharpened
    mask = (conf >= model.threshold).float()
    ce = -(target * model.student(strong).log_softmax(-1)).sum(-1)
    assert float(losses['unsup_mask_rate']) == 0.75
    torch.testing.assert_close(losses['unsup_loss'], 2.0 * (ce * mask).mean())
    # with a one-hot teacher the soft loss is the hard one
    hard = torch.nn.functional.cross_entropy(model.student(strong), logits.argmax(-1), reduction='none')
    assert not torch.allclose(ce, hard)
    model.temperature = 1e-4
    losses = unsup_loss(model, weak, strong, unsup)
    torch.testing.assert_close(losses['unsup_loss'], 2.0 * (hard * mask).mean())
    with pytest.raises(ValueError, match='temperature'):
        build(soft_targets=True, temperature=0.0)
