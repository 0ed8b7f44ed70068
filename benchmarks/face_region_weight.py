"""FaceMAEHead's face-region weighting (beyond method A's paper) on vs off.

    python benchmarks/face_region_weight.py --quick

Pre-trains the quick FaceMAE twice on SynthFER's pool — the paper's loss (``region_weight=None``) and
the region-weighted loss (default ``dict(mode='bands', inside=2.0, outside=1.0)``: masked patches in
the eye/brow and mouth bands of the face box weigh twice) — with the same seed and budget, then
fine-tunes each encoder with the quick stage II config on 5 % of the 12k labels, same iterations.
Pool images carry no box, so the head uses method A's default box ([25, 25, 220, 220] / 224), which
covers SynthFER's centred faces. Reports both test accuracies and ``gain`` (weighted - plain).
The last line printed is one JSON object.
"""
import argparse
import os.path as osp

from common import REPO, quick_config, report, reuse_or_train, set_iter_schedule, set_schedule

from mmfer.utils.quick import QUICK_DATA_ROOT, ensure_quick_data

STAGE1 = 'configs/face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py'
STAGE2 = 'configs/ssfer/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='8 MAE epochs, 600 fine-tuning iterations')
    parser.add_argument('--mode', default='bands', choices=['box', 'bands'])
    parser.add_argument('--inside', type=float, default=2.0)
    parser.add_argument('--mae-epochs', type=int, default=None)
    parser.add_argument('--iters', type=int, default=None)
    parser.add_argument('--reuse', action='store_true', help='reuse checkpoints left by a previous run')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'bench_face_region_weight'))
    return parser.parse_args()


def main():
    args = parse_args()
    root = osp.join(REPO, QUICK_DATA_ROOT)  # as ssfer.py: 5 % of 12k labels is learnable
    split = ensure_quick_data(root)
    epochs = args.mae_epochs or (8 if args.quick else 40)
    iters = args.iters or (600 if args.quick else 2000)
    acc = {}
    for name, weight in (('plain', None), ('weighted', dict(mode=args.mode, inside=args.inside, outside=1.0))):
        cfg = quick_config(STAGE1)
        cfg.train_dataloader.dataset.data_root = osp.join(root, 'pool')
        cfg.model.head.region_weight = weight
        cfg.custom_hooks = []
        set_schedule(cfg, epochs, warmup=1)
        stage1 = reuse_or_train(args.reuse, cfg, args.work_dir, f'{name}_stage1', validate=False)
        cfg = quick_config(STAGE2, root)
        cfg.train_dataloader.dataset.split_file = split
        cfg.model.backbone.init_cfg.checkpoint = stage1['checkpoint']
        set_iter_schedule(cfg, iters)
        acc[name] = reuse_or_train(args.reuse, cfg, args.work_dir, f'{name}_stage2')['accuracy/top1'] / 100
    report(dict(benchmark='face_region_weight', quick=args.quick, mode=args.mode, inside=args.inside,
                mae_epochs=epochs, stage2_iters=iters, acc_plain=round(acc['plain'], 4),
                acc_weighted=round(acc['weighted'], 4), gain=round(acc['weighted'] - acc['plain'], 4)))


if __name__ == '__main__':
    main()
