# Pipelines for real FER photographs at 224 px (paper scale); dataset bases fill in the data.
_base_ = ['./fer_common.py']
img_size = 224
data_preprocessor = dict(num_classes=7, mean={{_base_.face_mean}}, std={{_base_.face_std}}, to_rgb=True)
train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0), backend='cv2',
         interpolation='bicubic'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='mmpretrain.Resize', scale=(img_size, img_size), backend='cv2', interpolation='bicubic'),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(batch_size=64, num_workers=8, persistent_workers=True, pin_memory=True,
                        sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=128, num_workers=8, persistent_workers=True, pin_memory=True,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
