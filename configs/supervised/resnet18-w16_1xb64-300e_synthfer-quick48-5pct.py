# The main table's supervised row: the quarter-width ResNet-18 of the quick configs on 5 % of SynthFER's 12k
# labels (600 faces), 0.7-1.0 area crops + flip + RandAugment, 300 epochs (~3000 iterations) at lr 2e-3.
# The same run is method B's primitive model (omni_distill quick config) and the control of method A's stages
# II + III (benchmarks/ssfer.py's `supervised` arm, the labeled budget of both stages). 87.9 % top-1 at lr 2e-3
# (84.9 % at 1e-3; 66.4 % at 60 epochs without RandAugment, 80.6 % at 150 epochs).
#   python tools/data/make_quick_data.py
#   python tools/train.py configs/supervised/resnet18-w16_1xb64-300e_synthfer-quick48-5pct.py
_base_ = ['./resnet18-w16_1xb64_synthfer-quick48.py']
split_file = _base_.data_root + '/splits/labeled_5pct_seed0.json'
train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.RandomResizedCrop', scale=48, crop_ratio_range=(0.7, 1.0), backend='cv2'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=7, magnitude_std=0.5, hparams=dict(pad_val=[102, 117, 150])),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(dataset=dict(split_file=split_file, pipeline=train_pipeline))
max_epochs = 300
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
