# Method A stage II on AffectNet-8 (with Contempt; the 4,000 validation images are the test set), 1 % of the
# labels: the AffectNet-7 config with 8 classes. The split is drawn once by
#   python tools/data/make_split.py configs/supervised/resnet18_1xb64_affectnet8.py --ratio 0.01 --seed 0 \
#       --out data/affectnet/splits/affectnet8_labeled_1pct_seed0.json
_base_ = ['./stage2_vit-base-p16_1xb32-100e_affectnet7-1pct.py']
train_dataloader = dict(
    dataset=dict(num_classes=8, split_file='data/affectnet/splits/affectnet8_labeled_1pct_seed0.json'))
val_dataloader = dict(dataset=dict(num_classes=8))
test_dataloader = val_dataloader
model = dict(head=dict(num_classes=8))
data_preprocessor = dict(num_classes=8)
