# RAF-DB for stage II: box-aware geometry only (mmcv Resize / RandomFlip update gt_bboxes), and the
# face box packed for FacialMixup. RAF-DB has no box annotation: DetectFaceBox finds one on the loaded
# image (OpenCV's bundled cascade; method A ran a face detector too) and, where it finds no face,
# leaves none, so FacialMixup's default box applies. Datasets with annotated boxes keep theirs.
_base_ = ['./rafdb.py']
train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='DetectFaceBox', detector=dict(type='CascadeFaceDetector')),
    dict(type='mmcv.Resize', scale=({{_base_.img_size}}, {{_base_.img_size}})),
    dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs', algorithm_keys=('gt_bboxes', )),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
