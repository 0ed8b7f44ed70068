"""Method A's training steps against their baselines, on pre-loaded batches, in one run.

    python benchmarks/throughput.py --quick

Same backbone (a 4 x 128 ViT, patch 8, 48 px) and batch for every arm; each arm is a full
step (forward, backward, optimizer). Each round times one step of every arm in a shuffled
order and the median step is kept, so machine noise hits baseline and method alike. Reported:

- ``mae_ratio``: FaceMAE (face-region weighting on) it/s / mmpretrain MAE it/s (goal >= 0.97);
- ``stage2_ratio``: images through forward/backward per second in stage II (real + mixed)
  / supervised (goal >= 0.95);
- ``stage3_ratio``: student-trained images/s in stage III / supervised images/s (ideal about
  6/7: the teacher's forward is the only extra work; goal >= 0.80);
- ``pipeline_two_views_img_s``: the stage III unlabeled pipeline (load + weak + strong view).

The last line printed is one JSON object.
"""
import argparse
import random
import statistics
import time

import numpy as np
import torch
from common import REPO, ensure_synthfer, report
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmfer.registry import DATASETS, MODELS

VIT = dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
CLS = dict(type='mmpretrain.ImageClassifier',
           backbone=dict(type='mmpretrain.VisionTransformer', arch=VIT, img_size=48, patch_size=8,
                         out_type='cls_token'),
           neck=None, head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=128))


def mae(kind, region_weight=None):
    head = dict(type='FaceMAEHead', region_weight=region_weight) if kind == 'FaceMAE' else \
        dict(type='mmpretrain.MAEPretrainHead')
    head.update(patch_size=8, loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))
    return dict(type=kind if kind == 'FaceMAE' else 'mmpretrain.MAE',
                backbone=dict(type='mmpretrain.MAEViT', arch=VIT, img_size=48, patch_size=8, mask_ratio=0.75),
                neck=dict(type='mmpretrain.MAEPretrainDecoder', num_patches=36, patch_size=8, embed_dim=128,
                          decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4),
                head=head)


def step_fn(model, loss_fn):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step():
        losses = loss_fn()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def time_arms(arms, rounds, seed=0):
    """Median seconds per step of each arm: one step per arm per round, in a shuffled order."""
    rng = random.Random(seed)
    times = {name: [] for name in arms}
    for fn in arms.values():  # warm-up
        fn()
        fn()
    names = list(arms)
    for _ in range(rounds):
        rng.shuffle(names)
        for name in names:
            start = time.perf_counter()
            arms[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='fewer steps and rounds (about a minute or two)')
    parser.add_argument('--batch', type=int, default=64)
    args = parser.parse_args()
    rounds = 30 if args.quick else 100
    torch.manual_seed(0)
    np.random.seed(0)
    n = args.batch
    x = torch.randn(n, 3, 48, 48)
    labels = torch.randint(0, 7, (n, ))
    samples = []
    for y in labels.tolist():
        s = DataSample().set_gt_label(y)
        s.set_field(np.array([[6., 4., 42., 46.]], np.float32), 'gt_bboxes')
        samples.append(s)

    with DefaultScope.overwrite_default_scope('mmfer'):
        sup = MODELS.build(CLS)
        stage2 = MODELS.build(dict(CLS, type='FacialMixupClassifier', facial_mixup=dict(label_smoothing=0.1)))
        stage3 = MODELS.build(dict(type='SemiFERClassifier', classifier=CLS, threshold=0.0))
        face_mae = MODELS.build(mae('FaceMAE', dict(mode='box')))
        stock_mae = MODELS.build(mae('MAE'))
    weak, strong = torch.randn(n, 3, 48, 48), torch.randn(n, 3, 48, 48)
    arms = {
        'supervised': step_fn(sup, lambda: sup.loss(x, samples)),
        'stage2': step_fn(stage2, lambda: stage2.loss(x, samples)),
        'stage3': step_fn(stage3, lambda: stage3.loss(dict(sup=x, unsup_teacher=weak, unsup_student=strong),
                                                      dict(sup=samples, unsup_teacher=samples,
                                                           unsup_student=samples))),
        'mae_stock': step_fn(stock_mae, lambda: stock_mae.loss(x, samples)),
        'mae_face': step_fn(face_mae, lambda: face_mae.loss(x, samples)),
    }
    t = time_arms(arms, rounds)
    sup_img_s = n / t['supervised']
    stage2_img_s = 2 * n / t['stage2']  # real + mixed images through forward/backward
    stage3_img_s = 2 * n / t['stage3']  # labeled + strong views trained; the teacher only infers

    # the stage III unlabeled pipeline: load, then a weak and a strong view
    root = f'{REPO}/data/synthfer_bench_pipeline'
    ensure_synthfer(root, img_size=48, num_train=10, num_test=10, num_pool=400)
    weak_t = [dict(type='mmpretrain.RandomResizedCrop', scale=48, crop_ratio_range=(0.2, 1.0), backend='cv2'),
              dict(type='mmpretrain.RandomFlip', prob=0.5)]
    strong_t = weak_t + [dict(type='mmpretrain.RandAugment', policies='timm_increasing', num_policies=2,
                              total_level=10, magnitude_level=9, magnitude_std=0.5)]
    with DefaultScope.overwrite_default_scope('mmfer'):
        pool = DATASETS.build(dict(
            type='UnlabeledFaces', data_root=root + '/pool', ann_file='list.txt', pipeline=[
                dict(type='LoadFaceImage', ignore_empty=True),
                dict(type='mmdet.MultiBranch', branch_field=['unsup_teacher', 'unsup_student'],
                     unsup_teacher=[*weak_t, dict(type='mmpretrain.PackInputs')],
                     unsup_student=[*strong_t, dict(type='mmpretrain.PackInputs')])]))
    start = time.perf_counter()
    count = 0
    for i in range(len(pool)):
        count += pool[i] is not None
    pipe_img_s = count / (time.perf_counter() - start)

    report(dict(
        benchmark='throughput', quick=args.quick, batch=n, rounds=rounds,
        supervised_img_s=round(sup_img_s, 1), stage2_img_s=round(stage2_img_s, 1),
        stage3_student_img_s=round(stage3_img_s, 1),
        mae_stock_it_s=round(1 / t['mae_stock'], 3), mae_face_it_s=round(1 / t['mae_face'], 3),
        mae_ratio=round(t['mae_stock'] / t['mae_face'], 3), stage2_ratio=round(stage2_img_s / sup_img_s, 3),
        stage3_ratio=round(stage3_img_s / sup_img_s, 3), pipeline_two_views_img_s=round(pipe_img_s, 1),
        goals_met=dict(mae=t['mae_stock'] / t['mae_face'] >= 0.97, stage2=stage2_img_s / sup_img_s >= 0.95,
                       stage3=stage3_img_s / sup_img_s >= 0.80)))


if __name__ == '__main__':
    main()
