"""Every config parses, and its model and (where data exists) datasets build."""
import glob
import os.path as osp

import pytest
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
        model = MODELS.build(cfg.model)
    if cfg.model.type == 'FaceMAE':  # stage I: unlabeled pool, no classes
        assert cfg.train_dataloader.dataset.type == 'UnlabeledFaces'
        assert model.neck.decoder_pos_embed.shape[1] == model.backbone.num_patches + 1
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


@pytest.mark.parametrize('ratio', ['5pct', '10pct', '25pct'])
def test_one_split_file_per_ratio_across_stages(ratio):
    stage2 = Config.fromfile(osp.join(REPO, 'configs', 'method_a', f'stage2_vit-base-p16_1xb32-100e_rafdb-{ratio}.py'))
    stage3 = Config.fromfile(osp.join(REPO, 'configs', 'method_a', f'stage3_vit-base-p16_1xb128-50e_rafdb-{ratio}.py'))
    path = f'data/rafdb/splits/labeled_{ratio}_seed0.json'
    assert stage2.train_dataloader.dataset.split_file == path
    assert [d.split_file for d in stage3.train_dataloader.dataset.datasets] == [path, path]
    assert stage3.train_dataloader.dataset.datasets[1].split_part == 'unlabeled'
    assert ratio in stage3.load_from


def test_affectnet8_has_eight_classes():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_affectnet8.py'))
    assert cfg.train_dataloader.dataset.num_classes == cfg.val_dataloader.dataset.num_classes == 8
