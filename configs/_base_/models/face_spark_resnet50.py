# Method A stage I for convolutional backbones: mmpretrain's SparK (sparse masked modelling) on faces.
# SparseResNet-50 encoder, SparKLightDecoder, FaceSparKHead (pixel L2 on masked cells, no norm_pix,
# face-region weighting off), method A's face normalisation. Mask ratio 0.6 on the 7 x 7 grid of 224 px.
face_mean = [149.94, 117.05, 102.51]
face_std = [58.14, 51.51, 48.45]
model = dict(
    type='FaceSparK',
    input_size=224,
    downsample_raito=32,
    mask_ratio=0.6,
    enc_dec_norm_cfg=dict(type='mmpretrain.SparseSyncBatchNorm2d'),
    enc_dec_norm_dim=2048,
    data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=face_mean, std=face_std, to_rgb=True),
    backbone=dict(type='mmpretrain.SparseResNet', depth=50, out_indices=(0, 1, 2, 3), drop_path_rate=0.05,
                  norm_cfg=dict(type='mmpretrain.SparseSyncBatchNorm2d')),
    neck=dict(type='mmpretrain.SparKLightDecoder', feature_dim=512, upsample_ratio=32, mid_channels=0,
              last_act=False),
    head=dict(type='FaceSparKHead', patch_size=32, norm_pix=False, region_weight=None,
              loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2')))
