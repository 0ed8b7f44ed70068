"""RAF-DB, AffectNet and FERPlus read from tiny trees in each exact on-disk format."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmfer.datasets import RAFDB, AffectNet, AnnotationError, FERPlus
from mmfer.registry import DATASETS


def _jpg(path, value=128, size=(40, 30)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((size[1], size[0], 3), value, np.uint8))


@pytest.fixture
def rafdb_root(tmp_path):
    lines = ['train_00001.jpg 5', 'train_00002.jpg 1', 'test_0001.jpg 7', 'train_00003.jpg 4', '']
    (tmp_path / 'EmoLabel').mkdir()
    (tmp_path / 'EmoLabel' / 'list_patition_label.txt').write_text('\n'.join(lines))
    for stem in ('train_00001', 'train_00002', 'train_00003', 'test_0001'):
        _jpg(str(tmp_path / 'Image' / 'aligned' / f'{stem}_aligned.jpg'))
    return str(tmp_path)


def test_rafdb_train_test_and_labels(rafdb_root):
    train = RAFDB(data_root=rafdb_root, split='train')
    test = RAFDB(data_root=rafdb_root, split='test')
    assert len(train) == 3 and len(test) == 1
    assert list(train.get_gt_labels()) == [4, 0, 3]  # 1-7 -> 0-6
    assert train.CLASSES[4] == 'Sadness' and test.get_gt_labels()[0] == 6  # Neutral
    assert train.get_data_info(0)['img_path'].endswith(osp.join('Image', 'aligned', 'train_00001_aligned.jpg'))
    assert 'gt_bboxes' not in train.get_data_info(0)


def test_rafdb_pipeline_packs_mmpretrain_samples(rafdb_root):
    ds = DATASETS.build(dict(type='RAFDB', data_root=rafdb_root, split='train',
                             pipeline=[dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')]))
    item = ds[0]
    assert item['inputs'].shape == (3, 30, 40)
    assert int(item['data_samples'].gt_label) == 4


@pytest.mark.parametrize('line, msg', [('train_00009.jpg 8', 'unknown class id 8'),
                                       ('train_00009.jpg', 'expected'),
                                       ('train_00009.jpg happy', 'expected')])
def test_rafdb_bad_lines_name_file_and_line(rafdb_root, line, msg):
    path = osp.join(rafdb_root, 'EmoLabel', 'list_patition_label.txt')
    with open(path, 'a') as f:
        f.write(line + '\n')
    with pytest.raises(AnnotationError, match=rf'list_patition_label.txt:5: .*{msg}'):
        RAFDB(data_root=rafdb_root, split='train')


def test_missing_annotation_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='list_patition_label.txt'):
        RAFDB(data_root=str(tmp_path))


AFFECTNET_HEADER = ('subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,'
                    'valence,arousal')


@pytest.fixture
def affectnet_root(tmp_path):
    rows = [AFFECTNET_HEADER,
            '1/a.jpg,10,20,100,120,"1;2;3",0,0.1,0.2',  # Neutral
            '1/b.jpg,5,5,50,50,"1;2",7,-0.3,0.4',  # Contempt
            '2/c.jpg,0,0,30,30,"",8,-2,-2',  # None: excluded
            '2/d.jpg,1,2,3,4,"",10,-2,-2',  # No-face: excluded
            '2/e.jpg,3,4,60,70,"",6,-0.5,0.6']  # Anger
    (tmp_path / 'training.csv').write_text('\n'.join(rows) + '\n')
    return str(tmp_path)


def test_affectnet_8_and_7_classes(affectnet_root):
    a8 = AffectNet(data_root=affectnet_root, num_classes=8)
    a7 = AffectNet(data_root=affectnet_root, num_classes=7)
    assert list(a8.get_gt_labels()) == [0, 7, 6]
    assert list(a7.get_gt_labels()) == [0, 6]
    assert len(a7.CLASSES) == 7 and 'Contempt' not in a7.CLASSES and a8.CLASSES[7] == 'Contempt'
    info = a8.get_data_info(0)
    np.testing.assert_array_equal(info['gt_bboxes'], [[10, 20, 110, 140]])
    assert info['img_path'].endswith(osp.join('Manually_Annotated_Images', '1/a.jpg'))


def test_affectnet_bad_rows(affectnet_root):
    path = osp.join(affectnet_root, 'training.csv')
    with open(path, 'a') as f:
        f.write('3/f.jpg,1,1,1,1,"",12,0,0\n')
    with pytest.raises(AnnotationError, match=r'training.csv:7: unknown expression code 12'):
        AffectNet(data_root=affectnet_root)
    with open(path, 'w') as f:
        f.write('path,expression\n')
    with pytest.raises(AnnotationError, match='header lacks'):
        AffectNet(data_root=affectnet_root)


@pytest.fixture
def ferplus_root(tmp_path):
    votes = ['Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF',
             'Training,fer0000000.png,4,0,0,1,3,0,0,0,2,0',  # neutral (4)
             'Training,fer0000001.png,0,10,0,0,0,0,0,0,0,0',  # happiness
             'Training,,0,0,0,0,0,0,0,0,0,10',  # no image
             'Training,fer0000003.png,0,0,0,0,0,0,0,0,3,7',  # NF wins: dropped
             'Training,fer0000004.png,5,5,0,0,0,0,0,0,0,0',  # tie: dropped
             'PublicTest,fer0000005.png,0,0,6,0,0,0,4,0,0,0']  # surprise, val split
    pixels = ['emotion,pixels,Usage'] + [f'0,{" ".join(str((i * 7 + k) % 256) for k in range(48 * 48))},Training'
                                         for i in range(6)]
    (tmp_path / 'fer2013new.csv').write_text('\n'.join(votes) + '\n')
    (tmp_path / 'fer2013.csv').write_text('\n'.join(pixels) + '\n')
    return str(tmp_path)


def test_ferplus_majority_votes_and_pixels(ferplus_root):
    train = FERPlus(data_root=ferplus_root, split='train',
                    pipeline=[dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')])
    assert list(train.get_gt_labels()) == [0, 1]
    info = train.get_data_info(0)
    np.testing.assert_allclose(info['vote_dist'], np.array([4, 0, 0, 1, 3, 0, 0, 0]) / 8)
    assert info['img'].shape == (48, 48) and info['img'][0, 1] == 1
    item = train[1]
    assert item['inputs'].shape == (3, 48, 48)  # grey expanded to 3 channels
    assert int(item['inputs'][0, 0, 2]) == (7 + 2) % 256
    assert 'gt_score' not in item['data_samples']
    val = FERPlus(data_root=ferplus_root, split='val')
    assert list(val.get_gt_labels()) == [2]


def test_ferplus_soft_target(ferplus_root):
    ds = FERPlus(data_root=ferplus_root, soft_target=True,
                 pipeline=[dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')])
    score = ds[0]['data_samples'].gt_score
    np.testing.assert_allclose(score.numpy(), np.array([4, 0, 0, 1, 3, 0, 0, 0]) / 8, rtol=1e-6)


def test_ferplus_bad_pixels(ferplus_root):
    path = osp.join(ferplus_root, 'fer2013.csv')
    lines = open(path).read().split('\n')
    lines[2] = '0,1 2 3,Training'
    open(path, 'w').write('\n'.join(lines))
    with pytest.raises(AnnotationError, match=r'fer2013.csv:3: expected 48\*48'):
        FERPlus(data_root=ferplus_root)


def _rafdb_labels(root, text=None, raw=None):
    path = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    if raw is not None:
        open(path, 'wb').write(raw)
    else:
        open(path, 'w', encoding='utf-8').write(text)
    return path


def test_rafdb_label_file_with_a_bom_keeps_its_first_sample(rafdb_root):
    _rafdb_labels(rafdb_root, raw='\ufefftrain_00001.jpg 5\ntrain_00002.jpg 1\n'.encode('utf-8'))
    train = RAFDB(data_root=rafdb_root, split='train')
    assert [train.get_data_info(i)['sample_id'] for i in range(len(train))] == ['train_00001.jpg', 'train_00002.jpg']


@pytest.mark.parametrize('line, msg', [('Train_00001.jpg 5', "'Train_00001.jpg' names no split"),
                                       ('val_00002.jpg 3', "'val_00002.jpg' names no split"),
                                       ('train_00001.jpg 5', r"listed twice \(first at line 1\)$"),
                                       ('train_00001.jpg 2', r'listed twice \(first at line 1\) with another label')])
def test_rafdb_unsplit_and_repeated_names_are_errors(rafdb_root, line, msg):
    _rafdb_labels(rafdb_root, f'train_00001.jpg 5\ntrain_00002.jpg 1\n{line}\n')
    for split in ('train', 'test'):  # neither split silently drops or doubles it
        with pytest.raises(AnnotationError, match=rf'list_patition_label.txt:3: .*{msg}'):
            RAFDB(data_root=rafdb_root, split=split)


def test_non_utf8_label_file_names_file_and_line(rafdb_root):
    _rafdb_labels(rafdb_root, raw=b'train_00001.jpg 5\ntrain_caf\xe9.jpg 1\n')
    with pytest.raises(AnnotationError, match=r'list_patition_label.txt:2: byte 0xe9 at column 10 is not UTF-8'):
        RAFDB(data_root=rafdb_root, split='train')


def test_affectnet_bom_and_repeated_images(affectnet_root):
    path = osp.join(affectnet_root, 'training.csv')
    text = open(path).read()
    open(path, 'w', encoding='utf-8-sig').write(text)  # the header's first column keeps its name
    assert list(AffectNet(data_root=affectnet_root).get_gt_labels()) == [0, 7, 6]
    open(path, 'w').write(text + '1/a.jpg,10,20,100,120,"",3,0,0\n')
    with pytest.raises(AnnotationError, match=r"training.csv:7: '1/a.jpg' is listed twice \(first at line 2\) "
                                              'with another label'):
        AffectNet(data_root=affectnet_root)
    open(path, 'wb').write(text.encode() + b'3/\xff.jpg,1,1,1,1,"",1,0,0\n')
    with pytest.raises(AnnotationError, match=r'training.csv:7: byte 0xff'):
        AffectNet(data_root=affectnet_root)


def test_ferplus_bom_repeated_images_and_unknown_usage(ferplus_root):
    path = osp.join(ferplus_root, 'fer2013new.csv')
    text = open(path).read()
    open(path, 'w', encoding='utf-8-sig').write(text)
    assert list(FERPlus(data_root=ferplus_root).get_gt_labels()) == [0, 1]
    lines = text.split('\n')
    open(path, 'w').write('\n'.join(lines[:6] + ['PublicTest,fer0000001.png,0,0,6,0,0,0,4,0,0,0']) + '\n')
    with pytest.raises(AnnotationError, match=r"fer2013new.csv:7: 'fer0000001.png' is listed twice"):
        FERPlus(data_root=ferplus_root, split='val')
    open(path, 'w').write('\n'.join(lines[:6] + ['Validation,fer0000005.png,0,0,6,0,0,0,4,0,0,0']) + '\n')
    with pytest.raises(AnnotationError, match=r"fer2013new.csv:7: usage 'Validation' names no split"):
        FERPlus(data_root=ferplus_root)


def test_ignore_empty_in_training_counts_and_logs_each_skip(rafdb_root, monkeypatch):
    logged = []
    monkeypatch.setattr('mmfer.datasets.base.print_log', lambda msg, *a, **k: logged.append(msg))
    bad = osp.join(rafdb_root, 'Image', 'aligned', 'train_00002_aligned.jpg')
    open(bad, 'wb').write(b'not a jpeg')
    pipeline = [dict(type='LoadFaceImage', ignore_empty=True), dict(type='mmpretrain.PackInputs')]
    ds = RAFDB(data_root=rafdb_root, split='train', pipeline=pipeline)
    assert ds.num_skipped == 0
    item = ds[1]  # mmengine fetches another sample in its place
    assert int(item['data_samples'].gt_label) in (4, 3)
    assert ds.num_skipped >= 1
    for _ in range(5):
        ds[1]
    assert ds.num_skipped >= 6
    assert len(logged) == ds.num_skipped and logged[0] == f'RAFDB: skipping {bad}: unreadable image (ignore_empty=True)'
