"""FERInferencer, the face detectors, DetectFaceBox, demo/fer_demo.py and the ONNX export."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmfer.apis import FERInferencer
from mmfer.datasets.rafdb import RAFDB_CLASSES
from mmfer.registry import TASK_UTILS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = ['model.backbone.base_channels=8', 'model.backbone.stem_channels=8', 'model.head.in_channels=64']


@pytest.fixture(scope='module')
def classifier(synthfer_root, tmp_path_factory):
    """A tiny ResNet config (32 px test pipeline) and a checkpoint of its random weights."""
    from mmfer.apis import build_classifier
    out = tmp_path_factory.mktemp('classifier')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'supervised', 'resnet18_1xb64_synthfer.py'))
    cfg.merge_from_dict({k: eval(v) for k, v in (o.split('=') for o in TINY)})
    cfg.test_dataloader.dataset.update(data_root=synthfer_root, pipeline=[
        dict(type='LoadFaceImage'), dict(type='mmpretrain.Resize', scale=(32, 32), backend='cv2'),
        dict(type='mmpretrain.PackInputs')])
    cfg.dump(str(out / 'tiny.py'))
    torch.manual_seed(0)
    model = build_classifier(str(out / 'tiny.py'))
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': list(RAFDB_CLASSES)}}},
               str(out / 'tiny.pth'))
    return str(out / 'tiny.py'), str(out / 'tiny.pth')


def _faces(root):
    return sorted(glob.glob(osp.join(root, 'Image', 'aligned', 'test_*.jpg')))


@pytest.fixture(scope='module')
def canvas(synthfer_root):
    """A grey 1 x 3 canvas of 160 px faces the cascade finds one by one, and where each was put."""
    detector = TASK_UTILS.build(dict(type='CascadeFaceDetector'))
    tiles = [t for t in (cv2.resize(cv2.imread(f), (160, 160)) for f in _faces(synthfer_root))
             if len(detector(t)) == 1][:3]
    assert len(tiles) == 3, 'the tiny set should hold at least 3 faces the cascade finds'
    img = np.full((240, 3 * 220, 3), 128, np.uint8)
    places = []
    for k, tile in enumerate(tiles):
        x = 30 + 220 * k
        img[40:200, x:x + 160] = tile
        places.append((x, 40, x + 160, 200))
    return img, places


def _direct(inferencer, crop):
    """Class probabilities of one BGR crop through the test pipeline and the model's test_step."""
    data = inferencer.pipeline(dict(img=crop, img_shape=crop.shape[:2], ori_shape=crop.shape[:2]))
    batch = dict(inputs=data['inputs'][None], data_samples=[data['data_samples']])
    return inferencer.model.test_step(batch)[0].pred_score.detach().numpy()


def test_aligned_face_is_one_face(classifier, synthfer_root):
    inferencer = FERInferencer(*classifier, face_detector=None)
    path = _faces(synthfer_root)[0]
    [result] = inferencer(path)
    [face] = result['faces']
    assert result['img_path'] == path and face['bbox'] == [0.0, 0.0, 32.0, 32.0] and face['detected']
    assert face['pred_class'] == RAFDB_CLASSES[face['pred_label']] and abs(sum(face['pred_scores']) - 1) < 1e-5
    expected = _direct(inferencer, cv2.imread(path))
    np.testing.assert_allclose(face['pred_scores'], expected, atol=1e-6)
    assert face['pred_score'] == pytest.approx(expected.max()) and face['pred_label'] == int(expected.argmax())


def test_several_faces_detected_cropped_and_classified(classifier, canvas):
    img, places = canvas
    inferencer = FERInferencer(*classifier, face_detector='cascade', margin=0.0)
    [result] = inferencer(img)
    assert 'img_path' not in result and (result['height'], result['width']) == img.shape[:2]
    assert len(result['faces']) == 3
    for face in result['faces']:
        x1, y1, x2, y2 = face['bbox']
        inside = [p for p in places if p[0] <= x1 and p[1] <= y1 and x2 <= p[2] and y2 <= p[3]]
        assert len(inside) == 1 and face['detected']
        crop = img[int(y1):int(y2), int(x1):int(x2)]
        np.testing.assert_allclose(face['pred_scores'], _direct(inferencer, crop), atol=1e-6)
    assert [f['det_score'] for f in result['faces']] == sorted((f['det_score'] for f in result['faces']), reverse=True)
    assert len(FERInferencer(*classifier, face_detector='cascade', max_faces=2)(img)[0]['faces']) == 2


def test_margin_crop_is_clipped_to_the_image(classifier):
    inferencer = FERInferencer(*classifier, face_detector=None, margin=0.5)
    img = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    crop = inferencer.crop(img, [10, 20, 30, 60])  # 20 x 40 box grows by 10 x 20 on each side
    np.testing.assert_array_equal(crop, img[0:80, 0:40])


