_base_ = [
    '../_base_/models/resnet18_fer.py', '../_base_/datasets/affectnet7.py',
    '../_base_/schedules/fer_adamw.py', '../_base_/default_runtime.py'
]
