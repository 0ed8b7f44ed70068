# Method A stage II on RAF-DB with 25 % of the labels (see the 5 % config); the split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_rafdb.py --ratio 0.25 --seed 0 \
#       --out data/rafdb/splits/labeled_25pct_seed0.json
_base_ = ['./stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py']
train_dataloader = dict(dataset=dict(split_file='data/rafdb/splits/labeled_25pct_seed0.json'))
