# AffectNet-7: data/affectnet/{training.csv, validation.csv, Manually_Annotated_Images/}; the
# 3,500-image validation set is the test set, as in the literature.
_base_ = ['./fer_224.py']
data_root = 'data/affectnet'
num_classes = 7
split_file = None
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(type='AffectNet', data_root=data_root, ann_file='training.csv',
                                     num_classes=num_classes, split_file=split_file,
                                     pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(type='AffectNet', data_root=data_root, ann_file='validation.csv',
                                   num_classes=num_classes, pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