def test_image_without_a_face(classifier):
    blank = np.full((120, 100, 3), 90, np.uint8)
    assert FERInferencer(*classifier)(blank)[0]['faces'] == []
    [face] = FERInferencer(*classifier, no_face='whole')(blank)[0]['faces']
    assert face['bbox'] == [0.0, 0.0, 100.0, 120.0] and face['detected'] is False
    with pytest.raises(ValueError, match='no_face'):
        FERInferencer(*classifier, no_face='drop')


def test_detect_face_box_transform(canvas):
    img, places = canvas
    single = np.ascontiguousarray(img[:, :220])
    transform = TRANSFORMS.build(dict(type='DetectFaceBox'))
    out = transform(dict(img=single))
    assert out['face_detected'] and out['gt_bboxes'].shape == (1, 4) and out['gt_bboxes'].dtype == np.float32
    x1, y1, x2, y2 = out['gt_bboxes'][0]
    assert places[0][0] <= x1 < x2 <= places[0][2] and places[0][1] <= y1 < y2 <= places[0][3]
    annotated = np.array([[1, 2, 3, 4]], np.float32)
    kept = transform(dict(img=single, gt_bboxes=annotated.copy()))
    np.testing.assert_array_equal(kept['gt_bboxes'], annotated)
    replaced = TRANSFORMS.build(dict(type='DetectFaceBox', overwrite=True))(dict(img=single, gt_bboxes=annotated))
    np.testing.assert_array_equal(replaced['gt_bboxes'], out['gt_bboxes'])
    none = transform(dict(img=np.full((100, 100, 3), 90, np.uint8)))
    assert none['face_detected'] is False and 'gt_bboxes' not in none


def test_demo_on_a_folder_and_a_video(classifier, canvas, tmp_path, run_tool):
    img, _ = canvas
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'three.png'), img)
    cv2.imwrite(str(folder / 'blank.jpg'), np.full((64, 64, 3), 90, np.uint8))
    (folder / 'notes.txt').write_text('not an image')
    run = lambda *a: run_tool('demo/fer_demo.py', *a, *classifier, '--out-dir', tmp_path / 'out',  # noqa: E731
                              '--detector', 'cascade')
    code, log = run(folder)
    assert code == 0, log[-3000:]
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [len(r['faces']) for r in results] == [0, 3]  # blank.jpg, three.png
    drawn = cv2.imread(str(tmp_path / 'out' / 'three.png'))
    assert drawn.shape == img.shape and np.abs(drawn.astype(int) - img).sum() > 0

    video = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5, (img.shape[1], img.shape[0]))
    for _ in range(4):
        writer.write(img)
    writer.release()
    code, log = run(video, '--frame-step', '2')
    assert code == 0, log[-3000:]
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [f['frame'] for f in results['frames']] == [0, 2] and all(len(f['faces']) == 3 for f in results['frames'])
    annotated = cv2.VideoCapture(results['output'])
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    assert run(tmp_path / 'missing.png')[0] != 0


def test_onnx_export_matches_pytorch(classifier, synthfer_root, tmp_path, run_tool):
    onnx = str(tmp_path / 'tiny.onnx')
    code, log = run_tool('tools/deployment/pytorch2onnx.py', *classifier, '--out', onnx, '--check',
                         *_faces(synthfer_root)[:4])
    assert code == 0, log[-3000:]
    summary = json.loads(log.strip().splitlines()[-1])
    assert summary['ok'] and summary['max_abs_diff'] <= 1e-4 and summary['checked_images'] == 4
    assert summary['input_size'] == [32, 32] and summary['classes'] == list(RAFDB_CLASSES)
    # the graph takes any batch size
    import onnxruntime
    probs = onnxruntime.InferenceSession(onnx).run(None, {'input': np.zeros((3, 3, 32, 32), np.float32)})[0]
    assert probs.shape == (3, 7) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_rafdb_stage2_pipeline_detects_and_resizes_the_box(canvas, tmp_path):
    """RAF-DB has no boxes: the stage II pipeline detects one on the loaded image, then mmcv's Resize and
    RandomFlip carry it to the 224 px network input."""
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope
    img, _ = canvas
    single = np.ascontiguousarray(img[:, :220])  # 240 x 220
    cv2.imwrite(str(tmp_path / 'face.png'), single)
    found = TASK_UTILS.build(dict(type='CascadeFaceDetector'))(single)[0, :4]
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', 'stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py'))
    with DefaultScope.overwrite_default_scope('mmfer'):
        pipeline = Compose([TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline])
    expected = found * [224 / 220, 224 / 240, 224 / 220, 224 / 240]
    flipped = np.array([224 - expected[2], expected[1], 224 - expected[0], expected[3]])
    seen = set()
    np.random.seed(0)  # mmcv's RandomFlip draws from numpy
    for _ in range(12):
        out = pipeline(dict(img_path=str(tmp_path / 'face.png'), gt_label=0))
        assert tuple(out['inputs'].shape) == (3, 224, 224)
        box = np.asarray(out['data_samples'].gt_bboxes).reshape(4)
        seen.add(bool(np.allclose(box, flipped, atol=1e-3)))
        assert np.allclose(box, expected, atol=1e-3) or np.allclose(box, flipped, atol=1e-3)
    assert seen == {True, False}  # both flips happened
    blank = tmp_path / 'blank.png'
    cv2.imwrite(str(blank), np.full((100, 100, 3), 90, np.uint8))
    assert 'gt_bboxes' not in pipeline(dict(img_path=str(blank), gt_label=0))['data_samples']


