# Method A stage II on FERPlus with 25 % of the labels (see the 5 % config); the split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_ferplus.py --ratio 0.25 --seed 0 \
#       --out data/ferplus/splits/labeled_25pct_seed0.json
_base_ = ['./stage2_vit-base-p16_1xb32-100e_ferplus-5pct.py']
train_dataloader = dict(dataset=dict(split_file='data/ferplus/splits/labeled_25pct_seed0.json'))
