# Method A stage II on RAF-DB with 5 % of the labels, from the stage I encoder:
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_rafdb.py --ratio 0.05 --seed 0 \
#       --out data/rafdb/splits/labeled_5pct_seed0.json
#   python tools/train.py configs/ssfer/stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py \
#       --cfg-options \
#       model.backbone.init_cfg.checkpoint=work_dirs/face-mae_vit-base-p16_8xb32-600e_face-pool/epoch_600.pth
# AdamW 1.5e-4, wd 0.05, layer-wise lr decay 0.65, 5 warm-up epochs then cosine, label smoothing 0.1, EMA 0.999.
_base_ = [
    '../_base_/models/vit-base-p16_facial-mixup.py', '../_base_/datasets/rafdb_facial_mixup.py',
    '../_base_/default_runtime.py'
]
split_file = 'data/rafdb/splits/labeled_5pct_seed0.json'
mae_checkpoint = 'work_dirs/face-mae_vit-base-p16_8xb32-600e_face-pool/epoch_600.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint, prefix='backbone.')))
train_dataloader = dict(dataset=dict(split_file=split_file))
max_epochs = 100
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, custom_keys={
        '.ln': dict(decay_mult=0.0), '.bias': dict(decay_mult=0.0), '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
custom_hooks = [dict(type='EMAHook', momentum=1e-3, update_buffers=True)]  # EMA decay 0.999
auto_scale_lr = dict(base_batch_size=32)
