"""Method A, stage III: a student and an EMA teacher around any mmpretrain classifier."""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmfer.registry import MODELS


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
        data_preprocessor: usually mmdet's ``MultiBranchDataPreprocessor`` around mmpretrain's
            ``ClsDataPreprocessor``.
    """

    def __init__(self, classifier: dict, threshold: float = 0.7, unsup_weight: float = 5.0,
                 predict_on: str = 'teacher', debias: float = 0.0, debias_momentum: float = 0.999,
                 soft_targets: bool = False, temperature: float = 1.0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
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
        num_classes = num_classes or 1  # a placeholder prior where it is not used
        self.register_buffer('pseudo_prior', torch.full((num_classes, ), 1.0 / num_classes))

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
        weak, strong = multi_batch_inputs['unsup_teacher'], multi_batch_inputs['unsup_student']
        with torch.no_grad():
            self.teacher.eval()  # the teacher predicts without dropout / BN updates
            logits = self.teacher(weak, mode='tensor')
            if self.debias > 0:
                m = self.debias_momentum
                self.pseudo_prior.mul_(m).add_(logits.softmax(-1).mean(0), alpha=1 - m)
                logits = logits - self.debias * self.pseudo_prior.log()
            probs = F.softmax(logits, dim=-1)
        conf, pseudo = probs.max(dim=-1)
        mask = (conf >= self.threshold).float()
        target = F.softmax(logits / self.temperature, dim=-1) if self.soft_targets else pseudo
        ce = F.cross_entropy(self.student(strong, mode='tensor'), target, reduction='none')
        losses['unsup_loss'] = self.unsup_weight * (ce * mask).mean()
        losses['unsup_mask_rate'] = mask.mean().detach()
        kept = pseudo[mask.bool()]
        for c in range(probs.shape[1]):  # class distribution of the kept pseudo-labels
            losses[f'unsup_pseudo_cls{c}'] = (kept == c).float().mean() if kept.numel() else mask.new_zeros(())
        samples = multi_batch_data_samples['unsup_teacher']
        if all('gt_label' in s for s in samples):  # hidden ground truth (SynthFER's pool); -1: not a face
            truth = torch.cat([s.gt_label for s in samples]).to(pseudo.device)
            judged = mask * (truth >= 0).float()
            if judged.sum() > 0:
                losses['unsup_pseudo_acc'] = ((pseudo == truth).float() * judged).sum() / judged.sum()
        return losses

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Load a plain classifier checkpoint into both student and teacher."""
        if not any(k.startswith(prefix + 'student.') or k.startswith(prefix + 'teacher.') for k in state_dict):
            plain = [k for k in state_dict if k.startswith(prefix) and k != prefix + 'pseudo_prior']
            for k in plain:
                v = state_dict.pop(k)
                rest = k[len(prefix):]
                state_dict[f'{prefix}student.{rest}'] = v
                state_dict[f'{prefix}teacher.{rest}'] = v
            state_dict.setdefault(prefix + 'pseudo_prior', self.pseudo_prior.clone())  # none in a plain one
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
