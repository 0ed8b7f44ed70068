# Method B at paper scale on AffectNet-7 with 1 % of the labels (the rest as in the RAF-DB config).
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_affectnet7.py --ratio 0.01 \
#       --out data/affectnet/splits/affectnet7_labeled_1pct_seed0.json
_base_ = ['./omni-distill_resnet18_rafdb-5pct_ms-celeb.py']
train_dataloader = dict(
    _delete_=True, batch_size=64, num_workers=8, persistent_workers=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='AffectNet', data_root='data/affectnet', ann_file='training.csv', num_classes=7,
                 split_file='data/affectnet/splits/affectnet7_labeled_1pct_seed0.json',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(type='AffectNet', data_root='data/affectnet', ann_file='validation.csv',
                                   num_classes=7, pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
