import subprocess
import sys

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


def test_import_does_not_assert_versions():
    """Only packaging metadata pins the stack: mmfer imports and registers its parts whatever versions the
    (already imported) upstream packages report. A fresh interpreter, since mmfer's registries exist once."""
    code = ('import mmcv, mmengine, mmpretrain, mmdet\n'
            "mmcv.__version__ = mmengine.__version__ = mmpretrain.__version__ = mmdet.__version__ = '9.9.9'\n"
            'import mmfer.apis, mmfer.datasets, mmfer.engine, mmfer.models, mmfer.utils\n'
            'mmfer.utils.register_all_modules()\n'
            "print('imported beside', mmcv.__version__)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == 'imported beside 9.9.9', out.stderr[-2000:]


def test_unknown_type_is_a_clear_error():
    with pytest.raises(KeyError, match='NoSuchDataset is not in'):
        DATASETS.build(dict(type='NoSuchDataset'))
