"""Method B's distillers: siamese augmentation, matching losses, resumable runs."""
import numpy as np
import pytest
import torch

from mmfer.models.distillers import (DistributionMatching, RealFaces, base, gradient_distance, moment_distance,
                                     siamese_augment)
from mmfer.registry import TASK_UTILS


class ToyFaces:
    """A labeled 'dataset' of random 16 px images (uint8 CHW), 3 classes."""

    def __init__(self, per_class=(12, 9, 5), seed=0):
        g = torch.Generator().manual_seed(seed)
        self.labels = np.repeat(np.arange(len(per_class)), per_class)
        self.images = torch.randint(0, 256, (len(self.labels), 3, 16, 16), generator=g, dtype=torch.uint8)

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(gt_label=int(self.labels[i]))

    def __getitem__(self, i):
        return dict(inputs=self.images[i])


def preprocess(data, training):
    return dict(inputs=(torch.stack(data['inputs']).float() - 128) / 64)


def test_real_faces_groups_by_class_and_samples_without_repeats():
    real = RealFaces(ToyFaces(), preprocess, 3)
    assert [len(c) for c in real.by_class] == [12, 9, 5]
    batch = real.sample(2, 5, torch.Generator().manual_seed(0))
    # class 2 holds exactly 5 images: all of them, each once
    expected = preprocess(dict(inputs=list(ToyFaces().images[21:26])), False)['inputs']
    assert sorted(batch.sum((1, 2, 3)).tolist()) == pytest.approx(sorted(expected.sum((1, 2, 3)).tolist()))
    with pytest.raises(ValueError, match=r'classes \[3\]'):
        RealFaces(ToyFaces(), preprocess, 4)


def test_typical_faces_are_picked_by_herding():
    """Features 0, 10, 4, 6, 5 (class 0, mean 5): herding picks 5 (the mean), then the pair whose running
    mean stays nearest 5 — 4 then 6 (ties go to the first index); fewer faces than asked repeat in turn."""
    faces = ToyFaces(per_class=(5, 2))
    values = torch.tensor([0., 10, 4, 6, 5, 1, 2])
    faces.images = values.view(-1, 1, 1, 1).expand(-1, 3, 16, 16).to(torch.uint8).contiguous()

    def embed(x):  # a face's feature: its (preprocessed) mean pixel, back in 0-255
        return (x.mean((1, 2, 3)) * 64 + 128)[:, None]

    real = RealFaces(faces, preprocess, 2, embed=embed)
    picked = real.typical(0, 3)[:, 0, 0, 0] * 64 + 128
    assert picked.tolist() == pytest.approx([5, 4, 6])
    assert (real.typical(1, 5)[:, 0, 0, 0] * 64 + 128).tolist() == pytest.approx([1, 2, 1, 2, 1])
    with pytest.raises(ValueError, match='embed'):
        RealFaces(faces, preprocess, 2).typical(0, 3)

    dm = DistributionMatching(ipc=3, iterations=0, init='typical')
    torch.testing.assert_close(dm.run(real)[:3], real.typical(0, 3))


def test_siamese_augment_applies_one_draw_to_every_batch():
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    a, b = siamese_augment(torch.Generator().manual_seed(1), x, x.clone())
    assert torch.equal(a, b) and not torch.equal(a, x)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_gradient_distance():
    g = [torch.randn(4, 3, 3, 3), torch.randn(4)]
    assert float(gradient_distance(g, g)) == pytest.approx(0, abs=1e-5)
    # opposite gradients: 1 - cos = 2 for each of the 4 output units; biases are not compared
    assert float(gradient_distance(g, [-t for t in g])) == pytest.approx(8, abs=1e-5)


def test_distribution_matching_loss_is_zero_when_synthetic_equals_real():
    real = RealFaces(ToyFaces(per_class=(4, 4)), preprocess, 2)
    dm = DistributionMatching(ipc=4, batch_real=4, augment=False, lr=1.0)
    syn = torch.cat([real.sample(c, 4, torch.Generator()) for c in range(2)]).requires_grad_(True)
    opt = torch.optim.SGD([syn], lr=1.0)
    before = syn.detach().clone()
    assert dm.step(syn, real, None, opt, torch.Generator().manual_seed(0)) == pytest.approx(0, abs=1e-8)
    assert torch.allclose(syn.detach(), before)


def test_distribution_matching_step_is_the_per_class_sum():
    """One batched forward pass gives the paper's per-class loss sum_c ||mean psi(real_c) - mean psi(syn_c)||^2
    and its gradient."""
    real = RealFaces(ToyFaces(), preprocess, 3)
    dm = DistributionMatching(ipc=2, batch_real=4, width=8, depth=2)
    syn0 = torch.randn(6, 3, 16, 16)
    syn = syn0.clone().requires_grad_(True)
    loss = dm.step(syn, real, None, torch.optim.SGD([syn], lr=0.1), torch.Generator().manual_seed(7))
    ref = syn0.clone().requires_grad_(True)
    g = torch.Generator().manual_seed(7)
    net = dm._net(g, 16).requires_grad_(False)
    expected = 0
    for c in range(3):
        r, s = dm._views(g, real.sample(c, 4, g), ref[2 * c:2 * c + 2])
        expected = expected + (net(r).mean(0) - net(s).mean(0)).pow(2).sum()
    expected.backward()
    assert loss == pytest.approx(float(expected), rel=1e-5)
    torch.testing.assert_close(syn.detach(), syn0 - 0.1 * ref.grad, rtol=1e-4, atol=1e-6)


