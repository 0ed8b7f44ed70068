# Method A stage II on AffectNet-7 with 10 % of the labels (see the 1 % config); the split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_affectnet7.py --ratio 0.1 --seed 0 \
#       --out data/affectnet/splits/affectnet7_labeled_10pct_seed0.json
_base_ = ['./stage2_vit-base-p16_1xb32-100e_affectnet7-1pct.py']
train_dataloader = dict(dataset=dict(split_file='data/affectnet/splits/affectnet7_labeled_10pct_seed0.json'))
