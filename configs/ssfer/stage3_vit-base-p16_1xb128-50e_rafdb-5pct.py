# Method A stage III on RAF-DB, 5 % labels: EMA-teacher pseudo-labelling from the stage II checkpoint.
# 50 epochs of the unlabeled part (~11,650 images / 64 per batch ~ 182 iterations) ~ 9,100 iterations;
# threshold 0.7, unlabeled weight 5, EMA decay 0.999, hard labels, no burn-in; evaluated with the teacher
# on the RAF-DB test set (the public code evaluates on folds of the labeled subset).
_base_ = [
    '../_base_/models/vit-base-p16_facial-mixup.py', '../_base_/datasets/rafdb_semi.py',
    '../_base_/default_runtime.py'
]
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_rafdb-5pct/epoch_100.pth'
classifier = dict(
    type='mmpretrain.ImageClassifier', backbone={{_base_.model.backbone}}, neck=None,
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=768,
              loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
model = dict(
    _delete_=True, type='SemiFERClassifier', classifier=classifier, threshold=0.7, unsup_weight=5.0,
    predict_on='teacher',
    data_preprocessor=dict(type='mmdet.MultiBranchDataPreprocessor',
                           data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=7,
                                                  mean={{_base_.face_mean}}, std={{_base_.face_std}}, to_rgb=True)))
max_iters = 9100
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.999), weight_decay=0.05))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-6)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=500), logger=dict(interval=50))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='SemiFERHook', momentum=1e-3)]
