"""Every config parses, and its model and (where data exists) datasets build."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmfer.registry import MODELS, TASK_UTILS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LEAVES = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py')) if '_base_' not in p)


@pytest.mark.parametrize('path', LEAVES, ids=[osp.relpath(p, REPO) for p in LEAVES])
def test_leaf_config_builds_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmfer'
    with DefaultScope.overwrite_default_scope('mmfer'):
        try:  # on the meta device: every module and parameter shape, without drawing ViT-B's initial weights
            with torch.device('meta'):
                model = MODELS.build(cfg.model)
        except RuntimeError as e:  # a constructor that reads a tensor's value (ResNet's drop path rates)
            assert 'meta tensors' in str(e)
            model = MODELS.build(cfg.model)
    if cfg.model.type == 'FaceMAE':  # stage I: unlabeled pool, no classes
        assert cfg.train_dataloader.dataset.type == 'UnlabeledFaces'
        assert model.neck.decoder_pos_embed.shape[1] == model.backbone.num_patches + 1
        return
    if cfg.model.type == 'FaceSparK':  # stage I for CNNs: masks whole cells of the stride-32 map
        assert cfg.train_dataloader.dataset.type == 'UnlabeledFaces'
        assert cfg.train_dataloader.dataset.pipeline[1].scale == model.input_size
        assert model.input_size % model.downsample_raito == 0 and model.head.patch_size == model.downsample_raito
        assert len(model.mask_tokens) == len(model.backbone.out_indices) == 4
        return
    if cfg.train_cfg.get('type') == 'OmniDistillLoop':  # method B: labeled split, a pool, a registered distiller
        assert cfg.train_dataloader.dataset.split_file and cfg.train_cfg.pool.type == 'UnlabeledFaces'
        with DefaultScope.overwrite_default_scope('mmfer'):
            distiller = TASK_UTILS.build(cfg.train_cfg.distiller)
        assert distiller.ipc >= 10
    if cfg.model.type == 'SemiFERClassifier':  # stage III: labeled split + unlabeled data, 1:1
        model = model.student
        labeled, unlabeled = cfg.train_dataloader.dataset.datasets
        assert labeled.split_file and labeled.split_file == unlabeled.get('split_file', labeled.split_file)
        assert cfg.train_dataloader.sampler.source_ratio == [1, 1]
        assert cfg.custom_hooks[0].type == 'SemiFERHook'
    else:
        assert cfg.train_dataloader.dataset.type in ('SynthFER', 'RAFDB', 'AffectNet', 'FERPlus')
    assert model.head.num_classes == cfg.data_preprocessor.num_classes
    for loader in ('val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type in ('SynthFER', 'RAFDB', 'AffectNet', 'FERPlus')


def test_face_mae_paper_settings():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'face_mae', 'face-mae_vit-base-p16_8xb32-600e_face-pool.py'))
    assert cfg.model.backbone.mask_ratio == 0.75 and cfg.model.head.norm_pix is False
    assert (cfg.model.neck.decoder_embed_dim, cfg.model.neck.decoder_depth, cfg.model.neck.decoder_num_heads) \
        == (512, 8, 16)
    assert cfg.optim_wrapper.optimizer.lr == 3.4e-4 and cfg.optim_wrapper.optimizer.betas == (0.9, 0.95)
    assert cfg.train_cfg.max_epochs == 600 and cfg.param_scheduler[0].end == 50
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 256


SEMI = [(data, root, ratio, classes) for data, root, ratios, classes in (
    ('rafdb', 'data/rafdb', ('5pct', '10pct', '25pct'), 7), ('ferplus', 'data/ferplus', ('5pct', '10pct', '25pct'), 8),
    ('affectnet7', 'data/affectnet', ('1pct', '5pct', '10pct'), 7),
    ('affectnet8', 'data/affectnet', ('1pct', '5pct', '10pct'), 8)) for ratio in ratios]


@pytest.mark.parametrize('data, root, ratio, classes', SEMI, ids=[f'{d}-{r}' for d, _, r, _ in SEMI])
def test_one_split_file_per_ratio_across_stages(data, root, ratio, classes):
    stage2 = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', f'stage2_vit-base-p16_1xb32-100e_{data}-{ratio}.py'))
    stage3 = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', f'stage3_vit-base-p16_1xb128-50e_{data}-{ratio}.py'))
    # AffectNet-7 and -8 share a data root but not their splits (Contempt changes the sample set)
    path = f"{root}/splits/{data + '_' if root == 'data/affectnet' else ''}labeled_{ratio}_seed0.json"
    assert stage2.train_dataloader.dataset.split_file == path
    labeled, unlabeled = stage3.train_dataloader.dataset.datasets
    assert [labeled.split_file, unlabeled.split_file] == [path, path] and unlabeled.split_part == 'unlabeled'
    assert labeled.type == unlabeled.type == stage2.train_dataloader.dataset.type == stage3.test_dataloader.dataset.type
    assert f'{data}-{ratio}' in stage3.load_from
    # the same classes everywhere: heads, preprocessors, datasets
    assert stage2.model.head.num_classes == stage2.data_preprocessor.num_classes == classes
    assert stage3.model.classifier.head.num_classes == classes
    assert stage3.model.data_preprocessor.data_preprocessor.num_classes == classes
    for cfg in (stage2, stage3):
        for ds in (cfg.val_dataloader.dataset, cfg.test_dataloader.dataset):
            assert ds.get('num_classes', classes) == classes and ds.test_mode
    # stage II keeps the face box through its geometry (box-aware mmcv transforms)
    assert stage2.train_dataloader.dataset.pipeline[-1].algorithm_keys == ('gt_bboxes', )
    # the paper's stage III: threshold 0.7, unlabeled weight 5, teacher EMA 0.999, 64 + 64 per batch
    assert (stage3.model.threshold, stage3.model.unsup_weight, stage3.custom_hooks[0].momentum) == (0.7, 5.0, 1e-3)
    assert stage3.param_scheduler[0].end == stage3.train_cfg.max_iters


def test_affectnet8_has_eight_classes():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_affectnet8.py'))
    assert cfg.train_dataloader.dataset.num_classes == cfg.val_dataloader.dataset.num_classes == 8


QUICK_CHAIN = [  # a quick config, where it names a checkpoint, and the quick config whose run writes it
    ('ssfer/stage2_resnet18-w16_1xb64-quick48_synthfer-5pct.py', 'model.backbone.init_cfg.checkpoint',
     'face_spark/face-spark_resnet18-w16_1xb64-quick64_synthfer-pool.py'),
    ('ssfer/stage3_resnet18-w16_1xb128-quick48_synthfer-5pct.py', 'load_from',
     'ssfer/stage2_resnet18-w16_1xb64-quick48_synthfer-5pct.py'),
    ('ssfer/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py', 'model.backbone.init_cfg.checkpoint',
     'face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py'),
    ('ssfer/stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py', 'load_from',
     'ssfer/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py')]


@pytest.mark.parametrize('path, key, previous', QUICK_CHAIN, ids=[c for c, _, _ in QUICK_CHAIN])
def test_quick_configs_load_what_the_previous_quick_config_writes(path, key, previous):
    """Run as the docs show them (tools/train.py CONFIG, one after another), each quick stage finds its input."""
    from mmfer.utils.quick import last_checkpoint
    cfg, prev = Config.fromfile(osp.join(REPO, 'configs', path)), Config.fromfile(osp.join(REPO, 'configs', previous))
    value = cfg
    for part in key.split('.'):
        value = value[part]
    assert value == f'work_dirs/{osp.splitext(osp.basename(previous))[0]}/{last_checkpoint(prev)}'
    hook = prev.default_hooks.checkpoint  # and that run keeps its last checkpoint
    assert prev.train_cfg.max_epochs % hook.interval == 0 or hook.get('save_last', True)


QUICK = sorted(glob.glob(osp.join(REPO, 'configs', '*', '*quick*.py')))


@pytest.mark.parametrize('path', QUICK, ids=[osp.relpath(p, REPO) for p in QUICK])
def test_quick_configs_read_the_quick_data(path):
    """One data root and one split of each share for the quick configs: what tools/data/make_quick_data.py
    writes (``--ratio 0.01`` for the ``-1pct`` ones)."""
    from mmfer.utils.quick import QUICK_DATA_ROOT, quick_split_path
    cfg = Config.fromfile(path)
    datasets = [cfg[k].dataset for k in ('train_dataloader', 'val_dataloader', 'test_dataloader') if k in cfg]
    datasets = [d for ds in datasets for d in ds.get('datasets', [ds])]
    if cfg.train_cfg.get('pool'):
        datasets.append(cfg.train_cfg.pool)
    roots = {d.data_root for d in datasets if 'data_root' in d}
    assert roots and all(r in (QUICK_DATA_ROOT, QUICK_DATA_ROOT + '/pool') for r in roots), roots
    splits = {d.split_file for d in datasets if d.get('split_file')}
    ratio = 0.01 if path.endswith('-1pct.py') else 0.05
    assert splits <= {quick_split_path(QUICK_DATA_ROOT, ratio, 0)}, splits
