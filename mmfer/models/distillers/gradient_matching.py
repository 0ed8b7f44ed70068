"""Gradient matching (Zhao, Mopuri & Bilen, ICLR 2021 — "dataset condensation"), an option."""
from typing import List

import torch
import torch.nn.functional as F

from mmfer.registry import TASK_UTILS
from .base import BaseDistiller, RealFaces, siamese_augment


def gradient_distance(syn_grads: List[torch.Tensor], real_grads: List[torch.Tensor]) -> torch.Tensor:
    """Sum over layers and output units of ``1 - cos`` between the two gradients (biases skipped)."""
    total = syn_grads[0].new_zeros(())
    for gs, gr in zip(syn_grads, real_grads):
        if gs.dim() == 1:
            continue
        total = total + (1 - F.cosine_similarity(gs.flatten(1), gr.flatten(1), dim=1, eps=1e-6)).sum()
    return total


@TASK_UTILS.register_module()
class GradientMatching(BaseDistiller):
    """Make a network's gradients on the synthetic faces match those on real faces, per class.

    Each iteration draws a fresh ConvNet classifier and alternates ``outer_loop`` times: update the
    images to minimise :func:`gradient_distance` of the class-wise cross-entropy gradients, then
    train the network ``inner_steps`` steps on the synthetic set. Costlier than
    :class:`DistributionMatching` (second-order gradients, network training).

    Args:
        outer_loop: image updates per network.
        inner_steps: network updates on the synthetic set between image updates.
        net_lr: the network's SGD learning rate.
        **kwargs: see :class:`BaseDistiller` (the paper's image lr is 0.1).
    """

    def __init__(self, outer_loop: int = 10, inner_steps: int = 50, net_lr: float = 0.01, lr: float = 0.1,
                 **kwargs):
        super().__init__(lr=lr, **kwargs)
        self.outer_loop, self.inner_steps, self.net_lr = outer_loop, inner_steps, net_lr

    def step(self, syn, real: RealFaces, labels, optimizer, generator) -> float:
        num_classes = len(real.by_class)
        net = self._net(generator, syn.shape[-1], num_classes, syn.device)
        params = list(net.parameters())
        net_opt = torch.optim.SGD(params, lr=self.net_lr)
        for ol in range(self.outer_loop):
            loss = syn.new_zeros(())
            for c in range(num_classes):
                r, s = self._views(generator, real.sample(c, self.batch_real, generator), self._class_faces(syn, c))
                target = torch.full((r.shape[0], ), c, device=syn.device)
                real_grads = [g.detach() for g in torch.autograd.grad(F.cross_entropy(net(r), target), params)]
                syn_target = torch.full((s.shape[0], ), c, device=syn.device)
                syn_grads = torch.autograd.grad(F.cross_entropy(net(s), syn_target), params, create_graph=True)
                loss = loss + gradient_distance(syn_grads, real_grads)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if ol == self.outer_loop - 1:
                break
            for _ in range(self.inner_steps):
                x = self.decode(syn.detach())
                x = siamese_augment(generator, x)[0] if self.augment else x
                net_opt.zero_grad()
                F.cross_entropy(net(x), labels).backward()
                net_opt.step()
        return float(loss.detach())
