# Stage III data on RAF-DB: the labeled split (64 per batch) and the rest of the training set as
# unlabeled data (64 per batch; its labels are only used to log pseudo-label accuracy).
# Weak view: RandomResizedCrop 0.2-1 + flip; strong view: + RandAugment m9, mstd 0.5.
_base_ = ['./rafdb.py']
split_file = 'data/rafdb/splits/labeled_5pct_seed0.json'
branches = ['sup', 'unsup_teacher', 'unsup_student']
weak = [
    dict(type='mmpretrain.RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
]
strong = weak + [
    dict(type='mmpretrain.RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5, hparams=dict(pad_val=[102, 117, 150])),
]
sup_pipeline = [
    dict(type='LoadFaceImage'), *weak,
    dict(type='mmdet.MultiBranch', branch_field=branches, sup=dict(type='mmpretrain.PackInputs')),
]
unsup_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmdet.MultiBranch', branch_field=branches,
         unsup_teacher=[*weak, dict(type='mmpretrain.PackInputs')],
         unsup_student=[*strong, dict(type='mmpretrain.PackInputs')]),
]
labeled = dict(type='RAFDB', data_root='data/rafdb', split='train', split_file=split_file, pipeline=sup_pipeline)
unlabeled = dict(type='RAFDB', data_root='data/rafdb', split='train', split_file=split_file,
                 split_part='unlabeled', pipeline=unsup_pipeline)
train_dataloader = dict(
    _delete_=True, batch_size=128, num_workers=8, persistent_workers=True, pin_memory=True,
    sampler=dict(type='mmdet.MultiSourceSampler', batch_size=128, source_ratio=[1, 1]),
    dataset=dict(type='ConcatDataset', datasets=[labeled, unlabeled]))
