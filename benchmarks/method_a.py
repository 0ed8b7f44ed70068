"""Method A on SynthFER: supervised vs stage I+II vs stage I+II+III vs full labels.

    python benchmarks/method_a.py --quick

One small ViT (4 x 128, patch 8, 48 px) for every arm, 5 % of the labels:

* ``acc_supervised`` — from scratch on the labeled split, ``stage2 + stage3`` iterations;
* ``acc_stage1_2`` — FaceMAE pre-training on the pool (stage I), then FacialMixup fine-tuning on the
  labeled split (stage II, ``stage2`` iterations);
* ``acc_stage1_2_3`` — + EMA-teacher pseudo-labelling of the pool (stage III, ``stage3`` iterations);
* ``acc_full_labels`` — from scratch on every training label, ``stage2 + stage3`` iterations;
* ``pseudo_label_accuracy`` — accuracy of the pseudo-labels stage III kept (judged on the pool's hidden
  truth over the last quarter of stage III), with ``pseudo_mask_rate``.

Goal: ``acc_stage1_2_3 - acc_supervised >= 0.10`` and each stage adds accuracy. The last line printed is
one JSON object.
"""
import argparse
import os.path as osp

from common import (REPO, ensure_split, ensure_synthfer, quick_config, report, set_iter_schedule, set_schedule,
                    train_and_eval)

SUPERVISED = 'configs/supervised/vit-small-p8_1xb64_synthfer-quick48.py'
STAGE1 = 'configs/face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py'
STAGE2 = 'configs/method_a/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py'
STAGE3 = 'configs/method_a/stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='short budgets on the 48 px quick set')
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--mae-epochs', type=int, default=None, help='stage I epochs (default 8 quick, 40 full)')
    parser.add_argument('--stage2-iters', type=int, default=None, help='default 600 quick, 2000 full')
    parser.add_argument('--stage3-iters', type=int, default=None, help='default 600 quick, 2000 full')
    parser.add_argument('--reuse-stage1', action='store_true',
                        help='reuse the stage I checkpoint a previous run left in the work dir')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'bench_method_a'))
    return parser.parse_args()


def main():
    args = parse_args()
    root = osp.join(REPO, 'data', 'synthfer_quick48')
    ensure_synthfer(root, img_size=48, num_train=3000, num_test=1000, num_pool=10000)
    mae_epochs = args.mae_epochs or (8 if args.quick else 40)
    iters2 = args.stage2_iters or (600 if args.quick else 2000)
    iters3 = args.stage3_iters or (600 if args.quick else 2000)
    split = ensure_split(quick_config(SUPERVISED, root), args.ratio, args.seed,
                         osp.join(root, 'splits', f'labeled_{args.ratio:g}_seed{args.seed}.json'))

    # stage I: FaceMAE on the unlabeled pool
    cfg = quick_config(STAGE1)
    cfg.train_dataloader.dataset.data_root = osp.join(root, 'pool')
    set_schedule(cfg, mae_epochs, warmup=1)
    cfg.custom_hooks = []
    previous = osp.join(args.work_dir, 'stage1', 'final.pth')
    if args.reuse_stage1 and osp.exists(previous):
        stage1 = dict(checkpoint=previous, train_seconds=0.0)
    else:
        stage1 = train_and_eval(cfg, args.work_dir, 'stage1', save=True, validate=False)

    # stage II: FacialMixup fine-tuning from the stage I encoder
    cfg = quick_config(STAGE2, root)
    cfg.train_dataloader.dataset.split_file = split
    cfg.model.backbone.init_cfg.checkpoint = stage1['checkpoint']
    set_iter_schedule(cfg, iters2)
    stage2 = train_and_eval(cfg, args.work_dir, 'stage2', save=True)

    # stage III: EMA teacher pseudo-labels the pool, from the stage II checkpoint
    cfg = quick_config(STAGE3)
    cfg.train_dataloader.dataset.datasets[0].update(data_root=root, split_file=split)
    cfg.train_dataloader.dataset.datasets[1].data_root = osp.join(root, 'pool')
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    cfg.load_from = stage2['checkpoint']
    set_iter_schedule(cfg, iters3, warmup=1)
    stage3 = train_and_eval(cfg, args.work_dir, 'stage3', logged=('unsup_pseudo_acc', 'unsup_mask_rate'))

    # from-scratch arms, with the iterations of stages II + III together
    cfg = quick_config(SUPERVISED, root)
    cfg.train_dataloader.dataset.split_file = split
    set_iter_schedule(cfg, iters2 + iters3)
    supervised = train_and_eval(cfg, args.work_dir, 'supervised')
    cfg = quick_config(SUPERVISED, root)
    set_iter_schedule(cfg, iters2 + iters3)
    full = train_and_eval(cfg, args.work_dir, 'full_labels')

    acc = {name: round(m['accuracy/top1'] / 100, 4) for name, m in
           dict(supervised=supervised, stage1_2=stage2, stage1_2_3=stage3, full_labels=full).items()}
    gain = acc['stage1_2_3'] - acc['supervised']
    report(dict(
        benchmark='method_a', quick=args.quick, label_ratio=args.ratio, mae_epochs=mae_epochs,
        stage2_iters=iters2, stage3_iters=iters3,
        acc_supervised=acc['supervised'], acc_stage1_2=acc['stage1_2'], acc_stage1_2_3=acc['stage1_2_3'],
        acc_full_labels=acc['full_labels'], gain=round(gain, 4),
        pseudo_label_accuracy=round(stage3['unsup_pseudo_acc'], 4),
        pseudo_mask_rate=round(stage3['unsup_mask_rate'], 4),
        seconds={name: round(m['train_seconds'], 1) for name, m in
                 dict(stage1=stage1, stage2=stage2, stage3=stage3, supervised=supervised, full=full).items()},
        goal_met=bool(gain >= 0.10 and acc['supervised'] < acc['stage1_2'] < acc['stage1_2_3'])))


if __name__ == '__main__':
    main()
