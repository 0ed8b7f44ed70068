"""Facial expression recognition on an image, a folder of images or a video file.

    python demo/fer_demo.py INPUT CONFIG CHECKPOINT [--out-dir DIR] [--detector auto|mtcnn|cascade|none|mmdet]

Faces are detected (MTCNN with five landmarks by default, OpenCV's bundled cascade where
facenet-pytorch is missing or with ``--detector cascade``; ``--detector mmdet --det-config C
--det-checkpoint W`` for any mmdet detector; ``--detector none`` for pre-aligned face crops),
aligned onto a five-point template where the detector gives landmarks (else cropped with a margin)
and classified, the faces of ``--batch-size`` images or video frames in one forward pass. Written
to ``--out-dir``: each image annotated with boxes, classes and
scores (``<name>.png``; ``<name>.<ext>.png`` when two inputs share a name), a video annotated
frame by frame (``<name>_fer.mp4``), and ``results.json`` with every face's box and class scores
(per image; per frame for a video). ``results.json`` is rewritten (atomically) after every image,
so an image that cannot be read costs only itself: it is listed there with its ``error`` and the
run goes on, then exits 1 naming the failures. An output never replaces an input: an
``--out-dir`` that would is refused.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter

import cv2
import mmcv
from mmengine.utils import ProgressBar

from mmfer.apis import FERInferencer, default_device
from mmfer.utils import atomic_open

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_EXT = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', help='an image, a folder of images or a video file')
    parser.add_argument('config', help='classifier config')
    parser.add_argument('checkpoint', help='classifier checkpoint')
    parser.add_argument('--out-dir', default='outputs/fer_demo')
    parser.add_argument('--detector', default='auto', choices=['auto', 'mtcnn', 'cascade', 'none', 'mmdet'],
                        help='auto: mtcnn where facenet-pytorch is installed, else cascade')
    parser.add_argument('--no-align', action='store_true', help='margin crops even where landmarks are found')
    parser.add_argument('--batch-size', type=int, default=16, help='images or video frames per forward pass')
    parser.add_argument('--det-config', help='mmdet detector config (--detector mmdet)')
    parser.add_argument('--det-checkpoint', help='mmdet detector checkpoint (--detector mmdet)')
    parser.add_argument('--det-score-thr', type=float, default=0.5)
    parser.add_argument('--det-labels', type=int, nargs='+', help="the mmdet detector's face class ids")
    parser.add_argument('--no-face', default='skip', choices=['skip', 'whole'],
                        help='an image without a detected face: no result, or the whole image as one face')
    parser.add_argument('--max-faces', type=int, default=None)
    parser.add_argument('--margin', type=float, default=0.2, help='context added around each box')
    parser.add_argument('--device', default=None, help='default: cuda where a GPU is present, else cpu')
    parser.add_argument('--frame-step', type=int, default=1, help='classify every n-th video frame')
    return parser.parse_args()


def face_detector(args, device):
    if args.detector == 'none':
        return None
    if args.detector in ('auto', 'mtcnn', 'cascade'):
        return args.detector
    if not args.det_config:
        raise SystemExit('--detector mmdet needs --det-config (and usually --det-checkpoint)')
    return dict(type='MMDetFaceDetector', config=args.det_config, checkpoint=args.det_checkpoint,
                score_thr=args.det_score_thr, labels=args.det_labels, device=device)


def output_paths(paths, out_dir):
    """``<out_dir>/<stem>.png`` per input, ``<name>.png`` for inputs sharing a stem (``a.jpg``, ``a.png``)."""
    names = [osp.basename(p) for p in paths]
    stems = Counter(osp.splitext(n)[0] for n in names)
    outs, seen = [], Counter()
    for name in names:
        stem = osp.splitext(name)[0]
        out = osp.join(out_dir, (stem if stems[stem] == 1 else name) + '.png')
        seen[out] += 1  # an input named like "a.jpg.png" as well: number the repeat
        outs.append(out if seen[out] == 1 else f'{out[:-4]}_{seen[out]}.png')
    return outs


def refuse_overwrites(inputs, outputs):
    """``SystemExit`` when an output path is an input's."""
    real = {osp.realpath(p) for p in inputs}
    clash = [o for o in outputs if osp.realpath(o) in real]
    if clash:
        raise SystemExit(f'{clash[0]} is an input; writing it would destroy it: choose another --out-dir')


def dump_atomic(obj, path):
    with atomic_open(path) as f:
        json.dump(obj, f, indent=1)


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def classify_chunk(inferencer, paths, imgs, batch_size):
    """``{path: result}`` of the readable images of a chunk in one inferencer call; if that call fails, one
    call per image, so the image that fails gets its error (in ``imgs``) and costs only itself."""
    try:
        return dict(zip(paths, inferencer([imgs[p] for p in paths], batch_size=batch_size))) if paths else {}
    except Exception:
        found = {}
        for path in paths:
            try:
                found[path] = inferencer(imgs[path], batch_size=batch_size)[0]
            except Exception as e:
                imgs[path] = e
        return found


