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


def _teacher_probs(model, weak):
    model.teacher.eval()
    with torch.no_grad():
        return model.teacher(weak).softmax(-1)


def test_freematch_thresholds_follow_the_running_confidences():
    model = build(threshold_mode='freematch', ema_momentum=0.5, unsup_weight=1.0)
    weak, strong = torch.randn(6, 3, 16, 16), torch.randn(6, 3, 16, 16)
    unsup = [DataSample() for _ in range(6)]
    probs = _teacher_probs(model, weak)
    conf, pseudo = probs.max(-1)
    tau = 0.5 / 3 + 0.5 * conf.mean()  # from 1/C, momentum 0.5
    local = 0.5 / 3 + 0.5 * probs.mean(0)
    thresholds = (tau * local / local.max())[pseudo]
    losses = unsup_loss(model, weak, strong, unsup)
    torch.testing.assert_close(model.sat_global, tau)
    torch.testing.assert_close(model.sat_local, local)
    torch.testing.assert_close(losses['unsup_threshold'], thresholds.mean())
    mask = (conf >= thresholds).float()
    assert 0 < float(mask.mean()) and float(losses['unsup_mask_rate']) == pytest.approx(float(mask.mean()))
    ce = torch.nn.functional.cross_entropy(model.student(strong), pseudo, reduction='none')
    torch.testing.assert_close(losses['unsup_loss'], (ce * mask).mean())
    with pytest.raises(ValueError, match='threshold_mode'):
        build(threshold_mode='adaptive')


def _usb_fairness(mask, logits_s, prob_model, label_hist):
    """FreeMatch's class-fairness loss as USB writes it (semilearn/algorithms/freematch), for reference."""
    logits_s = logits_s[mask.bool()]
    prob_s = logits_s.softmax(dim=-1)
    hist_s = torch.bincount(prob_s.argmax(-1), minlength=logits_s.shape[1]).float()
    hist_s = hist_s / hist_s.sum()
    inv = lambda h: torch.nan_to_num(1 / h, nan=0.0, posinf=0.0, neginf=0.0)  # noqa: E731
    mod_model = prob_model * inv(label_hist)
    mod_model = mod_model / mod_model.sum()
    mod_mean = prob_s.mean(0) * inv(hist_s)
    mod_mean = mod_mean / mod_mean.sum()
    return (mod_model * torch.log(mod_mean + 1e-12)).sum()


def test_freematch_fairness_loss_is_usbs():
    model = build(threshold_mode='freematch', ema_momentum=0.0, fairness_weight=0.1)
    weak, strong = torch.randn(8, 3, 16, 16), torch.randn(8, 3, 16, 16)
    losses = unsup_loss(model, weak, strong, [DataSample() for _ in range(8)])
    probs = _teacher_probs(model, weak)
    conf, pseudo = probs.max(-1)
    mask = conf >= (conf.mean() * probs.mean(0) / probs.mean(0).max())[pseudo]  # momentum 0: this batch only
    hist = torch.bincount(pseudo, minlength=3).float() / 8
    torch.testing.assert_close(model.label_hist, hist)
    expected = 0.1 * _usb_fairness(mask, model.student(strong), probs.mean(0), hist)
    torch.testing.assert_close(losses['unsup_fairness_loss'], expected)
    assert losses['unsup_fairness_loss'].requires_grad


