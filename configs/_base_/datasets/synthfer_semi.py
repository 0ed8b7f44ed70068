# Stage III data on SynthFER quick (48 px): labeled split + unlabeled pool, 1:1 per batch.
# Weak view (teacher): RandomResizedCrop 0.8-1 + flip; strong view (student): + RandAugment m9, mstd 0.5.
# Method A crops 0.2-1 of a 224 px face; on these 48 px faces such crops cut away the expression, and the
# quick stage III lost more (0.419 vs 0.438 top-1, benchmarks/ssfer.py --quick, 8 MAE epochs).
_base_ = ['./synthfer.py']
data_root = 'data/synthfer_semi48'
img_size = 48
split_file = data_root + '/splits/labeled_5pct_seed0.json'
branches = ['sup', 'unsup_teacher', 'unsup_student']
weak = [
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.8, 1.0), backend='cv2'),
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
    dict(type='LoadFaceImage', ignore_empty=True),
    dict(type='mmdet.MultiBranch', branch_field=branches,
         unsup_teacher=[*weak, dict(type='mmpretrain.PackInputs')],
         unsup_student=[*strong, dict(type='mmpretrain.PackInputs')]),
]
labeled = dict(type='SynthFER', data_root=data_root, split='train', split_file=split_file, pipeline=sup_pipeline)
unlabeled = dict(type='UnlabeledFaces', data_root=data_root + '/pool', ann_file='list.txt',
                 hidden_truth='hidden_truth.csv', pipeline=unsup_pipeline)
train_dataloader = dict(
    _delete_=True, batch_size=128, num_workers=0, persistent_workers=False,
    sampler=dict(type='mmdet.MultiSourceSampler', batch_size=128, source_ratio=[1, 1]),
    dataset=dict(type='ConcatDataset', datasets=[labeled, unlabeled], ignore_keys=['classes']))
test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.Resize', scale=(img_size, img_size), backend='cv2'),
    dict(type='mmpretrain.PackInputs'),
]
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
