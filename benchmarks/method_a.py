"""Method A on SynthFER: supervised vs stage I+II vs stage I+II+III vs full labels.

    python benchmarks/method_a.py --quick

One small ViT (4 x 128, patch 8, 48 px) for every arm, 5 % of SynthFER's 12k training labels:

* ``acc_supervised`` — from scratch on the labeled split, ``stage2 + stage3`` iterations;
* ``acc_stage1_2`` — FaceMAE pre-training on the pool (stage I), then FacialMixup fine-tuning on the
  labeled split (stage II, ``stage2`` iterations);
* ``acc_stage1_2_3`` — + EMA-teacher pseudo-labelling of the pool (stage III, ``stage3`` iterations);
* ``acc_stage3_no_unlabeled`` — the same stage III run with ``unsup_weight = 0``: what continued training
  on the labeled split alone gives, so ``pseudo_label_gain`` (the difference) is what pseudo-labels add;
* ``acc_full_labels`` — from scratch on every training label, ``stage2 + stage3`` iterations;
* ``pseudo_label_accuracy`` — accuracy of the pseudo-labels stage III kept (judged on the pool's hidden
  truth over the last quarter of stage III), with ``pseudo_mask_rate``.

Goal: ``acc_stage1_2_3 - acc_supervised >= 0.10`` and each stage adds accuracy. The last line printed is
one JSON object.
"""
import argparse
import os.path as osp

import torch
from common import (REPO, ensure_split, ensure_synthfer, quick_config, report, reuse_or_train, set_iter_schedule,
                    set_schedule, train_and_eval)
from mmengine.config import DictAction
from mmengine.runner import load_checkpoint

from mmfer.datasets import skip_none_collate
from mmfer.registry import DATASETS, MODELS

SUPERVISED = 'configs/supervised/vit-small-p8_1xb64_synthfer-quick48.py'
STAGE1 = 'configs/face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py'
STAGE2 = 'configs/method_a/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py'
STAGE3 = 'configs/method_a/stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='short budgets on the 48 px quick set')
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--mae-epochs', type=int, default=None, help='stage I epochs (default 40 quick, 100 full)')
    parser.add_argument('--stage2-iters', type=int, default=None, help='default 600 quick, 2000 full')
    parser.add_argument('--stage3-iters', type=int, default=None, help='default 600 quick, 2000 full')
    parser.add_argument('--stage3-options', nargs='+', action=DictAction, default={},
                        help='overrides of the stage III config, e.g. model.threshold=0.8')
    parser.add_argument('--reuse', action='store_true',
                        help='reuse the checkpoints a previous run left in the work dir (not stage III)')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'bench_method_a'))
    return parser.parse_args()


@torch.no_grad()
def pseudo_labels(cfg, checkpoint, pool_root):
    """The stage III teacher over the whole pool: the share of faces it labels at the threshold (mask rate) and
    the accuracy of those labels on the pool's hidden truth (distractors excluded, as in training)."""
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    teacher, pre = model.teacher.eval(), model.data_preprocessor.data_preprocessor
    pool = DATASETS.build(dict(type='UnlabeledFaces', data_root=pool_root, ann_file='list.txt',
                               hidden_truth='hidden_truth.csv', test_mode=True,
                               pipeline=cfg.val_dataloader.dataset.pipeline))
    loader = torch.utils.data.DataLoader(pool, batch_size=256, collate_fn=skip_none_collate)
    kept = correct = faces = 0
    for batch in loader:
        data = pre(batch, False)
        conf, pred = teacher(data['inputs'], mode='tensor').softmax(1).max(1)
        truth = torch.cat([s.gt_label for s in data['data_samples']])
        face = truth >= 0
        mask = (conf >= cfg.model.threshold) & face
        faces, kept = faces + int(face.sum()), kept + int(mask.sum())
        correct += int((pred == truth)[mask].sum())
    return dict(mask_rate=kept / max(1, faces), accuracy=correct / max(1, kept))


