import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfer.datasets import PathTable, UnlabeledFaces, skip_none_collate
from mmfer.datasets.recordio import write_recordio

PIPE = [dict(type='LoadFaceImage', ignore_empty=True), dict(type='mmpretrain.PackInputs')]


def _encode(value, size=16):
    return cv2.imencode('.jpg', np.full((size, size, 3), value, np.uint8))[1].tobytes()


@pytest.fixture
def pool_dir(tmp_path):
    """VGGFace2-like tree: 2 identities x 3 images, one corrupt, one truncated, one non-image."""
    root = tmp_path / 'pool'
    for ident in ('n0002', 'n0001'):
        (root / ident).mkdir(parents=True)
        for k in range(3):
            (root / ident / f'{k:04d}.jpg').write_bytes(_encode(10 * k + (100 if ident == 'n0002' else 0)))
    (root / 'n0001' / '0001.jpg').write_bytes(b'not a jpeg at all')
    good = _encode(50)
    (root / 'n0002' / '0002.jpg').write_bytes(good[:len(good) // 2])  # truncated
    (root / 'n0002' / 'notes.txt').write_text('ignored')
    return str(root)


def test_folder_order_and_skip_count(pool_dir):
    ds = UnlabeledFaces(data_root=pool_dir, pipeline=PIPE, test_mode=True)
    assert len(ds) == 6
    names = [osp.relpath(ds.get_data_info(i)['img_path'], pool_dir) for i in range(6)]
    assert names == [f'{i}/{k:04d}.jpg' for i in ('n0001', 'n0002') for k in range(3)]
    items = [ds[i] for i in range(6)]
    assert [it is None for it in items] == [False, True, False, False, False, True]
    assert ds.num_skipped == 2
    batch = skip_none_collate(items)
    assert len(batch['inputs']) == 4
    assert skip_none_collate([items[1], items[5]]) == {}  # a batch of unreadable images only


def test_training_mode_fetches_another_and_counts(pool_dir):
    ds = UnlabeledFaces(data_root=pool_dir, pipeline=PIPE)
    values = [0, None, 20, 100, 110, None]  # pixel value of each file in walk order; None: unreadable
    good = [v for v in values if v is not None]
    for i, value in enumerate(values):
        mean = float(ds[i]['inputs'].float().mean())
        if value is None:  # another, readable image stands in
            assert min(abs(mean - v) for v in good) < 3
        else:
            assert abs(mean - value) < 3
    assert ds.num_skipped >= 2


def test_counts_survive_loader_workers(pool_dir):
    ds = UnlabeledFaces(data_root=pool_dir, pipeline=PIPE, test_mode=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, collate_fn=skip_none_collate)
    n = sum(len(b['inputs']) for b in loader)
    assert n == 4 and ds.num_skipped == 2


def test_file_list_and_missing_file(pool_dir, tmp_path):
    lst = tmp_path / 'list.txt'
    lst.write_text('n0001/0000.jpg 3\n# comment\nn0001/missing.jpg\nn0002/0001.jpg\n')
    ds = UnlabeledFaces(data_root='', ann_file=str(lst), data_prefix=pool_dir, pipeline=PIPE, test_mode=True)
    assert ds.source == 'list' and len(ds) == 3
    assert ds[0] is not None and ds[1] is None and ds[2] is not None
    assert ds.num_skipped == 1


def test_recordio_without_mxnet(tmp_path):
    rec, idx = str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx')
    imgs = [_encode(v) for v in (20, 120, 220)]
    write_recordio(rec, idx, imgs, labels=[0, 0, 1])
    ds = UnlabeledFaces(data_root=str(tmp_path), ann_file='train.rec', pipeline=PIPE, test_mode=True)
    assert ds.source == 'recordio' and len(ds) == 3  # header record 0 excluded
    means = [float(ds[i]['inputs'].float().mean()) for i in range(3)]
    np.testing.assert_allclose(means, [20, 120, 220], atol=3)
    # a torn record is skipped and counted, not a crash
    with open(rec, 'r+b') as f:
        f.truncate(os.path.getsize(rec) - 40)
    ds = UnlabeledFaces(data_root=str(tmp_path), ann_file='train.rec', pipeline=PIPE, test_mode=True)
    assert ds[2] is None and ds.num_skipped == 1


def test_recordio_without_header(tmp_path):
    rec, idx = str(tmp_path / 'p.rec'), str(tmp_path / 'p.idx')
    write_recordio(rec, idx, [_encode(1), _encode(2)], insightface_header=False)
    assert len(UnlabeledFaces(ann_file=rec, source='recordio')) == 2


def test_empty_pool_and_missing_sources(tmp_path):
    (tmp_path / 'empty').mkdir()
    assert len(UnlabeledFaces(data_root=str(tmp_path / 'empty'))) == 0
    with pytest.raises(FileNotFoundError, match='image folder not found'):
        UnlabeledFaces(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='RecordIO file not found'):
        UnlabeledFaces(ann_file=str(tmp_path / 'x.rec'))


def test_path_table_is_compact_and_exact():
    paths = [f'id{i % 7}/img_{i:07d}.jpg' for i in range(5000)] + ['ünïcode/ä.jpg']
    table = PathTable(paths)
    assert len(table) == len(paths) and all(table[i] == p for i, p in enumerate(paths))
    assert table.buffer.nbytes == sum(len(p.encode()) for p in paths)
    assert [table.take(np.array([5000, 3]))[k] for k in range(2)] == [paths[5000], paths[3]]


def test_synthfer_pool_reads(synthfer_root):
    ds = UnlabeledFaces(data_root=osp.join(synthfer_root, 'pool'), ann_file='list.txt', pipeline=PIPE,
                        indices=10)
    assert len(ds) == 10 and ds[0]['inputs'].shape == (3, 32, 32)


def test_hidden_truth_labels_follow_the_list(synthfer_root):
    pool = osp.join(synthfer_root, 'pool')
    ds = UnlabeledFaces(data_root=pool, ann_file='list.txt', hidden_truth='hidden_truth.csv', indices=[5, 0])
    rows = [r.split(',') for r in open(osp.join(pool, 'hidden_truth.csv')).read().split('\n')[1:] if r]
    assert [ds.get_data_info(i)['gt_label'] for i in range(2)] == [int(rows[5][2]), int(rows[0][2])]
    with pytest.raises(ValueError, match='no hidden label'):
        UnlabeledFaces(data_root=pool, hidden_truth='hidden_truth.csv', data_prefix='images')  # folder paths differ


def test_symlink_loops_and_unreadable_folders_are_skipped_and_counted(pool_dir):
    os.symlink('..', osp.join(pool_dir, 'n0001', 'loop'))  # n0001/loop -> the pool root
    os.symlink(osp.join(pool_dir, 'n0002'), osp.join(pool_dir, 'again'))  # a second way into n0002
    os.makedirs(osp.join(pool_dir, 'locked'))
    cv2.imwrite(osp.join(pool_dir, 'locked', 'x.jpg'), np.zeros((4, 4, 3), np.uint8))
    os.chmod(osp.join(pool_dir, 'locked'), 0)
    try:
        ds = UnlabeledFaces(data_root=pool_dir)
        readable = os.access(osp.join(pool_dir, 'locked'), os.R_OK)  # root reads any folder
        assert len(ds) == 6 + readable  # each image once
        assert ds.num_skipped_dirs == 3 - readable  # the loop, the second link, the locked folder
    finally:
        os.chmod(osp.join(pool_dir, 'locked'), 0o755)


def test_recordio_index_with_repeated_lines_reads_each_record_once(tmp_path):
    rec, idx = str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx')
    write_recordio(rec, idx, [_encode(v) for v in (20, 120, 220)])
    lines = open(idx).read().split('\n')
    open(idx, 'w').write('\n'.join(lines[:4] + lines[1:4]) + '\n')  # every image line twice
    assert len(UnlabeledFaces(ann_file=rec)) == 3
    k, off = lines[2].split('\t')
    open(idx, 'w').write('\n'.join(lines[:4] + [f'{k}\t{int(off) + 4}']) + '\n')
    with pytest.raises(ValueError, match=rf'train.idx:5: key {k} is listed with two offsets \(first at line 3\)'):
        UnlabeledFaces(ann_file=rec)


def test_recordio_errors_name_the_file_and_offset(tmp_path):
    rec, idx = str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx')
    write_recordio(rec, idx, [_encode(1)])
    data = open(rec, 'rb').read()
    open(rec, 'wb').write(b'\x00\x00\x00\x00' + data[4:])  # bad magic of the header record
    with pytest.raises(ValueError, match=r'train.rec at offset 0: bad RecordIO magic 0x00000000'):
        UnlabeledFaces(ann_file=rec)
    open(rec, 'wb').write(data[:12])  # the header record cut short
    with pytest.raises(ValueError, match=r'train.rec at offset 0: record is truncated \(4 of'):
        UnlabeledFaces(ann_file=rec)
    open(idx, 'w').write('0\tx\n')
    with pytest.raises(ValueError, match='train.idx: not a RecordIO index'):
        UnlabeledFaces(ann_file=rec)


def test_pool_list_and_hidden_truth_with_a_bom(synthfer_root, tmp_path):
    pool = osp.join(synthfer_root, 'pool')
    names = open(osp.join(pool, 'list.txt')).read().split()[:3]
    truth = open(osp.join(pool, 'hidden_truth.csv')).read().split('\n')
    (tmp_path / 'list.txt').write_text('\n'.join(names) + '\n', encoding='utf-8-sig')
    (tmp_path / 'truth.csv').write_text('\n'.join(truth) + '\n', encoding='utf-8-sig')
    ds = UnlabeledFaces(ann_file=str(tmp_path / 'list.txt'), data_prefix=pool, hidden_truth=str(tmp_path / 'truth.csv'))
    assert len(ds) == 3 and ds.get_data_info(0)['img_path'] == osp.join(pool, names[0])
    (tmp_path / 'truth.csv').write_text('name,class\n' + '\n'.join(truth[1:]))
    with pytest.raises(ValueError, match=r"truth.csv:1: expected a 'filename,label' header"):
        UnlabeledFaces(ann_file=str(tmp_path / 'list.txt'), data_prefix=pool, hidden_truth=str(tmp_path / 'truth.csv'))
