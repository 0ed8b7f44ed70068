_base_ = [
    '../_base_/models/resnet18_fer.py', '../_base_/datasets/ferplus.py',
    '../_base_/schedules/fer_adamw.py', '../_base_/default_runtime.py'
]
model = dict(head=dict(num_classes=8))
