# Method A stage I at paper scale: 8 GPUs x 32 = 256 images per step on an unlabeled face pool.
#   bash tools/dist_train.sh configs/face_mae/face-mae_vit-base-p16_8xb32-600e_face-pool.py 8 \
#       --cfg-options train_dataloader.dataset.data_root=/data/ms1m train_dataloader.dataset.ann_file=train.rec
# Fine-tune from the result with init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')
# on an mmpretrain.VisionTransformer: the encoder's keys carry the 'backbone.' prefix.
_base_ = [
    '../_base_/models/face_mae_vit-base-p16.py', '../_base_/datasets/face_pool.py',
    '../_base_/schedules/face_mae_600e.py', '../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best=None))
custom_hooks = [dict(type='MAEReconstructionHook', interval=10, num_images=8)]
