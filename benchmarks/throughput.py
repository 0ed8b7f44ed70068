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

QUICK_VIT = dict(arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512), img_size=48,
                 patch_size=8, decoder=dict(decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4))
PAPER_VIT = dict(arch='b', img_size=224, patch_size=16,  # ViT-B/16 at 224 px, method A's decoder 8 x 512
                 decoder=dict(decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16))


def classifier(vit: dict) -> dict:
    dims = 768 if vit['arch'] == 'b' else vit['arch']['embed_dims']
    return dict(type='mmpretrain.ImageClassifier',
                backbone=dict(type='mmpretrain.VisionTransformer', arch=vit['arch'], img_size=vit['img_size'],
                              patch_size=vit['patch_size'], out_type='cls_token'),
                neck=None, head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=dims))


def mae(kind, vit: dict, region_weight=None):
    dims = 768 if vit['arch'] == 'b' else vit['arch']['embed_dims']
    head = dict(type='FaceMAEHead', region_weight=region_weight) if kind == 'FaceMAE' else \
        dict(type='mmpretrain.MAEPretrainHead')
    head.update(patch_size=vit['patch_size'], loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))
    return dict(type=kind if kind == 'FaceMAE' else 'mmpretrain.MAE',
                backbone=dict(type='mmpretrain.MAEViT', arch=vit['arch'], img_size=vit['img_size'],
                              patch_size=vit['patch_size'], mask_ratio=0.75),
                neck=dict(type='mmpretrain.MAEPretrainDecoder', num_patches=(vit['img_size'] // vit['patch_size'])**2,
                          patch_size=vit['patch_size'], embed_dim=dims, **vit['decoder']),
                head=head)


def step_fn(model, loss_fn, amp_dtype=None):
    """One training step (forward, backward, AdamW); under ``torch.autocast`` when ``amp_dtype`` is given."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    device = next(model.parameters()).device.type

    def step():
        with torch.autocast(device, dtype=amp_dtype, enabled=amp_dtype is not None):
            losses = loss_fn()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def build_arms(n: int, vit: dict = QUICK_VIT, device: str = 'cpu', amp_dtype=None) -> dict:
    """The five arms on one batch of ``n`` random images: supervised, stage II, stage III, stock MAE, FaceMAE."""
    size = vit['img_size']
    x = torch.randn(n, 3, size, size, device=device)
    box = np.array([[0.125, 0.083, 0.875, 0.958]], np.float32) * size  # a face box inside the image
    samples = []
    for y in torch.randint(0, 7, (n, )).tolist():
        samples.append(DataSample().set_gt_label(y))
        samples[-1].set_field(box, 'gt_bboxes')
    cls = classifier(vit)
    with DefaultScope.overwrite_default_scope('mmfer'):
        models = dict(
            supervised=MODELS.build(cls),
            stage2=MODELS.build(dict(cls, type='FacialMixupClassifier', facial_mixup=dict(label_smoothing=0.1))),
            stage3=MODELS.build(dict(type='SemiFERClassifier', classifier=cls, threshold=0.0)),
            mae_stock=MODELS.build(mae('MAE', vit)), mae_face=MODELS.build(mae('FaceMAE', vit, dict(mode='box'))))
    models = {k: m.to(device) for k, m in models.items()}
    weak, strong = torch.randn_like(x), torch.randn_like(x)
    semi = (dict(sup=x, unsup_teacher=weak, unsup_student=strong),
            dict(sup=samples, unsup_teacher=samples, unsup_student=samples))
    return {name: step_fn(m, (lambda m=m: m.loss(*semi)) if name == 'stage3' else (lambda m=m: m.loss(x, samples)),
                          amp_dtype) for name, m in models.items()}


def time_arms(arms, rounds, seed=0):
    """Median seconds per step of each arm: one step per arm per round, in a shuffled order."""
    rng = random.Random(seed)
    times = {name: [] for name in arms}
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for fn in arms.values():  # warm-up
        fn()
        fn()
    names = list(arms)
    for _ in range(rounds):
        rng.shuffle(names)
        for name in names:
            sync()
            start = time.perf_counter()
            arms[name]()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def ratios(t: dict, n: int) -> dict:
    """Images/s of each arm and the three ratios against their baselines (see the module docstring)."""
    sup, stage2, stage3 = n / t['supervised'], 2 * n / t['stage2'], 2 * n / t['stage3']
    return dict(supervised_img_s=round(sup, 1), stage2_img_s=round(stage2, 1), stage3_student_img_s=round(stage3, 1),
                mae_stock_it_s=round(1 / t['mae_stock'], 3), mae_face_it_s=round(1 / t['mae_face'], 3),
                mae_ratio=round(t['mae_stock'] / t['mae_face'], 3), stage2_ratio=round(stage2 / sup, 3),
                stage3_ratio=round(stage3 / sup, 3))


GOALS = dict(mae_ratio=0.97, stage2_ratio=0.95, stage3_ratio=0.80)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='fewer steps and rounds (about a minute or two)')
    parser.add_argument('--batch', type=int, default=64)
    args = parser.parse_args()
    rounds = 30 if args.quick else 100
    torch.manual_seed(0)
    np.random.seed(0)
    n = args.batch
    measured = ratios(time_arms(build_arms(n), rounds), n)

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

    report(dict(benchmark='throughput', quick=args.quick, batch=n, rounds=rounds, **measured,
                pipeline_two_views_img_s=round(pipe_img_s, 1),
                goals_met={k.split('_')[0]: measured[k] >= v for k, v in GOALS.items()}))


if __name__ == '__main__':
    main()
