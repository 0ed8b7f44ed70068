# Method A stage III on RAF-DB, 10 % labels (see the 5 % config).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_rafdb-5pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_rafdb-10pct/epoch_100.pth'
split_file = 'data/rafdb/splits/labeled_10pct_seed0.json'
labeled = dict(type='RAFDB', data_root='data/rafdb', split='train', split_file=split_file,
               pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='RAFDB', data_root='data/rafdb', split='train', split_file=split_file, split_part='unlabeled',
                 pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
