_base_ = ['./fer_common.py']
# SynthFER, written by `python tools/data/generate_synthfer.py data/synthfer`.
dataset_type = 'SynthFER'
data_root = 'data/synthfer'
img_size = 64
# a split drawn once by tools/data/make_split.py; None trains on every label
split_file = None

data_preprocessor = dict(num_classes=7, mean={{_base_.face_mean}}, std={{_base_.face_std}}, to_rgb=True)

train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.7, 1.0), backend='cv2'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.Resize', scale=(img_size, img_size), backend='cv2'),
    dict(type='mmpretrain.PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', split_file=split_file,
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline, test_mode=True),
)
test_dataloader = val_dataloader
