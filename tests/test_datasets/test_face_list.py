"""FaceList: the mined and distilled sets' format, including faces that live in a RecordIO pool."""
import cv2
import numpy as np
import pytest

from mmfer.datasets import AnnotationError, FaceList, UnlabeledFaces
from mmfer.datasets.recordio import write_recordio
from mmfer.datasets.transforms import LabelToScore

PIPE = [dict(type='LoadFaceImage'), dict(type='mmpretrain.PackInputs')]
CLASSES = ('Surprise', 'Fear', 'Disgust')


def _encode(value, size=16):
    return cv2.imencode('.png', np.full((size, size, 3), value, np.uint8))[1].tobytes()


def test_reads_paths_labels_and_scores(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'a.png').write_bytes(_encode(40))
    (tmp_path / 'b.png').write_bytes(_encode(200))
    (tmp_path / 'list.txt').write_text(f'images/a.png\t2\n\n{tmp_path}/b.png\t0\t0.97\t0.81\n')
    ds = FaceList(ann_file='list.txt', data_root=str(tmp_path), classes=CLASSES, pipeline=PIPE)
    assert len(ds) == 2 and ds.metainfo['classes'] == CLASSES
    first, second = ds.get_data_info(0), ds.get_data_info(1)
    assert first['img_path'] == str(tmp_path / 'images' / 'a.png') and first['gt_label'] == 2
    assert 'confidence' not in first
    assert second['img_path'] == str(tmp_path / 'b.png')  # absolute paths are kept
    assert (second['confidence'], second['similarity']) == (pytest.approx(0.97), pytest.approx(0.81))
    assert int(ds[0]['inputs'].float().mean()) == 40 and int(ds[1]['data_samples'].gt_label) == 0


def test_class_probabilities_become_the_target_with_soft_target(tmp_path):
    (tmp_path / 'a.png').write_bytes(_encode(40))
    (tmp_path / 'b.png').write_bytes(_encode(90))
    (tmp_path / 'list.txt').write_text('a.png\t1\t0.7\t0.8\t0.1,0.7,0.2\n')
    (tmp_path / 'hard.txt').write_text('b.png\t2\n')
    hard = FaceList(ann_file='list.txt', data_root=str(tmp_path), classes=CLASSES, pipeline=PIPE)
    assert hard.get_data_info(0)['probs'].tolist() == pytest.approx([0.1, 0.7, 0.2])
    assert 'gt_score' not in hard[0]['data_samples']  # kept, not trained on
    # soft: the probabilities are the target; with LabelToScore a hard-labeled face gets a one-hot one
    pipe = [PIPE[0], dict(type='LabelToScore', num_classes=3), PIPE[1]]
    soft = FaceList(ann_file='list.txt', data_root=str(tmp_path), classes=CLASSES, pipeline=pipe, soft_target=True)
    assert soft[0]['data_samples'].gt_score.tolist() == pytest.approx([0.1, 0.7, 0.2])
    assert int(soft[0]['data_samples'].gt_label) == 1
    other = FaceList(ann_file='hard.txt', data_root=str(tmp_path), classes=CLASSES, pipeline=pipe)
    assert other[0]['data_samples'].gt_score.tolist() == [0., 0., 1.]
    assert LabelToScore(3)(dict(gt_label=0, gt_score=np.array([.5, .5, 0.])))['gt_score'].tolist() == [.5, .5, 0.]


def test_soft_target_needs_probabilities(tmp_path):
    (tmp_path / 'list.txt').write_text('a.png\t1\t0.7\t0.8\n')
    with pytest.raises(AnnotationError, match='list.txt:1: soft_target=True needs class probabilities'):
        FaceList(ann_file=str(tmp_path / 'list.txt'), classes=CLASSES, soft_target=True)


@pytest.mark.parametrize('line,lineno,why', [('a.png', 2, 'expected'), ('a.png\tx', 2, 'expected'),
                                             ('a.png\t3', 2, 'unknown class id 3'), ('a.png\t1\t0.9', 2, 'expected'),
                                             ('a.png\t1\t0.9\t0.8\t0.5,0.5', 2, 'expected'),
                                             ('a.png\t-1', 2, 'unknown class id -1'),
                                             ('ok.png\t1', 2, r"'ok.png' is listed twice \(first at line 1\) "
                                              r'with another label \(0 there, 1 here\)')])
def test_bad_lines_name_file_and_line(tmp_path, line, lineno, why):
    (tmp_path / 'list.txt').write_text(f'ok.png\t0\n{line}\n')
    with pytest.raises(AnnotationError, match=rf'list.txt:{lineno}: .*{why}'):
        FaceList(ann_file=str(tmp_path / 'list.txt'), classes=CLASSES)


def test_missing_list_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.txt'):
        FaceList(ann_file=str(tmp_path / 'nothing.txt'), classes=CLASSES)


def test_faces_mined_from_a_recordio_pool_load_by_address(tmp_path):
    rec, idx = str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx')
    write_recordio(rec, idx, [_encode(v) for v in (20, 120, 220)])
    pool = UnlabeledFaces(data_root=str(tmp_path), ann_file='train.rec', pipeline=PIPE, test_mode=True)
    address = pool.get_data_info(2)['img_path']
    assert address.startswith(rec + '@')
    (tmp_path / 'mined.txt').write_text(f'{address}\t1\t0.99\t0.9\n')
    ds = FaceList(ann_file=str(tmp_path / 'mined.txt'), classes=CLASSES, pipeline=PIPE)
    assert int(ds[0]['inputs'].float().mean()) == 220