def test_chunked_forward_equals_the_whole_batch_with_its_gradient(monkeypatch):
    """The CPU's chunked forward pass (here 5 faces a chunk: 3 whole chunks and a partial one) gives the
    features and input gradients of one pass over the batch, and a distribution matching step is unchanged."""
    monkeypatch.setattr(base, 'CPU_CHUNK', 5)
    net = base.convnet(8, 2, 16)
    x = torch.randn(17, 3, 16, 16, requires_grad=True)
    whole = net(x)
    parts = base.chunked(net, x)
    assert parts.shape == whole.shape == (17, 8 * 4 * 4)
    torch.testing.assert_close(parts, whole)
    torch.testing.assert_close(torch.autograd.grad(parts.square().sum(), x)[0],
                               torch.autograd.grad(whole.square().sum(), x)[0])

    real, syn0 = RealFaces(ToyFaces(), preprocess, 3), torch.randn(6, 3, 16, 16)
    steps = []
    for chunk in (5, 10**6):  # 12 real + 6 synthetic faces a step: chunked, then whole
        monkeypatch.setattr(base, 'CPU_CHUNK', chunk)
        syn = syn0.clone().requires_grad_(True)
        dm = DistributionMatching(ipc=2, batch_real=4, width=8, depth=2)
        steps.append((dm.step(syn, real, None, torch.optim.SGD([syn], lr=0.1), torch.Generator().manual_seed(7)),
                      syn.detach()))
    assert steps[0][0] == pytest.approx(steps[1][0], rel=1e-6)
    torch.testing.assert_close(steps[0][1], steps[1][1])
    assert not torch.equal(steps[0][1], syn0)


@pytest.mark.parametrize('cfg', [dict(type='DistributionMatching'), dict(type='DistributionMatching', moments=2),
                                 dict(type='ImprovedDistributionMatching', num_models=2, max_model_steps=2),
                                 dict(type='GradientMatching', outer_loop=2, inner_steps=2)])
def test_distillers_lower_the_matching_loss_and_resume_exactly(cfg, tmp_path):
    real = RealFaces(ToyFaces(), preprocess, 3)
    common = dict(ipc=2, batch_real=8, width=8, depth=2, seed=5, save_interval=2)
    straight = TASK_UTILS.build(dict(cfg, iterations=6, **common))
    images = straight.run(real, str(tmp_path / 'a.pth'))
    assert images.shape == (6, 3, 16, 16)
    init = torch.cat([real.sample(c, 2, straight._generator(-1)) for c in range(3)])
    assert not torch.allclose(images, init)  # the images were optimised

    # killed after 4 iterations (state saved), then resumed to 6
    TASK_UTILS.build(dict(cfg, iterations=4, **common)).run(real, str(tmp_path / 'b.pth'))
    second = TASK_UTILS.build(dict(cfg, iterations=6, **common))
    resumed = second.run(real, str(tmp_path / 'b.pth'))
    assert torch.allclose(resumed, images, atol=1e-6)
    assert second.losses == pytest.approx(straight.losses, rel=1e-5) and len(second.losses) == 6
    assert torch.load(tmp_path / 'b.pth')['iteration'] == 6


def test_a_saved_state_is_not_resumed_with_other_settings(tmp_path):
    real = RealFaces(ToyFaces(), preprocess, 3)
    common = dict(ipc=2, batch_real=8, width=8, depth=2, save_interval=2)
    state = str(tmp_path / 'state.pth')
    DistributionMatching(iterations=4, **common).run(real, state)
    with pytest.raises(ValueError, match=r'state\.pth was distilled with other settings \(batch_real: 8 there, 4 here'):
        DistributionMatching(iterations=6, **dict(common, batch_real=4)).run(real, state)
    with pytest.raises(ValueError, match='moments: 1 there, 2 here'):
        DistributionMatching(iterations=6, moments=2, **common).run(real, state)
    with pytest.raises(ValueError, match='holds 4 iterations, more than the 2 asked'):
        DistributionMatching(iterations=2, **common).run(real, state)
    assert len(DistributionMatching(iterations=6, **common).run(real, state)) == 6  # same settings: resumed


def test_distribution_matching_moves_synthetic_means_towards_real():
    real = RealFaces(ToyFaces(per_class=(40, 40)), preprocess, 2)
    dm = DistributionMatching(ipc=2, iterations=1, augment=False, width=8, depth=2)
    losses = []
    syn = torch.cat([real.sample(c, 2, dm._generator(-1)) for c in range(2)]).requires_grad_(True)
    opt = torch.optim.SGD([syn], lr=1.0, momentum=0.5)
    for _ in range(15):  # the same network each time: plain descent on one objective
        losses.append(dm.step(syn, real, None, opt, torch.Generator().manual_seed(0)))
    assert losses[-1] < 0.5 * losses[0]


