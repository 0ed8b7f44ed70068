"""AlignFace: the similarity transform of five landmarks onto the template, on points and on a real photo."""
import cv2
import numpy as np
import pytest

from mmfer.datasets.transforms import ALIGN_SCALE, AlignFace, face_template, similarity_matrix, transform_points
from mmfer.registry import TASK_UTILS, TRANSFORMS
from mmfer.structures import split_detections


def similar(points, degrees, scale, shift):
    t = np.radians(degrees)
    rot = scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
    return points @ rot.T + np.float32(shift)


def test_similarity_matrix_recovers_a_rotation_scale_and_shift():
    template = face_template(112)
    src = similar(template, 25, 1.7, (30, 40))
    matrix = similarity_matrix(src, template)
    np.testing.assert_allclose(transform_points(src, matrix), template, atol=1e-3)
    assert np.linalg.det(matrix[:, :2]) == pytest.approx(1 / 1.7**2, rel=1e-4)  # no reflection, scale 1/1.7
    # noisy points: the least-squares fit, not an exact one; a mirror image is never fitted by reflecting
    mirrored = src * np.float32([-1, 1])
    assert np.linalg.det(similarity_matrix(mirrored, template)[:, :2]) > 0


def test_align_face_moves_landmarks_and_box_onto_the_template():
    template = face_template(224, 1.0)
    landmarks = similar(template, -15, 0.6, (50, 20))
    img = np.zeros((300, 260, 3), np.uint8)
    box = np.array([[landmarks[:, 0].min() - 10, landmarks[:, 1].min() - 20, landmarks[:, 0].max() + 10,
                     landmarks[:, 1].max() + 10]], np.float32)
    out = TRANSFORMS.build(dict(type='AlignFace', size=112, scale=1.0))(
        dict(img=img, gt_landmarks=landmarks, gt_bboxes=box.copy()))
    assert out['img'].shape == (112, 112, 3) and out['img_shape'] == (112, 112) and out['aligned']
    np.testing.assert_allclose(out['gt_landmarks'], face_template(112, 1.0), atol=1e-3)
    x1, y1, x2, y2 = out['gt_bboxes'][0]
    assert (x1 <= out['gt_landmarks'][:, 0]).all() and (out['gt_landmarks'][:, 0] <= x2).all()
    assert (y1 <= out['gt_landmarks'][:, 1]).all() and (out['gt_landmarks'][:, 1] <= y2).all()
    untouched = AlignFace()(dict(img=img))
    assert untouched['aligned'] is False and untouched['img'] is img


def test_real_photo_detect_then_align_puts_the_eyes_on_the_template():
    """DetectFaceBox (MTCNN) -> AlignFace on the astronaut photo, tilted by 30 degrees: MTCNN run again on
    the aligned crop finds the eyes where the template puts them, within 5 pixels of 112."""
    import os.path as osp

    import skimage
    img = cv2.imread(osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png'))
    tilted = cv2.warpAffine(img, cv2.getRotationMatrix2D((256, 256), 30, 1.0), (512, 512))
    detector = dict(type='MTCNNFaceDetector', device='cpu')
    results = TRANSFORMS.build(dict(type='DetectFaceBox', detector=detector))(dict(img=tilted))
    assert results['face_detected'] and results['gt_landmarks'].shape == (5, 2)
    results = TRANSFORMS.build(dict(type='AlignFace', size=112))(results)
    template = face_template(112, ALIGN_SCALE)
    again = split_detections(TASK_UTILS.build(detector)(cv2.resize(results['img'], (224, 224))))[2]
    assert again is not None and len(again) == 1
    eyes = again[0][:2] / 2
    assert np.abs(eyes - template[:2]).max() < 5, (eyes, template[:2])