@pytest.fixture(scope='module')
def foreign_checkpoints(classifier, tmp_path_factory):
    """Checkpoints the tiny config's model cannot take: an 8-class head, and another architecture."""
    from mmfer.apis import build_classifier
    out = tmp_path_factory.mktemp('foreign')
    cfg = Config.fromfile(classifier[0])
    cfg.model.head.num_classes = 8
    torch.save({'state_dict': build_classifier(cfg).state_dict()}, str(out / 'eight.pth'))
    cfg = Config.fromfile(classifier[0])
    cfg.model.backbone.depth = 34
    torch.save({'state_dict': build_classifier(cfg).state_dict()}, str(out / 'deeper.pth'))
    return str(out / 'eight.pth'), str(out / 'deeper.pth')


def test_inference_and_export_refuse_a_checkpoint_of_another_model(classifier, foreign_checkpoints, tmp_path,
                                                                   run_tool):
    from mmfer.utils import CheckpointError
    eight, deeper = foreign_checkpoints
    with pytest.raises(CheckpointError, match=r'eight.pth does not fit the ImageClassifier of the config: 2 keys of '
                                              r'another shape \(head.fc.bias \(checkpoint \(8,\), model \(7,\)\)'):
        FERInferencer(classifier[0], eight, face_detector=None)
    with pytest.raises(CheckpointError, match=r'deeper.pth does not fit .*: \d+ unexpected keys \(backbone.layer1.2'):
        FERInferencer(classifier[0], deeper, face_detector=None)
    cv2.imwrite(str(tmp_path / 'face.png'), np.full((48, 48, 3), 120, np.uint8))
    with pytest.raises(CheckpointError, match='eight.pth does not fit'):
        run_tool('demo/fer_demo.py', tmp_path / 'face.png', classifier[0], eight, '--out-dir', tmp_path / 'out')
    with pytest.raises(CheckpointError, match='deeper.pth does not fit'):
        run_tool('tools/deployment/pytorch2onnx.py', classifier[0], deeper, '--out', tmp_path / 'x.onnx')
    assert not osp.exists(tmp_path / 'x.onnx') and not osp.exists(tmp_path / 'out' / 'results.json')


def test_demo_never_overwrites_and_keeps_every_result(classifier, tmp_path, run_tool):
    folder = tmp_path / 'in'
    folder.mkdir()
    face = np.full((48, 48, 3), 120, np.uint8)
    cv2.imwrite(str(folder / 'a.jpg'), face)
    cv2.imwrite(str(folder / 'a.png'), face + 10)
    cv2.imwrite(str(folder / 'b.png'), face + 20)
    (folder / 'broken.jpg').write_bytes(b'not an image')
    (folder / 'x.jpg').mkdir()  # a folder is not an image
    before = (folder / 'b.png').read_bytes()
    run = lambda src, out, *a: run_tool('demo/fer_demo.py', src, *classifier, '--out-dir', out,  # noqa: E731
                                        '--detector', 'none', *a)
    code, log = run(folder, folder)
    assert code == 1 and f'--out-dir {folder} is the input folder' in log
    code, log = run(folder / 'b.png', folder)
    assert code == 1 and f'{folder}/b.png is an input; writing it would destroy it' in log
    assert (folder / 'b.png').read_bytes() == before
    code, log = run(folder, tmp_path / 'out')
    assert code == 1 and '1 of 4 images could not be read or classified' in log and 'broken.jpg' in log
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [osp.basename(r['img_path']) for r in results] == ['a.jpg', 'a.png', 'b.png', 'broken.jpg']
    outputs = [r.get('output') for r in results]
    assert [osp.basename(o) for o in outputs[:3]] == ['a.jpg.png', 'a.png.png', 'b.png'] and outputs[3] is None
    assert all(osp.isfile(o) for o in outputs[:3]) and 'cannot read the image' in results[3]['error']
    assert [len(r['faces']) for r in results[:3]] == [1, 1, 1]


