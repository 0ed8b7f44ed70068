# RAF-DB basic: data/rafdb/{EmoLabel/list_patition_label.txt, Image/aligned/}
_base_ = ['./fer_224.py']
data_root = 'data/rafdb'
split_file = None
train_dataloader = dict(dataset=dict(type='RAFDB', data_root=data_root, split='train', split_file=split_file,
                                     pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(type='RAFDB', data_root=data_root, split='test',
                                   pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
