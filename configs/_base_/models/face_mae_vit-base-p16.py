# Method A stage I: MAE on faces. mmpretrain's MAEViT + MAEPretrainDecoder; FaceMAEHead (pixel L2
# on masked patches, no norm_pix, face-region weighting off). ViT-B/16, decoder 8 x 512, 16 heads.
face_mean = [149.94, 117.05, 102.51]
face_std = [58.14, 51.51, 48.45]
model = dict(
    type='FaceMAE',
    data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=face_mean, std=face_std, to_rgb=True),
    backbone=dict(type='mmpretrain.MAEViT', arch='b', img_size=224, patch_size=16, mask_ratio=0.75),
    neck=dict(type='mmpretrain.MAEPretrainDecoder', num_patches=196, patch_size=16, in_chans=3, embed_dim=768,
              decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.),
    head=dict(type='FaceMAEHead', norm_pix=False, patch_size=16, region_weight=None,
              loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2')),
    init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])
