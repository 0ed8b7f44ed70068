# Method A's stage-II classifier without pre-training or Mixup: ViT-B/16 on the class token,
# AdamW 1.5e-4, wd 0.05, 5 warm-up epochs then cosine, label smoothing 0.1, 100 epochs.
_base_ = ['../_base_/datasets/rafdb.py', '../_base_/schedules/fer_adamw.py', '../_base_/default_runtime.py']
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmpretrain.VisionTransformer', arch='base', img_size=224, patch_size=16,
                  drop_path_rate=0.1, out_type='cls_token'),
    neck=None,
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=768,
              loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
train_dataloader = dict(batch_size=32)
max_epochs = 100
optim_wrapper = dict(optimizer=dict(lr=1.5e-4, weight_decay=0.05, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=max_epochs, eta_min=1e-6),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=32)
