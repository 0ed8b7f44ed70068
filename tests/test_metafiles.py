"""model-index.yml and the metafiles it imports (mmpretrain's model-zoo format) match the configs."""
import glob
import os.path as osp

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _models():
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    for meta in index['Import']:
        data = yaml.safe_load(open(osp.join(REPO, meta)))
        collections = {c['Name'] for c in data['Collections']}
        for model in data['Models']:
            yield meta, collections, model


def test_every_leaf_config_listed_once_with_valid_entries():
    listed = []
    for meta, collections, model in _models():
        assert model['In Collection'] in collections, model['Name']
        assert osp.dirname(model['Config']) == osp.dirname(meta)  # a folder's metafile lists its own configs
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
        listed.append(model['Config'])
        for result in model['Results'] or []:
            assert result['Task'] and result['Dataset']
            assert all(0 < v <= 100 for v in result['Metrics'].values()), model['Name']
    leaves = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                    if '_base_' not in p)
    assert sorted(listed) == leaves


def test_quick_results_are_measured_ones():
    """Each quick SynthFER entry carries top-1 and mean class accuracy; paper-scale entries are either
    empty or marked as the paper's figures."""
    for _, _, model in _models():
        if 'quick48' in model['Config'] and model['Results']:
            assert set(model['Results'][0]['Metrics']) == {'Top 1 Accuracy', 'Mean Class Accuracy'}
            assert 'SynthFER' in model['Results'][0]['Dataset']
        elif model['Results']:
            assert model['Metadata']['Results From'].startswith('the paper')
