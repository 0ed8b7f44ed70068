# Method A stage III on FERPlus, 25 % labels (see the 5 % config).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_ferplus-5pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_ferplus-25pct/epoch_100.pth'
data_root = 'data/ferplus'
split_file = data_root + '/splits/labeled_25pct_seed0.json'
labeled = dict(type='FERPlus', data_root=data_root, split='train',
               split_file=split_file, pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='FERPlus', data_root=data_root, split='train',
                 split_file=split_file, split_part='unlabeled', pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
