"""Facial expression recognition on an image, a folder of images or a video file.

    python demo/fer_demo.py INPUT CONFIG CHECKPOINT [--out-dir DIR] [--detector cascade|none|mmdet]

Faces are detected (OpenCV's bundled cascade by default; ``--detector mmdet --det-config C
--det-checkpoint W`` for any mmdet detector; ``--detector none`` for pre-aligned face crops),
cropped and classified. Written to ``--out-dir``: each image annotated with boxes, classes and
scores (``<name>.png``), a video annotated frame by frame (``<name>_fer.mp4``), and
``results.json`` with every face's box and class scores (per image; per frame for a video).
"""
import argparse
import json
import os
import os.path as osp

import cv2
import mmcv
from mmengine.utils import ProgressBar

from mmfer.apis import FERInferencer

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
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--frame-step', type=int, default=1, help='classify every n-th video frame')
    return parser.parse_args()


def face_detector(args):
    if args.detector == 'none':
        return None
    if args.detector == 'cascade':
        return dict(type='CascadeFaceDetector')
    if not args.det_config:
        raise SystemExit('--detector mmdet needs --det-config (and usually --det-checkpoint)')
    return dict(type='MMDetFaceDetector', config=args.det_config, checkpoint=args.det_checkpoint,
                score_thr=args.det_score_thr, labels=args.det_labels, device=args.device)


def run_images(inferencer, paths, out_dir):
    results, bar = [], ProgressBar(len(paths))
    for path in paths:
        result = inferencer(path)[0]
        stem = osp.splitext(osp.basename(path))[0]
        result['output'] = osp.join(out_dir, f'{stem}.png')
        cv2.imwrite(result['output'], inferencer.draw(mmcv.imread(path), result))
        results.append(result)
        bar.update()
    return results


def run_video(inferencer, path, out_dir, frame_step):
    video = mmcv.VideoReader(path)
    out = osp.join(out_dir, f'{osp.splitext(osp.basename(path))[0]}_fer.mp4')
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), video.fps, (video.width, video.height))
    frames, result, bar = [], None, ProgressBar(video.frame_cnt)
    for index, frame in enumerate(video):
        if frame is None:
            break
        if index % frame_step == 0:
            result = dict(inferencer(frame)[0], frame=index)
            frames.append(result)
        writer.write(inferencer.draw(frame, result))  # skipped frames show the last result
        bar.update()
    writer.release()
    return dict(video=path, output=out, fps=video.fps, frames=frames)


def main():
    args = parse_args()
    inferencer = FERInferencer(args.config, args.checkpoint, device=args.device, face_detector=face_detector(args),
                               margin=args.margin, no_face=args.no_face, max_faces=args.max_faces)
    os.makedirs(args.out_dir, exist_ok=True)
    if osp.isdir(args.input):
        paths = sorted(osp.join(args.input, f) for f in os.listdir(args.input) if f.lower().endswith(IMAGE_EXT))
        if not paths:
            raise SystemExit(f'no images ({", ".join(IMAGE_EXT)}) in {args.input}')
        results = run_images(inferencer, paths, args.out_dir)
    elif args.input.lower().endswith(VIDEO_EXT):
        results = run_video(inferencer, args.input, args.out_dir, args.frame_step)
    elif osp.isfile(args.input):
        results = run_images(inferencer, [args.input], args.out_dir)
    else:
        raise SystemExit(f'no such file or folder: {args.input}')
    out = osp.join(args.out_dir, 'results.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=1)
    faces = [r['faces'] for r in (results['frames'] if isinstance(results, dict) else results)]
    print(f'\n{sum(map(len, faces))} faces in {len(faces)} {"frames" if isinstance(results, dict) else "images"} '
          f'({sum(not f for f in faces)} without a face); results in {out}')


if __name__ == '__main__':
    main()
