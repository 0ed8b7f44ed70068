"""Facial expression recognition on an image, a folder of images or a video file.

    python demo/fer_demo.py INPUT CONFIG CHECKPOINT [--out-dir DIR] [--detector cascade|none|mmdet]

Faces are detected (OpenCV's bundled cascade by default; ``--detector mmdet --det-config C
--det-checkpoint W`` for any mmdet detector; ``--detector none`` for pre-aligned face crops),
cropped and classified. Written to ``--out-dir``: each image annotated with boxes, classes and
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
    parser.add_argument('--detector', default='cascade', choices=['cascade', 'none', 'mmdet'])
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
    if args.detector == 'cascade':
        return dict(type='CascadeFaceDetector')
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


def run_images(inferencer, paths, out_dir, results_file):
    outputs = output_paths(paths, out_dir)
    refuse_overwrites(paths, outputs + [results_file])
    results, bar = [], ProgressBar(len(paths))
    for path, output in zip(paths, outputs):
        try:
            result = inferencer(path)[0]
            if not cv2.imwrite(output, inferencer.draw(mmcv.imread(path), result)):
                raise OSError(f'cannot write {output}')
            result['output'] = output
        except Exception as e:  # one bad file costs only itself
            result = dict(img_path=path, error=f'{type(e).__name__}: {e}')
            print(f'\n{path}: skipped ({result["error"]})', file=sys.stderr)
        results.append(result)
        dump_atomic(results, results_file)
        bar.update()
    return results


def run_video(inferencer, path, out_dir, frame_step, results_file):
    video = mmcv.VideoReader(path)
    if not video.opened or video.frame_cnt == 0:
        raise SystemExit(f'cannot read the video {path}: no frames (not a video, or a codec OpenCV lacks)')
    out = osp.join(out_dir, f'{osp.splitext(osp.basename(path))[0]}_fer.mp4')
    refuse_overwrites([path], [out, results_file])
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), video.fps, (video.width, video.height))
    frames, result, bar = [], None, ProgressBar(video.frame_cnt)
    record = dict(video=path, output=out, fps=video.fps, frames=frames)
    try:
        for index, frame in enumerate(video):
            if frame is None:
                break
            if index % frame_step == 0:
                result = dict(inferencer(frame)[0], frame=index)
                frames.append(result)
            writer.write(inferencer.draw(frame, result))  # skipped frames show the last result
            bar.update()
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
                               margin=args.margin, no_face=args.no_face, max_faces=args.max_faces)
    os.makedirs(args.out_dir, exist_ok=True)
    out = osp.join(args.out_dir, 'results.json')
    if osp.isdir(args.input):
        results = run_images(inferencer, paths, args.out_dir, out)
    elif args.input.lower().endswith(VIDEO_EXT):
        results = run_video(inferencer, args.input, args.out_dir, args.frame_step, out)
    else:
        results = run_images(inferencer, [args.input], args.out_dir, out)
    items = results['frames'] if isinstance(results, dict) else results
    failed = [r for r in items if 'error' in r]
    faces = [r['faces'] for r in items if 'error' not in r]
    print(f'\n{sum(map(len, faces))} faces in {len(faces)} {"frames" if isinstance(results, dict) else "images"} '
          f'({sum(not f for f in faces)} without a face); results in {out}')
    if failed:
        raise SystemExit(f'{len(failed)} of {len(items)} images could not be read (their "error" is in {out}): '
                         + ', '.join(r['img_path'] for r in failed[:5]))


if __name__ == '__main__':
    main()
