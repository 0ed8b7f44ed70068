# FERPlus: data/ferplus/{fer2013new.csv, fer2013.csv}; 48x48 grey faces upsampled to 224.
_base_ = ['./fer_224.py']
data_root = 'data/ferplus'
split_file = None
data_preprocessor = dict(num_classes=8)
train_dataloader = dict(dataset=dict(type='FERPlus', data_root=data_root, split='train', split_file=split_file,
                                     pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(type='FERPlus', data_root=data_root, split='val',
                                   pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = dict(dataset=dict(type='FERPlus', data_root=data_root, split='test',
                                    pipeline={{_base_.test_pipeline}}, test_mode=True))
