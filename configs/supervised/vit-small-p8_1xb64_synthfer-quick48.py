# Quick scale, supervised from scratch: the 4 x 128 ViT (patch 8) that method A's quick configs use, on 48 px
# SynthFER (data/synthfer_semi48). The `acc_supervised` arm of benchmarks/ssfer.py.
_base_ = ['./resnet18-w16_1xb64_synthfer-quick48.py']
model = dict(
    _delete_=True,
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmpretrain.VisionTransformer',
                  arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512), img_size=48,
                  patch_size=8, drop_path_rate=0.1, out_type='cls_token',
                  init_cfg=[dict(type='TruncNormal', layer='Linear', std=.02),
                            dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]),
    neck=None,
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=128,
              loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0))
