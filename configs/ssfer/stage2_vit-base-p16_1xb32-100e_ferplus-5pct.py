# Method A stage II on FERPlus (8 classes by majority vote; 48 px grey faces upsampled to 224, the box is the
# whole image), 5 % of the labels, from the stage I encoder; the RAF-DB config's settings.
# The split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_ferplus.py --ratio 0.05 --seed 0 \
#       --out data/ferplus/splits/labeled_5pct_seed0.json
#   python tools/train.py configs/ssfer/stage2_vit-base-p16_1xb32-100e_ferplus-5pct.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<stage I>/epoch_600.pth
_base_ = ['./stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py']
data_root = 'data/ferplus'
split_file = data_root + '/splits/labeled_5pct_seed0.json'
train_dataloader = dict(dataset=dict(_delete_=True, type='FERPlus', data_root=data_root, split='train',
                                     split_file=split_file, pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(_delete_=True, type='FERPlus', data_root=data_root, split='val',
                                   pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = dict(dataset=dict(_delete_=True, type='FERPlus', data_root=data_root, split='test',
                                    pipeline={{_base_.test_pipeline}}, test_mode=True))
model = dict(head=dict(num_classes=8))
data_preprocessor = dict(num_classes=8)
