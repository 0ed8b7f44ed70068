"""Method A, stage III: a student and an EMA teacher around any mmpretrain classifier."""
import copy
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, is_distributed
from mmengine.model import BaseModel

from mmfer.registry import MODELS

THRESHOLD_MODES = ('fixed', 'freematch', 'flexmatch')


class PseudoLabels(NamedTuple):
    """The teacher's step on a batch of weak views (:meth:`SemiFERClassifier.pseudo_label`)."""
    logits: torch.Tensor  # (B, C) the teacher's logits, debiased when ``debias > 0``
    probs: torch.Tensor  # (B, C) its probabilities, distribution-aligned when ``dist_align``
    labels: torch.Tensor  # (B,) the pseudo-labels (arg max of ``probs``)
    mask: torch.Tensor  # (B,) 1. where the confidence reaches the threshold, else 0.
    thresholds: torch.Tensor  # (B,) the threshold each sample was held to


@MODELS.register_module()
class SemiFERClassifier(BaseModel):
    """FixMatch-style semi-supervised classifier with an EMA teacher (mmdet's ``SemiBaseDetector``
    pattern, for classification).

    ``student`` and ``teacher`` are two copies of one classifier config. In training the batch
    comes from mmdet's ``MultiBranch`` pipeline as three branches: ``sup`` (labeled images),
    ``unsup_teacher`` (weak views) and ``unsup_student`` (strong views of the same unlabeled
    images). The teacher's hard pseudo-label on the weak view is kept when its confidence is at
    least ``threshold``; the student learns it on the strong view:

    ``loss = sup_loss + unsup_weight * mean_i(mask_i * CE(student(strong_i), pseudo_i))``

    (the mean runs over every unlabeled image, as in FixMatch). The teacher is never trained
    here: :class:`~mmfer.engine.hooks.SemiFERHook` moves it by EMA and owns the schedules of
    ``threshold`` and ``unsup_weight``. Losses are logged as ``sup_*`` and ``unsup_loss``,
    together with ``unsup_mask_rate``, the kept pseudo-labels' class shares
    ``unsup_pseudo_cls<k>`` and, when the unlabeled samples carry a hidden ``gt_label``
    (``UnlabeledFaces(hidden_truth=...)``; -1 for non-faces, which are not judged),
    ``unsup_pseudo_acc``, the accuracy of the kept pseudo-labels.

    With ``debias = λ > 0`` the pseudo-labels come from debiased teacher logits
    ``z - λ log p̄`` (DebiasPL, Wang et al., CVPR 2022: the causal-inference part), ``p̄`` being
    an EMA (``debias_momentum``) of the teacher's mean softmax over the unlabeled batches, kept
    in the ``pseudo_prior`` buffer (checkpointed). A teacher that learned the labeled split's
    class shares over-predicts its head classes on a pool whose shares differ; debiasing stops
    those classes from taking over the pseudo-labels. Off by default (method A has none).

    With ``soft_targets=True`` the student learns the teacher's whole distribution instead of its
    argmax, sharpened by ``temperature`` (UDA, Xie et al., NeurIPS 2020):
    ``CE(student(strong_i), softmax(z_i / T))``, still masked by the confidence of ``softmax(z_i)``.
    A teacher that is unsure between two expressions then passes that on instead of a coin-flip
    hard label. Off by default (method A uses hard labels).

    ``threshold_mode`` chooses how the confidence threshold is set (its running state lives in
    buffers, so it is checkpointed and survives ``--resume``):

    * ``'fixed'`` — ``conf >= threshold`` (FixMatch; method A);
    * ``'freematch'`` — FreeMatch's self-adaptive threshold (Wang et al., ICLR 2023): a global
      ``τ = EMA(mean_i max p_i)`` and class-wise ``τ_c = τ · p̃_c / max(p̃)`` with ``p̃ = EMA(mean_i p_i)``
      (momentum ``ema_momentum``, both starting at ``1/C``); ``fairness_weight > 0`` adds its
      class-fairness term ``-H(SumNorm(p̃ / h̃), SumNorm(p̄_s / h̄_s))`` (``h̃``: EMA histogram of the
      teacher's labels; ``p̄_s``, ``h̄_s``: mean probability and histogram of the student's strong-view
      predictions on the kept samples), logged as ``unsup_fairness_loss``;
    * ``'flexmatch'`` — FlexMatch's class-wise curriculum thresholds (Zhang et al., NeurIPS 2021):
      every unlabeled sample's last label predicted above ``threshold`` is remembered
      (``num_unlabeled`` entries, by the sample's ``sample_idx``); with ``σ_c`` the number remembered as
      class ``c`` and ``u`` the number never above it, ``β_c = σ_c / max(max σ, u)`` (threshold
      warm-up) and ``τ_c = threshold · β_c / (2 - β_c)``.

    ``dist_align`` (ReMixMatch's distribution alignment, Berthelot et al., ICLR 2020) rescales the
    teacher's probabilities before thresholding, ``p ← SumNorm(p · p_target / p̄)``, with ``p̄`` an EMA
    of the teacher's mean prediction on the unlabeled batches and ``p_target`` the labeled batches'
    class shares (EMA, ``dist_align='labeled'``) or uniform (``'uniform'``). The thresholds in use are
    logged as ``unsup_threshold`` (the batch mean of each sample's threshold).

    A plain classifier checkpoint (stage II) loads into both copies; validation and testing
    use the teacher (``predict_on='teacher'``) or the student.

    Args:
        classifier: an mmpretrain classifier config (``ImageClassifier``, ``FacialMixupClassifier``, ...).
        threshold: confidence for keeping a pseudo-label (method A: 0.7).
        unsup_weight: weight of the unlabeled loss (method A: 5).
        predict_on: ``'teacher'`` or ``'student'``.
        debias: ``λ`` of the pseudo-label debiasing; 0 turns it off.
        debias_momentum: EMA momentum of ``p̄`` (weight of the running value).
        soft_targets: learn the teacher's (sharpened) probabilities instead of its hard label.
        temperature: sharpening temperature ``T`` of the soft targets (< 1 sharpens).
        threshold_mode: ``'fixed'``, ``'freematch'`` or ``'flexmatch'``.
        ema_momentum: weight of the running value in the EMAs of FreeMatch and distribution alignment.
        fairness_weight: weight of FreeMatch's class-fairness loss (0 turns it off).
        num_unlabeled: size of the unlabeled set (FlexMatch's per-sample memory).
        dist_align: ``None``, ``'labeled'`` or ``'uniform'``: the target of distribution alignment.
        data_preprocessor: usually mmdet's ``MultiBranchDataPreprocessor`` around mmpretrain's
            ``ClsDataPreprocessor``.
    """

    def __init__(self, classifier: dict, threshold: float = 0.7, unsup_weight: float = 5.0,
                 predict_on: str = 'teacher', debias: float = 0.0, debias_momentum: float = 0.999,
                 soft_targets: bool = False, temperature: float = 1.0, threshold_mode: str = 'fixed',
                 ema_momentum: float = 0.999, fairness_weight: float = 0.0, num_unlabeled: Optional[int] = None,
                 dist_align: Optional[str] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if predict_on not in ('teacher', 'student'):
            raise ValueError(f"predict_on must be 'teacher' or 'student', got {predict_on!r}")
        self.student = MODELS.build(copy.deepcopy(classifier))
        self.teacher = MODELS.build(copy.deepcopy(classifier))
        self.teacher.load_state_dict(self.student.state_dict())
        self.teacher.requires_grad_(False)
        self.threshold = threshold
        self.unsup_weight = unsup_weight
        self.predict_on = predict_on
        self.debias, self.debias_momentum = debias, debias_momentum
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.soft_targets, self.temperature = soft_targets, temperature
        num_classes = getattr(self.student.head, 'num_classes', None)
        if debias > 0 and not num_classes:
            raise ValueError(f'debias needs a head with num_classes, got {type(self.student.head).__name__}')
        if threshold_mode not in THRESHOLD_MODES:
            raise ValueError(f'threshold_mode must be one of {THRESHOLD_MODES}, got {threshold_mode!r}')
        if dist_align not in (None, 'labeled', 'uniform'):
            raise ValueError(f"dist_align must be None, 'labeled' or 'uniform', got {dist_align!r}")
        if not 0 <= ema_momentum < 1:
            raise ValueError(f'ema_momentum must be in [0, 1), got {ema_momentum}')
        if (threshold_mode != 'fixed' or dist_align) and not num_classes:
            raise ValueError(f'{threshold_mode} thresholds and dist_align need a head with num_classes, got '
                             f'{type(self.student.head).__name__}')
        if threshold_mode == 'flexmatch' and not (num_unlabeled and num_unlabeled > 0):
            raise ValueError(f'flexmatch needs num_unlabeled (the size of the unlabeled set), got {num_unlabeled}')
        self.threshold_mode, self.dist_align = threshold_mode, dist_align
        self.ema_momentum, self.fairness_weight = ema_momentum, fairness_weight
        num_classes = num_classes or 1  # a placeholder prior where it is not used
        uniform = torch.full((num_classes, ), 1.0 / num_classes)
        self.register_buffer('pseudo_prior', uniform.clone())
        # running state of the thresholds and of distribution alignment (checkpointed with the model)
        if threshold_mode == 'freematch':
            self.register_buffer('sat_global', torch.tensor(1.0 / num_classes))
            self.register_buffer('sat_local', uniform.clone())
            self.register_buffer('label_hist', uniform.clone())
        if threshold_mode == 'flexmatch':
            self.register_buffer('selected_label', torch.full((num_unlabeled, ), -1, dtype=torch.long))
        if dist_align:
            self.register_buffer('da_model', uniform.clone())
            self.register_buffer('da_target', uniform.clone())

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        model = self.teacher if self.predict_on == 'teacher' else self.student
        return model(inputs, data_samples, mode=mode)

    def loss(self, multi_batch_inputs: Dict[str, torch.Tensor],
             multi_batch_data_samples: Dict[str, List]) -> Dict[str, torch.Tensor]:
        losses = {f'sup_{k}': v for k, v in
                  self.student.loss(multi_batch_inputs['sup'], multi_batch_data_samples['sup']).items()}
        if 'unsup_teacher' not in multi_batch_inputs:
            return losses
        strong, samples = multi_batch_inputs['unsup_student'], multi_batch_data_samples['unsup_teacher']
        logits, probs, pseudo, mask, thresholds = self.pseudo_label(
            multi_batch_inputs['unsup_teacher'], samples, multi_batch_data_samples['sup'])
        target = F.softmax(logits / self.temperature, dim=-1) if self.soft_targets else pseudo
        student_logits = self.student(strong, mode='tensor')
        ce = F.cross_entropy(student_logits, target, reduction='none')
        losses['unsup_loss'] = self.unsup_weight * (ce * mask).mean()
        if self.threshold_mode == 'freematch' and self.fairness_weight > 0:
            losses['unsup_fairness_loss'] = self.fairness_weight * self._fairness(mask, student_logits)
        losses['unsup_mask_rate'] = mask.mean().detach()
        losses['unsup_threshold'] = thresholds.mean().detach()
        kept = pseudo[mask.bool()]
        for c in range(probs.shape[1]):  # class distribution of the kept pseudo-labels
            losses[f'unsup_pseudo_cls{c}'] = (kept == c).float().mean() if kept.numel() else mask.new_zeros(())
        if all('gt_label' in s for s in samples):  # hidden ground truth (SynthFER's pool); -1: not a face
            truth = torch.cat([s.gt_label for s in samples]).to(pseudo.device)
            judged = mask * (truth >= 0).float()
            if judged.sum() > 0:
                losses['unsup_pseudo_acc'] = ((pseudo == truth).float() * judged).sum() / judged.sum()
        return losses

    @torch.no_grad()
    def pseudo_label(self, weak: torch.Tensor, samples: List, sup_samples: List) -> PseudoLabels:
        """The teacher's step on weak views: debiasing, distribution alignment and thresholds (updating their
        running state)."""
        self.teacher.eval()  # the teacher predicts without dropout / BN updates
        logits = self.teacher(weak, mode='tensor')
        if self.debias > 0:
            m = self.debias_momentum
            self.pseudo_prior.mul_(m).add_(logits.softmax(-1).mean(0), alpha=1 - m)
            logits = logits - self.debias * self.pseudo_prior.log()
        probs = F.softmax(logits, dim=-1)
        if self.dist_align:
            probs = self._align(probs, sup_samples)
        conf, pseudo = probs.max(dim=-1)
        thresholds = self._thresholds(probs, conf, pseudo, samples)
        return PseudoLabels(logits, probs, pseudo, (conf >= thresholds).float(), thresholds)

    def _align(self, probs: torch.Tensor, sup_samples: List) -> torch.Tensor:
        """Distribution alignment: ``SumNorm(p · p_target / p̄)``, updating both running priors."""
        m = self.ema_momentum
        self.da_model.mul_(m).add_(probs.mean(0), alpha=1 - m)
        if self.dist_align == 'labeled':
            labels = torch.cat([s.gt_label for s in sup_samples]).to(probs.device)
            shares = torch.bincount(labels, minlength=probs.shape[1]).float() / labels.numel()
            self.da_target.mul_(m).add_(shares, alpha=1 - m)
        aligned = probs * self.da_target / self.da_model
        return aligned / aligned.sum(-1, keepdim=True)

    def _thresholds(self, probs: torch.Tensor, conf: torch.Tensor, pseudo: torch.Tensor,
                    samples: List) -> torch.Tensor:
        """Per-sample confidence thresholds ``(B,)`` of the threshold mode, updating its running state."""
        if self.threshold_mode == 'freematch':
            m = self.ema_momentum
            self.sat_global.mul_(m).add_(conf.mean(), alpha=1 - m)
            self.sat_local.mul_(m).add_(probs.mean(0), alpha=1 - m)
            hist = torch.bincount(pseudo, minlength=probs.shape[1]).float()
            self.label_hist.mul_(m).add_(hist / hist.sum(), alpha=1 - m)
            return (self.sat_global * self.sat_local / self.sat_local.max())[pseudo]
        if self.threshold_mode == 'flexmatch':
            memory = self.selected_label
            sigma = torch.bincount(memory[memory >= 0], minlength=probs.shape[1]).float()
            unused = (memory < 0).sum().float()
            beta = sigma / torch.maximum(sigma.max(), unused).clamp(min=1)
            thresholds = (self.threshold * beta / (2 - beta))[pseudo]
            idx = torch.as_tensor([s.sample_idx for s in samples], device=memory.device)
            if int(idx.max()) >= memory.numel():
                raise IndexError(f'unlabeled sample_idx {int(idx.max())} outside num_unlabeled={memory.numel()}')
            labels = torch.where(conf >= self.threshold, pseudo, -1).to(memory.device)
            if is_distributed():  # every rank remembers every rank's samples (same batch size on each)
                idx, labels = torch.cat(all_gather(idx)), torch.cat(all_gather(labels))
            sure = labels >= 0
            memory[idx[sure]] = labels[sure]
            return thresholds
        return torch.full_like(conf, self.threshold)

    def _fairness(self, mask: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
        """FreeMatch's class-fairness loss over the kept samples (0 when none is kept)."""
        kept = mask.bool()
        if not kept.any():
            return student_logits.sum() * 0
        prob_s = student_logits[kept].softmax(-1)
        hist_s = torch.bincount(prob_s.argmax(-1), minlength=prob_s.shape[1]).float()
        hist_s = hist_s / hist_s.sum()

        def sum_norm(p, h):  # SumNorm(p / h), classes with h = 0 dropped (USB's replace_inf_to_zero)
            scaled = torch.where(h > 0, p / h.clamp(min=1e-12), torch.zeros_like(p))
            return scaled / scaled.sum()

        model = sum_norm(self.sat_local, self.label_hist).detach()
        return (model * torch.log(sum_norm(prob_s.mean(0), hist_s) + 1e-12)).sum()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Load a plain classifier checkpoint into both student and teacher."""
        if not any(k.startswith(prefix + 'student.') or k.startswith(prefix + 'teacher.') for k in state_dict):
            plain = [k for k in state_dict if k.startswith(prefix) and k[len(prefix):] not in self._buffers]
            for k in plain:
                v = state_dict.pop(k)
                rest = k[len(prefix):]
                state_dict[f'{prefix}student.{rest}'] = v
                state_dict[f'{prefix}teacher.{rest}'] = v
            for name, buf in self._buffers.items():  # a plain one has none of the running state
                state_dict.setdefault(prefix + name, buf.clone())
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
