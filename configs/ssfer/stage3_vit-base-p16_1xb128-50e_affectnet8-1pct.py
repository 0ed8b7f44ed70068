# Method A stage III on AffectNet-8 (with Contempt), 1 % of the labels: the AffectNet-7 config with 8 classes;
# ~285k training faces: 50 epochs of the ~282k unlabeled ones at 1 % / 64 per batch = 222500 iterations
# (the other ratios keep this length).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_affectnet7-1pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_affectnet8-1pct/epoch_100.pth'
data_root = 'data/affectnet'
split_file = data_root + '/splits/affectnet8_labeled_1pct_seed0.json'
labeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=8,
               split_file=split_file, pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=8,
                 split_file=split_file, split_part='unlabeled', pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
val_dataloader = dict(dataset=dict(num_classes=8))
test_dataloader = val_dataloader
model = dict(classifier=dict(head=dict(num_classes=8)),
             data_preprocessor=dict(data_preprocessor=dict(num_classes=8)))
data_preprocessor = dict(num_classes=8)
max_iters = 222500
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-6)]
train_cfg = dict(max_iters=max_iters)
