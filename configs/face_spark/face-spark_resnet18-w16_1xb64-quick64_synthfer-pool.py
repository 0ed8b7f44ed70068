# Method A stage I at quick scale for the quarter-width ResNet-18 of method B and the supervised quick
# configs: SparK on SynthFER's 48 px pool, read at 64 px (SparK masks cells of the stride-32 feature map,
# so the side must be a multiple of 32: a 2 x 2 grid here). Plain BatchNorm (one process on a CPU).
#   python tools/data/generate_synthfer.py data/synthfer_semi48 --img-size 48 --num-train 12000 \
#       --num-test 1000 --num-pool 10000
#   python tools/train.py configs/face_spark/face-spark_resnet18-w16_1xb64-quick64_synthfer-pool.py
_base_ = ['./face-spark_resnet50_8xb64-800e_face-pool.py']
img_size = 64
sparse_bn = dict(type='mmpretrain.SparseBatchNorm2d')
model = dict(
    input_size=img_size, enc_dec_norm_cfg=sparse_bn, enc_dec_norm_dim=128,
    backbone=dict(depth=18, base_channels=16, stem_channels=16, drop_path_rate=0.0, norm_cfg=sparse_bn),
    neck=dict(feature_dim=128, norm_cfg=dict(type='BN')))
train_pipeline = [
    dict(type='LoadFaceImage', ignore_empty=True),
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0), backend='cv2'),
    dict(type='mmpretrain.RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    dataset=dict(data_root='data/synthfer_semi48/pool', ann_file='list.txt', pipeline=train_pipeline))
max_epochs = 8
warmup_epochs = 1
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.95), weight_decay=0.04),
                     paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0,
                                        custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1))
custom_hooks = [dict(type='MAEReconstructionHook', interval=max_epochs, num_images=8)]
