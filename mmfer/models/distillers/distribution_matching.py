"""Distribution matching (Zhao & Bilen, WACV 2023): method B's default distiller."""
import torch

from mmfer.registry import TASK_UTILS
from .base import BaseDistiller, RealFaces


@TASK_UTILS.register_module()
class DistributionMatching(BaseDistiller):
    """Match the mean embedding of real and synthetic faces, class by class.

    Each step draws a fresh randomly initialised ConvNet ``psi`` (no training, so a step costs
    forward/backward passes only — it scales to large mined sets) and minimises
    ``sum_c || mean_i psi(A(real_c,i)) - mean_j psi(A(syn_c,j)) ||^2`` over the synthetic
    images, ``A`` being one siamese augmentation shared by both sides. Defaults follow the
    paper (SGD lr 1, momentum 0.5, real batch 64 per class); see :class:`BaseDistiller`.
    """

    def step(self, syn, real: RealFaces, labels, optimizer, generator) -> float:
        net = self._net(generator, syn.shape[-1], device=syn.device).requires_grad_(False)
        views = [self._views(generator, real.sample(c, self.batch_real, generator),
                             syn[c * self.ipc:(c + 1) * self.ipc]) for c in range(len(real.by_class))]
        # two forward passes over every class's views (the net normalises per sample): real ones without
        # autograd, synthetic ones with it
        with torch.no_grad():
            real_means = net(torch.cat([r for r, _ in views])).split([len(r) for r, _ in views])
        syn_means = net(torch.cat([s for _, s in views])).split([len(s) for _, s in views])
        loss = sum((r.mean(0) - s.mean(0)).pow(2).sum() for r, s in zip(real_means, syn_means))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())
