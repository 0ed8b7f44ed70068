"""Real photos in, aligned faces out: detection rate, alignment error and batched inference speed.

    python benchmarks/face_pipeline.py --quick

On the real face photographs that registry packages ship (scikit-image's astronaut and cameraman,
matplotlib's Grace Hopper), each rotated by 0/15/30/45 degrees:

* ``detection_rate_mtcnn`` / ``detection_rate_cascade``: share of images where the detector's best box
  holds the face (the rotated centre of the hand-checked face box, the box side within 0.5-2x of it);
* ``align_eye_error_px``: MTCNN run again on each aligned 112 px crop (``AlignFace``'s transform): mean
  distance of the eyes it finds from the template's (pixels of 112);
* ``img_s_batched`` / ``img_s_face_by_face``: images per second through ``FERInferencer`` (MTCNN, the
  quick ResNet) with all faces of ``--batch`` images in one call, against one image and one face per
  forward pass; ``batched_speedup`` is their ratio (goal > 1), ``classify_speedup`` the same for the
  classifier alone on the aligned crops.

The last line printed is one JSON object.
"""
import argparse
import os.path as osp
import time

import cv2
import matplotlib
import numpy as np
import skimage
from common import REPO, report

from mmfer.apis import FERInferencer
from mmfer.datasets.transforms import ALIGN_SCALE, align_face, face_template
from mmfer.registry import TASK_UTILS
from mmfer.structures import split_detections
from mmfer.utils import register_all_modules

QUICK_CONFIG = osp.join(REPO, 'configs', 'supervised', 'resnet18-w16_1xb64_synthfer-quick48.py')
# (x1, y1, x2, y2) of each face, checked by eye on the photo
PHOTOS = {
    'astronaut': (osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png'), (181, 62, 268, 172)),
    'camera': (osp.join(osp.dirname(skimage.__file__), 'data', 'camera.png'), (199, 119, 254, 192)),
    'grace_hopper': (osp.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg'), (174, 120, 356, 341)),
}
ANGLES = (0, 15, 30, 45)


def rotated_photos():
    """``(image, face centre, face side)`` of every photo at every angle."""
    for path, box in PHOTOS.values():
        img = cv2.imread(path)
        h, w = img.shape[:2]
        centre = np.float32([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 1])
        for angle in ANGLES:
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            yield cv2.warpAffine(img, matrix, (w, h)), matrix @ centre, max(box[2] - box[0], box[3] - box[1])


def holds_face(rows, centre, side):
    boxes = split_detections(rows)[0]
    if not len(boxes):
        return False
    x1, y1, x2, y2 = boxes[0]
    return bool(x1 <= centre[0] <= x2 and y1 <= centre[1] <= y2 and 0.5 <= max(x2 - x1, y2 - y1) / side <= 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='the settings above (about a minute)')
    parser.add_argument('--batch', type=int, default=12, help='images per batched call')
    parser.add_argument('--rounds', type=int, default=2, help='timed rounds of each arm')
    args = parser.parse_args()
    register_all_modules()
    mtcnn = TASK_UTILS.build(dict(type='MTCNNFaceDetector', device='cpu'))
    cascade = TASK_UTILS.build(dict(type='CascadeFaceDetector'))
    photos = list(rotated_photos())
    hits = dict(mtcnn=0, cascade=0)
    errors, crops = [], []
    template = face_template(112, ALIGN_SCALE)
    for img, centre, side in photos:
        rows = mtcnn(img)
        hits['mtcnn'] += holds_face(rows, centre, side)
        hits['cascade'] += holds_face(cascade(img), centre, side)
        landmarks = split_detections(rows)[2]
        if landmarks is not None and len(landmarks):
            crop = align_face(img, landmarks[0], 112, ALIGN_SCALE)[0]
            crops.append(crop)
            again = split_detections(mtcnn(cv2.resize(crop, (224, 224))))[2]
            if again is not None and len(again):
                errors.append(float(np.linalg.norm(again[0][:2] / 2 - template[:2], axis=1).mean()))

    inferencer = FERInferencer(QUICK_CONFIG, device='cpu', face_detector='mtcnn')
    imgs = [img for img, _, _ in photos][:args.batch]
    times = dict(batched=0.0, face_by_face=0.0, classify_batched=0.0, classify_one=0.0)
    for _ in range(args.rounds):
        start = time.perf_counter()
        inferencer(imgs, batch_size=32)
        times['batched'] += time.perf_counter() - start
        start = time.perf_counter()
        for img in imgs:  # the path before batching: one image per call, one face per forward pass
            inferencer(img, batch_size=1)
        times['face_by_face'] += time.perf_counter() - start
        start = time.perf_counter()
        inferencer.classify(crops, batch_size=32)
        times['classify_batched'] += time.perf_counter() - start
        start = time.perf_counter()
        inferencer.classify(crops, batch_size=1)
        times['classify_one'] += time.perf_counter() - start
    n = args.rounds * len(imgs)
    out = dict(
        benchmark='face_pipeline', quick=args.quick, images=len(photos), angles=list(ANGLES),
        detection_rate_mtcnn=round(hits['mtcnn'] / len(photos), 4),
        detection_rate_cascade=round(hits['cascade'] / len(photos), 4),
        align_eye_error_px=round(float(np.mean(errors)), 2) if errors else None, aligned_redetected=len(errors),
        img_s_batched=round(n / times['batched'], 2), img_s_face_by_face=round(n / times['face_by_face'], 2),
        batched_speedup=round(times['face_by_face'] / times['batched'], 3),
        classify_speedup=round(times['classify_one'] / times['classify_batched'], 3))
    out['goals'] = dict(detection=out['detection_rate_mtcnn'] > out['detection_rate_cascade'],
                        alignment=out['align_eye_error_px'] is not None and out['align_eye_error_px'] < 5,
                        batched_speedup=out['batched_speedup'] > 1)
    out['goal_met'] = all(out['goals'].values())
    report(out)


if __name__ == '__main__':
    main()
