# Supervised baseline: mmpretrain ResNet-18 (half width for 64 px faces) on SynthFER, from scratch.
_base_ = [
    '../_base_/models/resnet18_fer.py', '../_base_/datasets/synthfer.py',
    '../_base_/schedules/fer_adamw.py', '../_base_/default_runtime.py'
]
model = dict(backbone=dict(base_channels=32, stem_channels=32), head=dict(in_channels=256))