def test_moment_distance_adds_the_variances():
    real, syn = torch.tensor([[0., 2.], [2., 4.]]), torch.tensor([[1., 3.], [1., 3.]])
    assert float(moment_distance(real, syn, 1)) == 0  # same means
    assert float(moment_distance(real, syn, 2)) == pytest.approx(2 * 2.0**2)  # variances 2 vs 0, two dims
    with pytest.raises(ValueError, match='moments'):
        DistributionMatching(moments=3)


def test_improved_distribution_matching_trains_its_networks_and_renews_them():
    """Each step trains the network it matched in one SGD step on the step's real faces; a network that has
    had max_model_steps updates is replaced by a fresh one."""
    real = RealFaces(ToyFaces(), preprocess, 3)
    idm = TASK_UTILS.build(dict(type='ImprovedDistributionMatching', ipc=2, iterations=7, batch_real=8, width=8,
                                depth=2, num_models=1, max_model_steps=3, ce_weight=1.0))
    idm.run(real)
    # one network, 7 steps: updated 3 times, replaced, 3 more, replaced, 1
    assert idm.model_steps == [1]
    first = idm.models[0]
    idm.iterations = 8
    idm.run(real)
    assert idm.model_steps == [2] and idm.models[0] is not first  # run() starts from a fresh queue


def test_factor_two_mosaics_decode_into_four_upsampled_faces_in_row_order():
    dm = DistributionMatching(ipc=1, factor=2)
    tiles = torch.arange(4.).view(4, 1, 1, 1).expand(4, 3, 8, 8)  # four flat faces: 0, 1, 2, 3
    mosaic = dm.encode(tiles)
    assert mosaic.shape == (1, 3, 8, 8)
    assert mosaic[0, 0, :4, :4].unique().tolist() == [0] and mosaic[0, 0, :4, 4:].unique().tolist() == [1]
    assert mosaic[0, 0, 4:, :4].unique().tolist() == [2] and mosaic[0, 0, 4:, 4:].unique().tolist() == [3]
    torch.testing.assert_close(dm.decode(mosaic), tiles)  # flat tiles survive the round trip
    assert DistributionMatching(factor=1).decode(mosaic) is mosaic
    with pytest.raises(ValueError, match='factor 3 does not divide the image size 8x8'):
        DistributionMatching(factor=3).decode(mosaic)


def test_a_factor_two_distiller_optimises_mosaics_and_returns_four_faces_each(tmp_path):
    """ipc 2 at factor 2: 2 stored images per class, started from 8 real faces, 8 training faces per class out
    (class-major), the state holding the mosaics; a resumed run equals an uninterrupted one."""
    real = RealFaces(ToyFaces(), preprocess, 3)
    common = dict(ipc=2, batch_real=8, width=8, depth=2, seed=3, factor=2, save_interval=2)
    dm = DistributionMatching(iterations=4, **common)
    faces = dm.run(real, str(tmp_path / 'a.pth'))
    assert dm.faces_per_class == 8 and faces.shape == (24, 3, 16, 16)
    stored = torch.load(tmp_path / 'a.pth')['images']
    assert stored.shape == (6, 3, 16, 16)
    torch.testing.assert_close(faces, dm.decode(stored))
    start = dm.encode(torch.cat([real.sample(c, 8, dm._generator(-1)) for c in range(3)]))
    assert not torch.allclose(stored, start)
    DistributionMatching(iterations=2, **common).run(real, str(tmp_path / 'b.pth'))
    torch.testing.assert_close(DistributionMatching(iterations=4, **common).run(real, str(tmp_path / 'b.pth')), faces)


def test_clip_keeps_the_images_inside_what_a_png_holds():
    """The toy preprocessing maps 0..255 to -2..1.98; a large step pushes pixels past both ends unless clipped."""
    real = RealFaces(ToyFaces(), preprocess, 3)
    low, high = real.pixel_range()
    assert low.flatten().tolist() == [-2.0] * 3 and high.flatten().tolist() == [127 / 64] * 3
    common = dict(ipc=2, batch_real=8, width=8, depth=2, iterations=3, lr=1e4, init='noise')
    clipped = DistributionMatching(**common).run(real)
    assert clipped.min() >= -2.0 and clipped.max() <= 127 / 64 and (clipped == -2.0).any()
    free = DistributionMatching(clip=False, **common).run(real)
    assert free.min() < -2.0 and free.max() > 127 / 64


def test_progress_bars_end_their_line(capsys):
    """Caching the real faces and distilling each draw a bar; each ends its line, so what a caller prints next
    (the benchmark's JSON lines) starts a line of its own."""
    real = RealFaces(ToyFaces(), preprocess, 3)
    assert capsys.readouterr().out.endswith('\n')
    DistributionMatching(ipc=1, batch_real=4, width=8, depth=2, iterations=2).run(real)
    out = capsys.readouterr().out
    assert '2/2' in out and out.endswith('\n')
