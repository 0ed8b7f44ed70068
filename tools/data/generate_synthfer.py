"""Generate SynthFER, mmfer's procedural face-expression data set.

    python tools/data/generate_synthfer.py data/synthfer                 # default sizes
    python tools/data/generate_synthfer.py data/synthfer_quick --num-train 3000 \
        --num-test 1000 --num-pool 10000 --img-size 48 --workers 2

A second call with the same settings finds ``meta.json`` and returns at once.
"""
import argparse
import json
import time
from dataclasses import fields

from mmfer.datasets.synthfer import SynthFERConfig, generate


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', help='output folder')
    defaults = SynthFERConfig()
    for f in fields(SynthFERConfig):
        value = getattr(defaults, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parser.add_argument('--' + f.name.replace('_', '-'), type=type(value), default=value)
    parser.add_argument('--intensity', type=float, nargs=2, default=defaults.intensity)
    parser.add_argument('--workers', type=int, default=2, help='rendering processes')
    return parser.parse_args()


def main():
    args = parse_args()
    kwargs = {f.name: getattr(args, f.name) for f in fields(SynthFERConfig) if hasattr(args, f.name)}
    kwargs['intensity'] = tuple(args.intensity)
    start = time.time()
    meta = generate(args.out, SynthFERConfig(**kwargs), workers=args.workers)
    cfg = meta['config']
    print(f"SynthFER at {args.out}: {cfg['num_train']} train / {cfg['num_test']} test / "
          f"{cfg['num_pool']} pool images of {cfg['img_size']} px ({time.time() - start:.1f} s)")
    print(json.dumps(cfg))


if __name__ == '__main__':
    main()
