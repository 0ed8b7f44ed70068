# Method A stage II at quick scale: the stage I quick encoder (4 x 128 ViT, patch 8, 48 px) fine-tuned on
# 5 % of SynthFER's labels with FacialMixup (SynthFER's ground-truth face boxes).
#   python tools/data/make_quick_data.py   # data/synthfer_semi48 and its 5 % split, once
_base_ = ['../supervised/resnet18-w16_1xb64_synthfer-quick48.py']
mae_checkpoint = 'work_dirs/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool/epoch_40.pth'
model = dict(
    _delete_=True,
    type='FacialMixupClassifier',
    facial_mixup=dict(alpha=1.0, weighting='one_minus_iou', label_smoothing=0.1),
    backbone=dict(type='mmpretrain.VisionTransformer',
                  arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512), img_size=48,
                  patch_size=8, drop_path_rate=0.1, out_type='cls_token',
                  init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint, prefix='backbone.')),
    neck=None,
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=128))
train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs', algorithm_keys=('gt_bboxes', )),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline, split_file='data/synthfer_semi48/splits/labeled_5pct_seed0.json'))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, layer_decay_rate=0.75, custom_keys={
        '.ln': dict(decay_mult=0.0), '.bias': dict(decay_mult=0.0), '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0)}))
# ~600 iterations on the 149 labeled faces
max_epochs = 200
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=10, end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=50)
# EMA decay 0.999 as in the paper, reached through mmdet's exponential warm-up: over a few hundred
# iterations a plain 0.999 EMA would still hold half of the initial (MAE) weights and a random head
custom_hooks = [dict(type='EMAHook', ema_type='mmdet.ExpMomentumEMA', momentum=1e-3, gamma=100,
                     update_buffers=True)]
