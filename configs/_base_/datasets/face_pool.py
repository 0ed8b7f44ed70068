# An unlabeled face pool for MAE pre-training: an image folder (VGGFace2-style tree), a file list
# (ann_file='list.txt') or insightface RecordIO (ann_file='train.rec'). Unreadable images are
# skipped and counted.
data_root = 'data/face_pool'
img_size = 224
train_pipeline = [
    dict(type='LoadFaceImage', ignore_empty=True),
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='mmpretrain.RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='UnlabeledFaces', data_root=data_root, ann_file='', pipeline=train_pipeline))
