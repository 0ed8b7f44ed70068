# Method A stage I on a ResNet-50 at paper scale: SparK on an unlabeled face pool, 8 GPUs x 64, 224 px.
#   bash tools/dist_train.sh configs/face_spark/face-spark_resnet50_8xb64-800e_face-pool.py 8 \
#       --cfg-options train_dataloader.dataset.data_root=/data/ms1m train_dataloader.dataset.ann_file=train.rec
# Fine-tune from the result with init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.') on an
# mmpretrain.ResNet of depth 50: the sparse encoder's keys are the dense ResNet's, under 'backbone.'.
# Optimiser and schedule as mmpretrain's spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k (LAMB, lr
# 2e-4 x batch / 512, 40 warm-up epochs, weight decay 0.04 -> 0.2), scaled to a batch of 512.
_base_ = [
    '../_base_/models/face_spark_resnet50.py', '../_base_/datasets/face_pool.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=64)
max_epochs = 800
warmup_epochs = 40
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='mmpretrain.Lamb', lr=2e-4, betas=(0.9, 0.95), weight_decay=0.04),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(bias_decay_mult=0.0, flat_decay_mult=0.0, custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
    dict(type='mmpretrain.CosineAnnealingWeightDecay', eta_min=0.2, T_max=max_epochs, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3, save_best=None))
custom_hooks = [dict(type='MAEReconstructionHook', interval=10, num_images=8)]
randomness = dict(seed=0, diff_rank_seed=True)
