# Method A stage II model: ViT-B/16 on the class token, trained on real + FacialMixup images.
# Initialise from stage I with init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.').
model = dict(
    type='FacialMixupClassifier',
    facial_mixup=dict(alpha=1.0, weighting='one_minus_iou', label_smoothing=0.1),
    backbone=dict(type='mmpretrain.VisionTransformer', arch='base', img_size=224, patch_size=16,
                  drop_path_rate=0.1, out_type='cls_token', final_norm=True),
    neck=None,
    head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=768,
              init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)))
