"""The face detectors on real photographs that registry packages ship (scikit-image, matplotlib)."""
import os.path as osp

import cv2
import matplotlib
import numpy as np
import pytest
import skimage

from mmfer.models import MTCNNFaceDetector, split_detections
from mmfer.registry import TASK_UTILS

PHOTOS = {
    'astronaut': osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png'),  # Eileen Collins, frontal
    'grace_hopper': osp.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg'),  # frontal
    'camera': osp.join(osp.dirname(skimage.__file__), 'data', 'camera.png'),  # the cameraman, turned away
}


@pytest.fixture(scope='module')
def mtcnn():
    return TASK_UTILS.build(dict(type='MTCNNFaceDetector', device='cpu'))


def rotate(img, degrees):
    h, w = img.shape[:2]
    return cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h))


@pytest.mark.parametrize('name', ['astronaut', 'grace_hopper'])
def test_mtcnn_finds_the_face_and_five_landmarks_in_order(mtcnn, name):
    img = cv2.imread(PHOTOS[name])
    rows = mtcnn(img)
    assert rows.shape == (1, 15) and rows.dtype == np.float32
    [box], [score], [points] = split_detections(rows)
    assert score > 0.99
    x1, y1, x2, y2 = box
    assert (x1 <= points[:, 0]).all() and (points[:, 0] <= x2).all()
    assert (y1 <= points[:, 1]).all() and (points[:, 1] <= y2).all()
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    # the frontal cascade finds the same face
    [cascade_box] = split_detections(TASK_UTILS.build(dict(type='CascadeFaceDetector'))(img))[0]
    inter = np.clip(np.minimum(box[2:], cascade_box[2:]) - np.maximum(box[:2], cascade_box[:2]), 0, None).prod()
    union = np.prod(box[2:] - box[:2]) + np.prod(cascade_box[2:] - cascade_box[:2]) - inter
    assert inter / union > 0.5


def test_mtcnn_finds_turned_and_tilted_faces_the_cascade_misses(mtcnn):
    cascade = TASK_UTILS.build(dict(type='CascadeFaceDetector'))
    turned = cv2.imread(PHOTOS['camera'])
    tilted = rotate(cv2.imread(PHOTOS['grace_hopper']), 30)
    for img in (turned, tilted):
        assert len(cascade(img)) == 0
        assert len(mtcnn(img)) == 1
    # the tilted face's eyes tilt with it: 30 degrees anticlockwise on screen, the right eye is higher
    [points] = split_detections(mtcnn(tilted))[2]
    dx, dy = points[1] - points[0]
    assert np.degrees(np.arctan2(-dy, dx)) == pytest.approx(30, abs=8)


def test_batched_detection_equals_one_by_one(mtcnn):
    img = cv2.imread(PHOTOS['astronaut'])
    imgs = [img, img[:, ::-1].copy(), cv2.resize(img, (256, 256)), np.full((100, 100, 3), 90, np.uint8)]
    batched = mtcnn.batch(imgs)
    assert [len(b) for b in batched] == [1, 1, 1, 0]
    for b, img in zip(batched, imgs):
        np.testing.assert_allclose(b, mtcnn(img), atol=1e-2)
    assert isinstance(mtcnn, MTCNNFaceDetector)