def test_demo_on_a_file_that_is_no_video(classifier, tmp_path, run_tool):
    fake = tmp_path / 'clip.mp4'
    fake.write_text('not a video')
    code, log = run_tool('demo/fer_demo.py', fake, *classifier, '--out-dir', tmp_path / 'out', '--detector', 'none')
    assert code == 1 and f'cannot read the video {fake}: no frames' in log
    assert not osp.exists(tmp_path / 'out' / 'results.json')


def test_real_photo_detect_align_classify(classifier):
    """The astronaut photo through MTCNN: one face, aligned, its landmarks in the result, and its class
    scores those of the aligned crop through the test pipeline."""
    import skimage

    from mmfer.datasets.transforms import ALIGN_SCALE, align_face
    path = osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png')
    inferencer = FERInferencer(*classifier, device='cpu', face_detector='mtcnn')
    [result] = inferencer(path)
    [face] = result['faces']
    assert face['aligned'] and face['detected'] and len(face['landmarks']) == 5
    x1, y1, x2, y2 = face['bbox']
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in face['landmarks'])
    crop = align_face(cv2.imread(path), np.float32(face['landmarks']), 112, ALIGN_SCALE)[0]
    np.testing.assert_allclose(face['pred_scores'], _direct(inferencer, crop), atol=1e-6)
    unaligned = FERInferencer(*classifier, device='cpu', face_detector='mtcnn', align=False, margin=0.0)(path)[0]
    assert unaligned['faces'][0]['aligned'] is False
    assert not np.allclose(unaligned['faces'][0]['pred_scores'], face['pred_scores'], atol=1e-6)


def test_batched_inference_equals_face_by_face(classifier, canvas):
    """Every face of every image in one call, 4 faces per forward pass, gives each image's own results."""
    img, _ = canvas
    inferencer = FERInferencer(*classifier, device='cpu', face_detector='cascade')
    imgs = [img, img[:, :220].copy(), np.full((90, 90, 3), 90, np.uint8), img[:, ::-1].copy()]
    together = inferencer(imgs, batch_size=4)
    alone = [inferencer(i, batch_size=1)[0] for i in imgs]
    assert [len(r['faces']) for r in together] == [len(r['faces']) for r in alone] == [3, 1, 0, 3]
    for t, a in zip(together, alone):
        for ft, fa in zip(t['faces'], a['faces']):
            assert ft['bbox'] == fa['bbox']
            np.testing.assert_allclose(ft['pred_scores'], fa['pred_scores'], atol=1e-5)


def test_demo_detects_aligns_and_batches_real_photos_by_default(classifier, tmp_path, run_tool):
    """The demo's default detector on a folder of real photos (two per call): every face found, with its
    landmarks, aligned, and drawn."""
    import matplotlib
    import skimage
    folder = tmp_path / 'photos'
    folder.mkdir()
    for name, path in (('astronaut.png', osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png')),
                       ('camera.png', osp.join(osp.dirname(skimage.__file__), 'data', 'camera.png')),
                       ('hopper.jpg', osp.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg'))):
        cv2.imwrite(str(folder / name), cv2.imread(path))
    code, log = run_tool('demo/fer_demo.py', folder, *classifier, '--out-dir', tmp_path / 'out', '--device', 'cpu',
                         '--batch-size', '2')
    assert code == 0, log[-3000:]
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [osp.basename(r['img_path']) for r in results] == ['astronaut.png', 'camera.png', 'hopper.jpg']
    for r in results:
        [face] = r['faces']
        assert face['aligned'] and len(face['landmarks']) == 5 and osp.isfile(r['output'])


def test_demo_image_that_fails_inside_a_batch_costs_only_itself(classifier, tmp_path, run_tool, monkeypatch):
    """An image that reads but fails in inference (here: made to) fails its batch; the demo then takes that
    batch's images one by one, so the others keep their results."""
    folder = tmp_path / 'in'
    folder.mkdir()
    for name, side in (('a.png', 48), ('bad.png', 77), ('c.png', 48)):
        cv2.imwrite(str(folder / name), np.full((side, side, 3), 120, np.uint8))
    faces = FERInferencer.faces

    def failing(self, img, rows):
        if img.shape[0] == 77:
            raise RuntimeError('made to fail')
        return faces(self, img, rows)

    monkeypatch.setattr(FERInferencer, 'faces', failing)
    code, log = run_tool('demo/fer_demo.py', folder, *classifier, '--out-dir', tmp_path / 'out', '--detector', 'none',
                         '--batch-size', '3')
    assert code == 1 and '1 of 3 images could not be read or classified' in log
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [len(r.get('faces', [])) for r in results] == [1, 0, 1] and 'made to fail' in results[1]['error']