def run_images(inferencer, paths, out_dir, results_file, batch_size):
    outputs = output_paths(paths, out_dir)
    refuse_overwrites(paths, outputs + [results_file])
    results, bar = [], ProgressBar(len(paths))
    for chunk in chunks(list(zip(paths, outputs)), batch_size):
        imgs = {}
        for path, _ in chunk:
            try:
                img = mmcv.imread(path)
                if img is None:
                    raise ValueError(f'cannot read the image {path}')
                imgs[path] = img
            except Exception as e:  # one bad file costs only itself
                imgs[path] = e
        good = [p for p, _ in chunk if not isinstance(imgs[p], Exception)]
        found = classify_chunk(inferencer, good, imgs, batch_size)
        for path, output in chunk:
            try:
                if path not in found:
                    raise imgs[path]
                result = dict(img_path=path, **found[path])
                if not cv2.imwrite(output, inferencer.draw(imgs[path], result)):
                    raise OSError(f'cannot write {output}')
                result['output'] = output
            except Exception as e:
                result = dict(img_path=path, error=f'{type(e).__name__}: {e}')
                print(f'\n{path}: skipped ({result["error"]})', file=sys.stderr)
            results.append(result)
            bar.update()
        dump_atomic(results, results_file)
    return results


def run_video(inferencer, path, out_dir, frame_step, results_file, batch_size):
    video = mmcv.VideoReader(path)
    if not video.opened or video.frame_cnt == 0:
        raise SystemExit(f'cannot read the video {path}: no frames (not a video, or a codec OpenCV lacks)')
    out = osp.join(out_dir, f'{osp.splitext(osp.basename(path))[0]}_fer.mp4')
    refuse_overwrites([path], [out, results_file])
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), video.fps, (video.width, video.height))
    frames, bar = [], ProgressBar(video.frame_cnt)
    record = dict(video=path, output=out, fps=video.fps, frames=frames)
    state = dict(last=None)

    def flush(buffer):
        """Classify the buffered frames that are due (every ``frame_step``-th) in one call; write them all."""
        due = [(i, f) for i, f in buffer if i % frame_step == 0]
        found = dict(zip([i for i, _ in due], inferencer([f for _, f in due], batch_size=batch_size))) if due else {}
        for index, frame in buffer:
            if index in found:
                state['last'] = dict(found[index], frame=index)
                frames.append(state['last'])
            writer.write(inferencer.draw(frame, state['last']))  # skipped frames show the last result
            bar.update()

    buffer = []
    try:
        for index, frame in enumerate(video):
            if frame is None:
                break
            buffer.append((index, frame))
            if sum(i % frame_step == 0 for i, _ in buffer) == batch_size:
                flush(buffer)
                buffer = []
        flush(buffer)
    finally:
        writer.release()
        dump_atomic(record, results_file)
    if not frames:
        os.remove(out)
        raise SystemExit(f'cannot read the video {path}: no frame could be decoded')
    return record


def main():
    args = parse_args()
    if osp.isdir(args.input):
        if osp.realpath(args.out_dir) == osp.realpath(args.input):
            raise SystemExit(f'--out-dir {args.out_dir} is the input folder: the annotated copies would mix '
                             'with (or replace) the inputs; choose another')
        paths = sorted(p for p in (osp.join(args.input, f) for f in os.listdir(args.input))
                       if p.lower().endswith(IMAGE_EXT) and osp.isfile(p))
        if not paths:
            raise SystemExit(f'no images ({", ".join(IMAGE_EXT)}) in {args.input}')
    elif not osp.isfile(args.input):
        raise SystemExit(f'no such file or folder: {args.input}')
    device = args.device or default_device()
    inferencer = FERInferencer(args.config, args.checkpoint, device=device, face_detector=face_detector(args, device),
                               margin=args.margin, align=not args.no_align, no_face=args.no_face,
                               max_faces=args.max_faces)
    os.makedirs(args.out_dir, exist_ok=True)
    out = osp.join(args.out_dir, 'results.json')
    if osp.isdir(args.input):
        results = run_images(inferencer, paths, args.out_dir, out, args.batch_size)
    elif args.input.lower().endswith(VIDEO_EXT):
        results = run_video(inferencer, args.input, args.out_dir, args.frame_step, out, args.batch_size)
    else:
        results = run_images(inferencer, [args.input], args.out_dir, out, args.batch_size)
    items = results['frames'] if isinstance(results, dict) else results
    failed = [r for r in items if 'error' in r]
    faces = [r['faces'] for r in items if 'error' not in r]
    print(f'\n{sum(map(len, faces))} faces in {len(faces)} {"frames" if isinstance(results, dict) else "images"} '
          f'({sum(not f for f in faces)} without a face); results in {out}')
    if failed:
        raise SystemExit(f'{len(failed)} of {len(items)} images could not be read or classified (their "error" is '
                         f'in {out}): ' + ', '.join(r['img_path'] for r in failed[:5]))


if __name__ == '__main__':
    main()
