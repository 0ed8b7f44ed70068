# Method A stage III on AffectNet-7 (no Contempt; the CSV's face rectangle is the box; the 3,500 validation
# images are the test set), 1 % of the labels: EMA-teacher pseudo-labelling from the stage II checkpoint
# with the RAF-DB config's settings; ~280k training faces: 50 epochs of the ~277k unlabeled ones at 1 % / 64 per batch
# = 216700 iterations (the other ratios keep this length).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_rafdb-5pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_affectnet7-1pct/epoch_100.pth'
data_root = 'data/affectnet'
split_file = data_root + '/splits/affectnet7_labeled_1pct_seed0.json'
labeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=7,
               split_file=split_file, pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=7,
                 split_file=split_file, split_part='unlabeled', pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
val_dataloader = dict(dataset=dict(_delete_=True, type='AffectNet', data_root=data_root, ann_file='validation.csv',
                                   num_classes=7, pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
max_iters = 216700
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-6)]
train_cfg = dict(max_iters=max_iters)
