# Method A stage I at quick scale: a 4 x 128 ViT (patch 8) on SynthFER's 48 px pool, decoder 2 x 64.
#   python tools/data/make_quick_data.py   # data/synthfer_semi48 and its 5 % split, once
_base_ = ['./face-mae_vit-base-p16_8xb32-600e_face-pool.py']
img_size = 48
vit = dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512)
model = dict(
    backbone=dict(arch=vit, img_size=img_size, patch_size=8),
    neck=dict(num_patches=36, patch_size=8, embed_dim=128, decoder_embed_dim=64, decoder_depth=2,
              decoder_num_heads=4),
    head=dict(patch_size=8))
train_pipeline = [
    dict(type='LoadFaceImage', ignore_empty=True),
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='mmpretrain.RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=0, persistent_workers=False,
    dataset=dict(data_root='data/synthfer_semi48/pool', ann_file='list.txt', pipeline=train_pipeline))
max_epochs = 40
warmup_epochs = 4
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
custom_hooks = [dict(type='MAEReconstructionHook', interval=5, num_images=8)]