def test_flexmatch_remembers_sure_labels_and_warms_up_from_zero():
    model = build(threshold_mode='flexmatch', num_unlabeled=10, threshold=0.0, unsup_weight=1.0)
    weak, strong = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)
    unsup = [DataSample(metainfo=dict(sample_idx=i)) for i in (7, 2, 9, 4)]
    probs = _teacher_probs(model, weak)
    conf, pseudo = probs.max(-1)
    model.threshold = float(conf.sort().values[2])  # two of four are sure
    losses = unsup_loss(model, weak, strong, unsup)
    assert float(losses['unsup_mask_rate']) == 1.0  # nothing remembered yet: every threshold is 0
    sure = conf >= model.threshold
    expected = torch.full((10, ), -1)
    expected[torch.tensor([7, 2, 9, 4])[sure]] = pseudo[sure]
    assert torch.equal(model.selected_label, expected)
    # sigma from the memory, beta = sigma / max(max sigma, unused), tau_c = threshold * beta / (2 - beta)
    model.selected_label.copy_(torch.tensor([0, 0, 0, 1, 1, 2, -1, -1, -1, -1]))
    beta = torch.tensor([3., 2., 1.]) / 4
    losses = unsup_loss(model, weak, strong, unsup)
    thresholds = (model.threshold * beta / (2 - beta))[pseudo]
    torch.testing.assert_close(losses['unsup_threshold'], thresholds.mean())
    assert float(losses['unsup_mask_rate']) == pytest.approx(float((conf >= thresholds).float().mean()))
    with pytest.raises(IndexError, match='num_unlabeled=10'):
        unsup_loss(model, weak, strong, [DataSample(metainfo=dict(sample_idx=i)) for i in (1, 2, 3, 10)])
    with pytest.raises(ValueError, match='num_unlabeled'):
        build(threshold_mode='flexmatch')


def test_distribution_alignment_rescales_toward_the_labeled_shares():
    model = build(dist_align='labeled', ema_momentum=0.0, threshold=0.0, unsup_weight=1.0)
    weak, strong = torch.randn(6, 3, 16, 16), torch.randn(6, 3, 16, 16)
    losses = unsup_loss(model, weak, strong, [DataSample() for _ in range(6)])
    probs = _teacher_probs(model, weak)
    torch.testing.assert_close(model.da_model, probs.mean(0))
    torch.testing.assert_close(model.da_target, torch.tensor([0.5, 0.5, 0.0]))  # unsup_loss's labels: 0, 1
    aligned = probs * model.da_target / model.da_model
    pseudo = (aligned / aligned.sum(-1, keepdim=True)).argmax(-1)
    assert not (pseudo == 2).any()  # a class the labeled batches never show gets no pseudo-label
    ce = torch.nn.functional.cross_entropy(model.student(strong), pseudo, reduction='none')
    torch.testing.assert_close(losses['unsup_loss'], ce.mean())
    model.dist_align = 'uniform'
    model.da_target.fill_(1 / 3)
    unsup_loss(model, weak, strong, [DataSample() for _ in range(6)])
    torch.testing.assert_close(model.da_target, torch.full((3, ), 1 / 3))  # uniform: never moved


@pytest.mark.parametrize('options', [dict(threshold_mode='freematch', fairness_weight=0.01, dist_align='labeled'),
                                     dict(threshold_mode='flexmatch', num_unlabeled=20)])
def test_running_threshold_state_is_checkpointed(options):
    """A model restored from a state dict after two steps takes the third step as the uninterrupted one."""
    weak, strong = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)
    unsup = [DataSample(metainfo=dict(sample_idx=i)) for i in (3, 5, 11, 19)]
    model = build(threshold=0.3, ema_momentum=0.9, **options)
    for _ in range(2):
        unsup_loss(model, weak, strong, unsup)
    restored = build(threshold=0.3, ema_momentum=0.9, **options)
    restored.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    a = unsup_loss(model, weak, strong, unsup)
    torch.manual_seed(1)
    b = unsup_loss(restored, weak, strong, unsup)
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=k)
    for (name, x), (_, y) in zip(model.named_buffers(), restored.named_buffers()):
        assert torch.equal(x, y), name
    # a plain (stage II) checkpoint starts the running state afresh
    fresh = build(threshold=0.3, ema_momentum=0.9, **options)
    fresh.load_state_dict(fresh.student.state_dict())
    state = build(threshold=0.3, ema_momentum=0.9, **options).state_dict()
    assert all(torch.equal(fresh.state_dict()[k], state[k]) for k in state if not k.startswith(('student', 'teacher')))
