"""Distribution matching (Zhao & Bilen, WACV 2023): method B's default distiller."""

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
        net = self._net(generator, syn.shape[-1]).requires_grad_(False)
        loss = syn.new_zeros(())
        for c in range(len(real.by_class)):
            r, s = self._views(generator, real.sample(c, self.batch_real, generator),
                               syn[c * self.ipc:(c + 1) * self.ipc])
            loss = loss + (net(r).mean(0) - net(s).mean(0)).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())
