"""Distribution matching (Zhao & Bilen, WACV 2023), method B's default distiller, and its improved
form with model sampling from trained states (IDM: Zhao et al., CVPR 2023)."""
from typing import List, Optional

import torch
import torch.nn.functional as F

from mmfer.registry import TASK_UTILS
from .base import BaseDistiller, RealFaces, chunked


def moment_distance(real: torch.Tensor, syn: torch.Tensor, moments: int) -> torch.Tensor:
    """``||mean(real) - mean(syn)||^2``, plus ``||var(real) - var(syn)||^2`` with ``moments=2``."""
    loss = (real.mean(0) - syn.mean(0)).pow(2).sum()
    if moments >= 2 and len(syn) > 1:
        loss = loss + (real.var(0) - syn.var(0)).pow(2).sum()
    return loss


@TASK_UTILS.register_module()
class DistributionMatching(BaseDistiller):
    """Match the mean embedding of real and synthetic faces, class by class.

    Each step draws a fresh randomly initialised ConvNet ``psi`` (no training, so a step costs
    forward/backward passes only — it scales to large mined sets) and minimises
    ``sum_c || mean_i psi(A(real_c,i)) - mean_j psi(A(syn_c,j)) ||^2`` over the synthetic
    images, ``A`` being one siamese augmentation shared by both sides. Defaults follow the
    paper (SGD lr 1, momentum 0.5, real batch 64 per class); see :class:`BaseDistiller`.

    Args:
        moments: 1 matches the class means (the paper); 2 also the per-dimension variances.
    """

    def __init__(self, moments: int = 1, **kwargs):
        if moments not in (1, 2):
            raise ValueError(f'moments must be 1 or 2, got {moments}')
        super().__init__(**kwargs)
        self.moments = moments

    def _embed(self, generator: torch.Generator, syn: torch.Tensor, num_classes: int) -> torch.nn.Module:
        """The embedding of this step: a fresh random ConvNet without its classifier."""
        return self._net(generator, syn.shape[-1], device=syn.device).requires_grad_(False)

    def _match(self, net, views: List):
        """The matching loss and the synthetic views' features (class-major, with autograd)."""
        # two forward passes over every class's views (the net normalises per sample): real ones without
        # autograd, synthetic ones with it
        with torch.no_grad():
            real_feats = chunked(net, torch.cat([r for r, _ in views])).split([len(r) for r, _ in views])
        syn_feats = chunked(net, torch.cat([s for _, s in views]))
        per_class = syn_feats.split([len(s) for _, s in views])
        return sum(moment_distance(r, s, self.moments) for r, s in zip(real_feats, per_class)), syn_feats

    def step(self, syn, real: RealFaces, labels, optimizer, generator) -> float:
        num_classes = len(real.by_class)
        net = self._embed(generator, syn, num_classes)
        views = [self._views(generator, real.sample(c, self.batch_real, generator), self._class_faces(syn, c))
                 for c in range(num_classes)]
        loss, syn_feats = self._match(net, views)
        loss = loss + self._extra_loss(syn_feats, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self._after_step(views)
        return float(loss.detach())

    def _extra_loss(self, syn_feats: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """A subclass's term on the synthetic views' features (none here)."""
        return syn_feats.new_zeros(())

    def _after_step(self, views) -> None:
        pass


@TASK_UTILS.register_module()
class ImprovedDistributionMatching(DistributionMatching):
    """Distribution matching in the feature spaces of partly trained networks (IDM's model sampling and
    class-balance regulariser; its partitioning and expansion is every distiller's ``factor``).

    A queue of ``num_models`` ConvNet classifiers is kept. Each step matches the class-wise feature
    statistics (see :class:`DistributionMatching`) in the embedding of one of them drawn at random, adds
    ``ce_weight`` x the cross-entropy of that network on the augmented synthetic faces (they must be
    classified as their class, not only look like its mean), then trains the network one SGD step on the
    real faces the step drew. A network that has had ``max_model_steps`` updates is replaced by a fresh
    one, so the queue spans early to trained states. The queue (weights, optimiser state, step counts) is
    saved with the images, so a resumed run equals an uninterrupted one.

    Args:
        num_models: size of the network queue.
        max_model_steps: updates after which a network is replaced.
        model_lr: SGD learning rate of the networks (momentum 0.9, weight decay 5e-4).
        ce_weight: weight of the synthetic faces' cross-entropy.
        **kwargs: see :class:`DistributionMatching`.
    """

    def __init__(self, num_models: int = 4, max_model_steps: int = 100, model_lr: float = 0.01,
                 ce_weight: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.num_models, self.max_model_steps, self.model_lr, self.ce_weight = (num_models, max_model_steps,
                                                                                model_lr, ce_weight)
        self.models: List[Optional[torch.nn.Module]] = [None] * num_models
        self.optims: List[Optional[torch.optim.Optimizer]] = [None] * num_models
        self.model_steps = [0] * num_models

    def run(self, real: RealFaces, state_file: Optional[str] = None) -> torch.Tensor:
        self.models, self.optims = [None] * self.num_models, [None] * self.num_models
        self.model_steps = [0] * self.num_models
        return super().run(real, state_file)

    def _new_model(self, k: int, generator, syn, num_classes: int) -> None:
        self.shape = (syn.shape[-1], num_classes)
        self.models[k] = self._net(generator, syn.shape[-1], num_classes, syn.device)
        self.optims[k] = torch.optim.SGD(self.models[k].parameters(), lr=self.model_lr, momentum=0.9,
                                         weight_decay=5e-4)
        self.model_steps[k] = 0

    def _embed(self, generator, syn, num_classes):
        k = int(torch.randint(self.num_models, (1, ), generator=generator))
        if self.models[k] is None or self.model_steps[k] >= self.max_model_steps:
            self._new_model(k, generator, syn, num_classes)
        self.current = k
        net = self.models[k]
        net.requires_grad_(False)
        return net[:-1]

    def _extra_loss(self, syn_feats, labels):
        if not self.ce_weight:
            return syn_feats.new_zeros(())
        return self.ce_weight * F.cross_entropy(self.models[self.current][-1](syn_feats), labels)

    def _after_step(self, views):
        net, opt = self.models[self.current], self.optims[self.current]
        net.requires_grad_(True)
        x = torch.cat([r for r, _ in views])
        y = torch.cat([torch.full((len(r), ), c, device=x.device) for c, (r, _) in enumerate(views)])
        opt.zero_grad()
        F.cross_entropy(chunked(net, x), y).backward()
        opt.step()
        net.requires_grad_(False)
        self.model_steps[self.current] += 1

    def extra_state(self) -> dict:
        return dict(models=[None if m is None else m.state_dict() for m in self.models],
                    optims=[None if o is None else o.state_dict() for o in self.optims],
                    model_steps=list(self.model_steps), shape=getattr(self, 'shape', None))

    def load_extra_state(self, state: dict, device) -> None:
        if not state:
            return
        self.shape = state['shape']
        for k, (weights, opt) in enumerate(zip(state['models'], state['optims'])):
            if weights is not None:
                self.models[k] = self._net(torch.Generator().manual_seed(0), *self.shape, device)
                self.models[k].load_state_dict(weights)
                self.optims[k] = torch.optim.SGD(self.models[k].parameters(), lr=self.model_lr, momentum=0.9,
                                                 weight_decay=5e-4)
                self.optims[k].load_state_dict(opt)
        self.model_steps = list(state['model_steps'])
