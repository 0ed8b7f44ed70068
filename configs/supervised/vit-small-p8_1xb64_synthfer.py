# Supervised baseline: a small mmpretrain VisionTransformer (6 x 192, patch 8) on SynthFER, from scratch.
_base_ = [
    '../_base_/models/vit_small_fer.py', '../_base_/datasets/synthfer.py',
    '../_base_/schedules/fer_adamw.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=5e-4), clip_grad=dict(max_norm=1.0))