def main():
    args = parse_args()
    # 5 % of 12k labels (600 faces): 5 % of the 3k quick set (149 faces) leaves every model below the prior
    root = osp.join(REPO, 'data', 'synthfer_semi48')
    ensure_synthfer(root, img_size=48, num_train=12000, num_test=1000, num_pool=10000)
    mae_epochs = args.mae_epochs or (40 if args.quick else 100)
    iters2 = args.stage2_iters or (600 if args.quick else 2000)
    iters3 = args.stage3_iters or (600 if args.quick else 2000)
    split = ensure_split(quick_config(SUPERVISED, root), args.ratio, args.seed,
                         osp.join(root, 'splits', f'labeled_{args.ratio:g}_seed{args.seed}.json'))

    # stage I: FaceMAE on the unlabeled pool
    cfg = quick_config(STAGE1)
    cfg.train_dataloader.dataset.data_root = osp.join(root, 'pool')
    set_schedule(cfg, mae_epochs, warmup=1)
    cfg.custom_hooks = []
    stage1 = reuse_or_train(args.reuse, cfg, args.work_dir, 'stage1', validate=False)

    # stage II: FacialMixup fine-tuning from the stage I encoder
    cfg = quick_config(STAGE2, root)
    cfg.train_dataloader.dataset.split_file = split
    cfg.model.backbone.init_cfg.checkpoint = stage1['checkpoint']
    set_iter_schedule(cfg, iters2)
    stage2 = reuse_or_train(args.reuse, cfg, args.work_dir, 'stage2')

    # stage III: EMA teacher pseudo-labels the pool, from the stage II checkpoint
    cfg = quick_config(STAGE3)
    cfg.train_dataloader.dataset.datasets[0].update(data_root=root, split_file=split)
    cfg.train_dataloader.dataset.datasets[1].data_root = osp.join(root, 'pool')
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    cfg.load_from = stage2['checkpoint']
    set_iter_schedule(cfg, iters3, warmup=1)
    cfg.merge_from_dict(args.stage3_options)
    stage3 = train_and_eval(cfg, args.work_dir, 'stage3', save=True)
    pseudo = pseudo_labels(cfg, stage3['checkpoint'], osp.join(root, 'pool'))
    # control: the same run without the unlabeled loss
    cfg.model.unsup_weight = 0.0
    if cfg.custom_hooks[0].get('unsup_weight') is not None:
        cfg.custom_hooks[0].unsup_weight = 0.0
    control = train_and_eval(cfg, args.work_dir, 'stage3_no_unlabeled')

    # from-scratch arms, with the iterations of stages II + III together
    cfg = quick_config(SUPERVISED, root)
    cfg.train_dataloader.dataset.split_file = split
    set_iter_schedule(cfg, iters2 + iters3)
    supervised = reuse_or_train(args.reuse, cfg, args.work_dir, 'supervised')
    cfg = quick_config(SUPERVISED, root)
    set_iter_schedule(cfg, iters2 + iters3)
    full = reuse_or_train(args.reuse, cfg, args.work_dir, 'full_labels')

    arms = dict(supervised=supervised, stage1_2=stage2, stage1_2_3=stage3, stage3_no_unlabeled=control,
                full_labels=full)
    acc = {name: round(m['accuracy/top1'] / 100, 4) for name, m in arms.items()}
    mean_class = {f'mean_class_acc_{name}': round(m['mean_class/recall'] / 100, 4) for name, m in arms.items()}
    gain = acc['stage1_2_3'] - acc['supervised']
    report(dict(
        benchmark='method_a', quick=args.quick, label_ratio=args.ratio, mae_epochs=mae_epochs,
        stage2_iters=iters2, stage3_iters=iters3,
        acc_supervised=acc['supervised'], acc_stage1_2=acc['stage1_2'], acc_stage1_2_3=acc['stage1_2_3'],
        acc_full_labels=acc['full_labels'], gain=round(gain, 4), acc_stage3_no_unlabeled=acc['stage3_no_unlabeled'],
        pseudo_label_gain=round(acc['stage1_2_3'] - acc['stage3_no_unlabeled'], 4), **mean_class,
        pseudo_label_accuracy=round(pseudo['accuracy'], 4), pseudo_mask_rate=round(pseudo['mask_rate'], 4),
        seconds={name: round(m['train_seconds'], 1) for name, m in
                 dict(stage1=stage1, stage2=stage2, stage3=stage3, stage3_no_unlabeled=control,
                      supervised=supervised, full=full).items()},
        goal_met=bool(gain >= 0.10 and acc['supervised'] < acc['stage1_2'] < acc['stage1_2_3']),
        # stage III's gain over continued labeled-only training: does pseudo-labelling itself add?
        pseudo_labels_add=bool(acc['stage1_2_3'] > acc['stage3_no_unlabeled']),
        # top-1 can rise by drifting to the majority class; this says whether mean class accuracy rose too
        mean_class_adds=bool(mean_class['mean_class_acc_supervised'] < mean_class['mean_class_acc_stage1_2']
                             < mean_class['mean_class_acc_stage1_2_3'])))


if __name__ == '__main__':
    main()
