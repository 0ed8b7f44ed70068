import json
import os.path as osp

import numpy as np
import pytest

from mmfer.datasets import SynthFER, load_split, make_split, save_split, stratified_split
from mmfer.datasets.splits import per_class_quota

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_per_class_counts_round_half_up_and_at_least_one():
    labels = np.repeat(np.arange(5), [100, 30, 10, 3, 1])
    idx = stratified_split(labels, 0.05, seed=0, num_classes=5)
    counts = np.bincount(labels[idx], minlength=5)
    # round(0.05 * n): 5, 1.5 -> 2, 0.5 -> 1, 0.15 -> 0 -> at least 1, 0.05 -> 1
    assert counts.tolist() == [5, 2, 1, 1, 1]
    assert [per_class_quota(n, 0.25) for n in (10, 2, 6)] == [3, 1, 2]  # 2.5 -> 3, 0.5 -> 1, 1.5 -> 2
    assert len(np.unique(idx)) == len(idx)


def test_deterministic_by_seed():
    labels = np.random.default_rng(0).integers(0, 7, 1000)
    a = stratified_split(labels, 0.1, seed=1, num_classes=7)
    b = stratified_split(labels, 0.1, seed=1, num_classes=7)
    c = stratified_split(labels, 0.1, seed=2, num_classes=7)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_empty_class_and_bad_ratio_are_errors():
    with pytest.raises(ValueError, match='class 2 has no samples'):
        stratified_split([0, 1, 1, 3], 0.5, 0, num_classes=4)
    with pytest.raises(ValueError, match=r'in \(0, 1\]'):
        stratified_split([0, 1], 0.0, 0, num_classes=2)


def test_split_file_reused_identically_by_every_stage(synthfer_root, tmp_path):
    full = SynthFER(data_root=synthfer_root, split='train')
    ids = [full.get_data_info(i)['sample_id'] for i in range(len(full))]
    path = str(tmp_path / 'split.json')
    save_split(make_split(ids, full.get_gt_labels(), full.CLASSES, 0.1, 0, source={}), path)
    stage2 = SynthFER(data_root=synthfer_root, split='train', split_file=path)
    stage3 = SynthFER(data_root=synthfer_root, split='train', split_file=path)
    rest = SynthFER(data_root=synthfer_root, split='train', split_file=path, split_part='unlabeled')
    ids2 = [stage2.get_data_info(i)['sample_id'] for i in range(len(stage2))]
    ids3 = [stage3.get_data_info(i)['sample_id'] for i in range(len(stage3))]
    ids_rest = {rest.get_data_info(i)['sample_id'] for i in range(len(rest))}
    assert ids2 == ids3 == sorted(load_split(path)['labeled'])
    assert not set(ids2) & ids_rest and len(ids2) + len(ids_rest) == len(full)
    counts = np.bincount(full.get_gt_labels(), minlength=7)
    expected = [per_class_quota(int(n), 0.1) for n in counts]
    assert np.bincount(stage2.get_gt_labels(), minlength=7).tolist() == expected


def test_split_file_errors(synthfer_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='split file not found: .*nope.json'):
        SynthFER(data_root=synthfer_root, split_file=str(tmp_path / 'nope.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"labeled": ["x"]}')
    with pytest.raises(ValueError, match='bad.json: not an mmfer split file'):
        SynthFER(data_root=synthfer_root, split_file=str(bad))
    listed = tmp_path / 'list.json'
    listed.write_text('["train_00001.jpg"]')
    with pytest.raises(ValueError, match=r'list.json: not an mmfer split file \(a JSON list'):
        SynthFER(data_root=synthfer_root, split_file=str(listed))
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(format='mmfer-split-v1', labeled=[])))
    with pytest.raises(ValueError, match="empty.json: the 'labeled' list is empty"):
        SynthFER(data_root=synthfer_root, split_file=str(empty))
    other = tmp_path / 'other.json'
    save_split(make_split(['elsewhere.jpg'], [0], ['a'], 1.0, 0, source={}), str(other))
    with pytest.raises(ValueError, match=r"other.json: the split was drawn for other data .*its classes are \['a'\]"):
        SynthFER(data_root=synthfer_root, split_file=str(other))


def _split_of(ids, labels, tmp_path, name, **source):
    path = str(tmp_path / name)
    save_split(make_split(ids, labels, SynthFER.METAINFO['classes'], 0.25, 0, source=source), path)
    return path


def test_split_drawn_for_other_data_is_an_error(synthfer_root, tmp_path):
    full = SynthFER(data_root=synthfer_root, split='train')
    ids = [full.get_data_info(i)['sample_id'] for i in range(len(full))]
    labels = full.get_gt_labels()
    # another size: drawn from the first 120 of the 140 faces
    path = _split_of(ids[:120], labels[:120], tmp_path, 'size.json')
    with pytest.raises(ValueError, match='size.json: .*drawn from 120 samples, the data holds 140'):
        SynthFER(data_root=synthfer_root, split_file=path)
    # another seed of the data: the same file names, other labels
    shuffled = np.random.default_rng(1).permutation(labels)
    path = _split_of(ids, shuffled, tmp_path, 'seed.json')
    with pytest.raises(ValueError, match='seed.json: .*(class counts|labels differ)'):
        SynthFER(data_root=synthfer_root, split_file=path)
    swapped = labels.copy()
    a, b = np.flatnonzero(labels == 0)[0], np.flatnonzero(labels == 1)[0]
    swapped[[a, b]] = swapped[[b, a]]  # same class counts, two labels exchanged
    path = _split_of(ids, swapped, tmp_path, 'swap.json')
    with pytest.raises(ValueError, match='swap.json: .*the sample ids or labels differ'):
        SynthFER(data_root=synthfer_root, split_file=path)
    # another source dataset type
    path = _split_of(ids, labels, tmp_path, 'type.json', type='RAFDB')
    with pytest.raises(ValueError, match='type.json: .*drawn from a RAFDB'):
        SynthFER(data_root=synthfer_root, split_file=path)
    # the right data passes, also with the source's scope prefix
    path = _split_of(ids, labels, tmp_path, 'ok.json', type='mmfer.SynthFER')
    assert len(SynthFER(data_root=synthfer_root, split_file=path)) == len(load_split(path)['labeled'])


def test_make_split_tool_draws_once(synthfer_root, split_file, tmp_path, run_tool):
    out = str(tmp_path / 'splits' / 's.json')
    args = [osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py'), '--ratio', '0.25', '--out', out,
            '--cfg-options', f'train_dataloader.dataset.data_root={synthfer_root}']
    assert run_tool('tools/data/make_split.py', *args)[0] == 0
    split = json.load(open(out))
    assert split['ratio'] == 0.25 and split['num_samples'] == 140
    assert split['labeled'] == json.load(open(split_file))['labeled']  # what the tests' fixture draws
    code, log = run_tool('tools/data/make_split.py', *args)
    assert code != 0 and 'drawn once' in log
