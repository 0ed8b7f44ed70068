import json
import os
import os.path as osp

import cv2
import numpy as np

from mmfer.datasets import RAFDB, SynthFER
from mmfer.datasets.synthfer import SynthFERConfig, generate, make_sample
from mmfer.datasets.synthfer.faces import CLASSES, PROTOTYPES


def test_layout_is_rafdb(synthfer_root):
    lines = open(osp.join(synthfer_root, 'EmoLabel', 'list_patition_label.txt')).read().split('\n')
    name, label = lines[0].split()
    assert name == 'train_00001.jpg' and 1 <= int(label) <= 7
    assert osp.exists(osp.join(synthfer_root, 'Image', 'aligned', 'train_00001_aligned.jpg'))
    assert sum(1 for ln in lines if ln.startswith('test_')) == 60
    # the plain RAF-DB reader reads it
    ds = RAFDB(data_root=synthfer_root, split='train')
    assert len(ds) == 140 and ds.CLASSES == CLASSES


def test_boxes_travel_and_enclose_the_face(synthfer_root):
    ds = SynthFER(data_root=synthfer_root, split='test')
    for i in range(len(ds)):
        box = ds.get_data_info(i)['gt_bboxes']
        assert box.shape == (1, 4) and box.dtype == np.float32
        x1, y1, x2, y2 = box[0]
        assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 32
        assert (x2 - x1) * (y2 - y1) > 0.1 * 32 * 32  # a labeled face is not tiny


def test_deterministic_and_independent_of_workers(tmp_path):
    cfg = SynthFERConfig(num_train=30, num_test=10, num_pool=20, img_size=24, seed=5)
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    generate(a, cfg, workers=1, progress=False)
    generate(b, cfg, workers=2, progress=False)
    for rel in ('EmoLabel/list_patition_label.txt', 'annotations/face_boxes.txt', 'pool/hidden_truth.csv'):
        assert open(osp.join(a, rel)).read() == open(osp.join(b, rel)).read()
    img_a = cv2.imread(osp.join(a, 'pool', 'images', 'pool_000007.jpg'))
    img_b = cv2.imread(osp.join(b, 'pool', 'images', 'pool_000007.jpg'))
    assert np.array_equal(img_a, img_b)
    # a second call with the same settings does nothing
    stamp = os.stat(osp.join(a, 'meta.json')).st_mtime_ns
    generate(a, cfg, workers=1, progress=False)
    assert os.stat(osp.join(a, 'meta.json')).st_mtime_ns == stamp


def test_expression_changes_the_face_identity_does_not():
    cfg = SynthFERConfig(img_size=48, au_noise=0.0, occlusion_p=0.0)
    changed = 0
    for i in range(11, 17):
        happy = make_sample(cfg, 'train', i, CLASSES.index('Happiness'))
        sad = make_sample(cfg, 'train', i, CLASSES.index('Sadness'))
        # same index -> same identity, pose and background; only the expression differs
        assert happy['identity'] == sad['identity']
        np.testing.assert_allclose(happy['box'], sad['box'])
        diff = np.abs(happy['img'].astype(int) - sad['img'].astype(int)).max(2)
        x1, y1, x2, y2 = happy['box'].astype(int)
        assert diff[y1:y2 + 1, x1:x2 + 1].sum() == diff.sum() > 0  # changes lie inside the face box
        changed += int((diff > 30).sum())
    assert changed >= 100  # and are clearly visible


def test_confusable_pairs_are_closer_than_others():
    d = lambda a, b: np.linalg.norm(PROTOTYPES[CLASSES.index(a)] - PROTOTYPES[CLASSES.index(b)])  # noqa: E731
    assert d('Fear', 'Surprise') < d('Fear', 'Happiness')
    assert d('Disgust', 'Anger') < d('Disgust', 'Surprise')
    assert d('Sadness', 'Neutral') < d('Sadness', 'Happiness')


def test_pool_has_distractors_and_hidden_truth(synthfer_root):
    rows = open(osp.join(synthfer_root, 'pool', 'hidden_truth.csv')).read().split('\n')
    assert rows[0] == 'filename,kind,label,identity'
    body = [r.split(',') for r in rows[1:] if r]
    assert len(body) == 80
    kinds = {r[1] for r in body}
    assert 'face' in kinds and kinds & {'nonface', 'occluded', 'tiny'}
    assert all(r[2] == '-1' for r in body if r[1] == 'nonface')
    listed = open(osp.join(synthfer_root, 'pool', 'list.txt')).read().split()
    assert listed == [r[0] for r in body]
    meta = json.load(open(osp.join(synthfer_root, 'meta.json')))
    assert meta['config']['num_pool'] == 80


def test_class_imbalance_follows_rafdb(tmp_path):
    cfg = SynthFERConfig(num_train=700, num_test=1, num_pool=0, img_size=16)
    generate(str(tmp_path), cfg, workers=2, progress=False)
    ds = SynthFER(data_root=str(tmp_path), split='train')
    counts = np.bincount(ds.get_gt_labels(), minlength=7)
    assert counts[CLASSES.index('Happiness')] == counts.max()
    assert counts[CLASSES.index('Fear')] == counts.min()


def test_label_noise_keeps_clean_labels(tmp_path):
    cfg = SynthFERConfig(num_train=200, num_test=1, num_pool=0, img_size=16, label_noise=0.3)
    generate(str(tmp_path), cfg, workers=1, progress=False)
    noisy = open(tmp_path / 'EmoLabel' / 'list_patition_label.txt').read().split('\n')
    clean = open(tmp_path / 'annotations' / 'clean_labels.txt').read().split('\n')
    flipped = sum(a != b for a, b in zip(noisy, clean) if a.startswith('train_'))
    assert 0.2 * 200 < flipped < 0.4 * 200
