# Quick scale: ResNet-18 at quarter width on 48 px SynthFER (data/synthfer_semi48), from scratch.
# The data:
#   python tools/data/make_quick_data.py   # data/synthfer_semi48 and its 5 % split, once
_base_ = ['./resnet18_1xb64_synthfer.py']
img_size = 48
data_root = 'data/synthfer_semi48'
model = dict(backbone=dict(base_channels=16, stem_channels=16), head=dict(in_channels=128))
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
# on a 2-core CPU, loader worker processes compete with the model: load in the main process
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
