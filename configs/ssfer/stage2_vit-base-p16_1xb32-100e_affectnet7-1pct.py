# Method A stage II on AffectNet-7 (no Contempt; the CSV's face rectangle is the box; the 3,500 validation
# images are the test set), 1 % of the labels, from the stage I encoder; the RAF-DB config's settings.
# The split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_affectnet7.py --ratio 0.01 --seed 0 \
#       --out data/affectnet/splits/affectnet7_labeled_1pct_seed0.json
#   python tools/train.py configs/ssfer/stage2_vit-base-p16_1xb32-100e_affectnet7-1pct.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<stage I>/epoch_600.pth
_base_ = ['./stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py']
data_root = 'data/affectnet'
split_file = data_root + '/splits/affectnet7_labeled_1pct_seed0.json'
train_dataloader = dict(dataset=dict(_delete_=True, type='AffectNet', data_root=data_root, ann_file='training.csv',
                                     num_classes=7, split_file=split_file, pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(_delete_=True, type='AffectNet', data_root=data_root, ann_file='validation.csv',
                                   num_classes=7, pipeline={{_base_.test_pipeline}},
                                   test_mode=True))
test_dataloader = val_dataloader
