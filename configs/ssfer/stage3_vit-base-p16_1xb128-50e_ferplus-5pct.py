# Method A stage III on FERPlus (8 classes by majority vote; 48 px grey faces upsampled to 224, the box is the
# whole image), 5 % of the labels: EMA-teacher pseudo-labelling from the stage II checkpoint
# with the RAF-DB config's settings; ~28.4k training faces: 50 epochs of the ~27k unlabeled ones at 5 % / 64 per batch
# = 21100 iterations (the other ratios keep this length).
_base_ = ['./stage3_vit-base-p16_1xb128-50e_rafdb-5pct.py']
load_from = 'work_dirs/stage2_vit-base-p16_1xb32-100e_ferplus-5pct/epoch_100.pth'
data_root = 'data/ferplus'
split_file = data_root + '/splits/labeled_5pct_seed0.json'
labeled = dict(type='FERPlus', data_root=data_root, split='train',
               split_file=split_file, pipeline={{_base_.sup_pipeline}})
unlabeled = dict(type='FERPlus', data_root=data_root, split='train',
                 split_file=split_file, split_part='unlabeled', pipeline={{_base_.unsup_pipeline}})
train_dataloader = dict(dataset=dict(datasets=[labeled, unlabeled]))
val_dataloader = dict(dataset=dict(_delete_=True, type='FERPlus', data_root=data_root, split='val',
                                   pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = dict(dataset=dict(_delete_=True, type='FERPlus', data_root=data_root, split='test',
                                    pipeline={{_base_.test_pipeline}}, test_mode=True))
model = dict(classifier=dict(head=dict(num_classes=8)),
             data_preprocessor=dict(data_preprocessor=dict(num_classes=8)))
data_preprocessor = dict(num_classes=8)
max_iters = 21100
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-6)]
train_cfg = dict(max_iters=max_iters)
