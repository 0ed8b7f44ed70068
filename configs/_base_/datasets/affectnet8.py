# AffectNet-8 (with Contempt; 4,000 validation images).
_base_ = ['./affectnet7.py']
num_classes = 8
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(num_classes=num_classes))
val_dataloader = dict(dataset=dict(num_classes=num_classes))
test_dataloader = val_dataloader
