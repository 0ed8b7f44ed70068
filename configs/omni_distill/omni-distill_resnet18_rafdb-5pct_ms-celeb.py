# Method B at paper scale: a ResNet-18 primitive model trained on 5 % of RAF-DB's labels mines an
# MS-Celeb-1M-style insightface RecordIO pool (data/ms1m/train.rec + train.idx, ~5.8 M faces), distribution
# matching distils the mined faces into 50 images per class, a fresh ResNet-18 trains on labeled + distilled.
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_rafdb.py --ratio 0.05 \
#       --out data/rafdb/splits/labeled_5pct_seed0.json
#   bash tools/dist_train.sh configs/omni_distill/omni-distill_resnet18_rafdb-5pct_ms-celeb.py 8
# The mining shards the pool over the ranks and streams; `--resume` continues any stage after a kill.
# Thresholds, caps, IPC and schedules are mmfer's choices (the paper gives none); see docs/omni_distill.md.
_base_ = ['../supervised/resnet18_1xb64_rafdb.py']
split_file = 'data/rafdb/splits/labeled_5pct_seed0.json'
train_dataloader = dict(dataset=dict(split_file=split_file))
primitive_epochs = 100
final_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=primitive_epochs, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(
    _delete_=True,
    type='OmniDistillLoop',
    primitive=dict(max_epochs=primitive_epochs, val_interval=10),
    pool=dict(type='UnlabeledFaces', data_root='data/ms1m', ann_file='train.rec'),
    mining=dict(threshold=0.95, min_similarity=0.5, require_agreement=True, max_per_class=20000,
                class_balance=5.0, batch_size=512, num_workers=8, flush_every=50),
    # distillation at the classifier's 224 px input: a 5-block ConvNet (224 -> 7)
    distiller=dict(type='DistributionMatching', ipc=50, iterations=20000, batch_real=128, width=128, depth=5,
                   save_interval=500),
    final=dict(
        max_epochs=final_epochs, val_interval=10, distilled_repeat=10, use_mined=False,
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
            dict(type='CosineAnnealingLR', by_epoch=True, begin=5, end=final_epochs, eta_min=1e-6,
                 convert_to_iter_based=True),
        ]))
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
