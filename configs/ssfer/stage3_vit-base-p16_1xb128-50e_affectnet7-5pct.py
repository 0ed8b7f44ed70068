# Method A stage III on AffectNet-7, 5 % labels (see the 1 % config).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_affectnet7-1pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_affectnet7-5pct/epoch_100.pth'
data_root = 'data/affectnet'
split_file = data_root + '/splits/affectnet7_labeled_5pct_seed0.json'
labeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=7,
               split_file=split_file, pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='AffectNet', data_root=data_root, ann_file='training.csv', num_classes=7,
                 split_file=split_file, split_part='unlabeled', pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
