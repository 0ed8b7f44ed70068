# Method A stage II at 1 % of SynthFER's 12k labels (121 faces, split seed 0): the 5 % recipe for the same 2400
# iterations (its 240 epochs over 121 faces would be 480), from the 24-epoch SparK encoder (with 121 labels the
# 8-epoch one leaves stage II under the supervised row). Results: configs/ssfer/README.md.
#   python tools/data/make_quick_data.py --ratio 0.01
#   python tools/train.py configs/face_spark/face-spark_resnet18-w16_1xb64-24e-quick64_synthfer-pool.py
#   python tools/train.py configs/ssfer/stage2_resnet18-w16_1xb64-quick48_synthfer-1pct.py
_base_ = ['./stage2_resnet18-w16_1xb64-quick48_synthfer-5pct.py']
spark_checkpoint = 'work_dirs/face-spark_resnet18-w16_1xb64-24e-quick64_synthfer-pool/epoch_24.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=spark_checkpoint)))
split_file = _base_.data_root + '/splits/labeled_1pct_seed0.json'
max_iters = 2400
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True), dataset=dict(split_file=split_file))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-6),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
