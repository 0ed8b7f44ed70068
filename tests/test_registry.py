import pytest
from mmengine.registry import DefaultScope

from mmfer.registry import DATASETS, MODELS, TRANSFORMS


def test_mmfer_and_parent_parts_side_by_side():
    with DefaultScope.overwrite_default_scope('mmfer'):
        assert TRANSFORMS.get('LoadFaceImage').__module__.startswith('mmfer.')
        assert TRANSFORMS.get('mmpretrain.PackInputs').__module__.startswith('mmpretrain.')
        assert DATASETS.get('SynthFER').__name__ == 'SynthFER'
        model = MODELS.build(dict(type='mmpretrain.ImageClassifier',
                                  backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8),
                                  neck=dict(type='mmpretrain.GlobalAveragePooling'),
                                  head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=64)))
        assert model.head.fc.out_features == 7


def test_import_does_not_assert_versions(monkeypatch):
    import importlib

    import mmfer
    monkeypatch.setattr('mmcv.__version__', '9.9.9')
    importlib.reload(mmfer)  # only packaging metadata pins versions


def test_unknown_type_is_a_clear_error():
    with pytest.raises(KeyError, match='NoSuchDataset is not in'):
        DATASETS.build(dict(type='NoSuchDataset'))
