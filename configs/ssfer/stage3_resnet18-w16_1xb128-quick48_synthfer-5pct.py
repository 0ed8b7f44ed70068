# Method A stage III at quick scale on the quarter-width ResNet-18 of method B: the EMA teacher (from
# stage II) pseudo-labels SynthFER's pool for the student, 600 iterations of 64 labeled + 64 pool faces.
# Weak view: the supervised crops (0.7-1.0 area) + flip; strong view: + RandAugment m9; labeled branch:
# the supervised pipeline. Threshold 0.7, weight 1, lr 1e-3 (half stage II's peak of 2e-3; 2e-4 left the
# student where stage II put it: even the pool's true labels added 0.2 points there, 1.3 at 1e-3), teacher momentum 1e-3
# (a ~87 % teacher), with distribution alignment to the labeled class shares: the pool's shares are not the
# labeled split's (docs/ssfer.md has every setting measured).
#   python tools/train.py configs/ssfer/stage3_resnet18-w16_1xb128-quick48_synthfer-5pct.py
_base_ = ['./stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py']
data_root = 'data/synthfer_semi48'
split_file = data_root + '/splits/labeled_5pct_seed0.json'
load_from = 'work_dirs/stage2_resnet18-w16_1xb64-quick48_synthfer-5pct/epoch_240.pth'
classifier = dict(
    _delete_=True,
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16, out_indices=(3, )),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=128,
              loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
model = dict(classifier=classifier, threshold=0.7, unsup_weight=1.0, dist_align='labeled')
branches = ['sup', 'unsup_teacher', 'unsup_student']
weak = [
    dict(type='mmpretrain.RandomResizedCrop', scale=48, crop_ratio_range=(0.7, 1.0), backend='cv2'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
]
randaugment = dict(type='mmpretrain.RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
                   magnitude_std=0.5, hparams=dict(pad_val=[102, 117, 150]))
sup_pipeline = [
    dict(type='LoadFaceImage'), *weak, dict(randaugment, magnitude_level=7),
    dict(type='mmdet.MultiBranch', branch_field=branches, sup=dict(type='mmpretrain.PackInputs')),
]
unsup_pipeline = [
    dict(type='LoadFaceImage', ignore_empty=True),
    dict(type='mmdet.MultiBranch', branch_field=branches,
         unsup_teacher=[*weak, dict(type='mmpretrain.PackInputs')],
         unsup_student=[*weak, dict(randaugment, magnitude_level=9), dict(type='mmpretrain.PackInputs')]),
]
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='SynthFER', data_root=data_root, split='train', split_file=split_file, pipeline=sup_pipeline),
    dict(type='UnlabeledFaces', data_root=data_root + '/pool', ann_file='list.txt', hidden_truth='hidden_truth.csv',
         pipeline=unsup_pipeline),
]))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
max_iters = 600
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-6)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='SemiFERHook', momentum=1e-3)]
