# A small mmpretrain VisionTransformer for 64 px faces (patch 8 -> 8x8 tokens), class-token head.
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch=dict(embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768),
        img_size=64,
        patch_size=8,
        drop_path_rate=0.1,
        out_type='cls_token',
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=.02),
                  dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]),
    neck=None,
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=7,
        in_channels=192,
        loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original', loss_weight=1.0),
        topk=(1, ),
    ))
