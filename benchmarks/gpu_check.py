"""One prepared check that mmfer runs end to end on a GPU (at most 8 minutes on one), or tiny on a CPU.

    python benchmarks/gpu_check.py                      # on a GPU machine
    python benchmarks/gpu_check.py --device cpu --tiny  # what CI runs: a few iterations, tiny sizes

1. ``stages``: every stage runs a few iterations on the device mmengine gives it — the main job through
   ``tools/run_pipeline.py`` (supervised, SparK stage I, FacialMixup stage II, SemiFER stage III and its
   control, method B's mining, distillation and final model, ``tools/test.py`` of each) and its ViT arms
   (FaceMAE stage I, ViT stages II / III), then ``FERInferencer``, ``demo/fer_demo.py`` and the ONNX export
   with its check. Each stage's losses must be finite and mining / distillation must write their files.
   With 2 GPUs, stage III also runs on 2 processes through ``tools/dist_train.sh`` (nccl).
2. ``throughput``: ``benchmarks/throughput.py``'s arms at paper scale (ViT-B/16, 224 px, batch 64; the
   quick ViT and batch 8 with ``--tiny``), fp32 and with autocast (bf16 where supported, else fp16; GPU
   only): ``mae_ratio``, ``stage2_ratio``, ``stage3_ratio`` (goals 0.97 / 0.95 / 0.80) and images/s.
3. ``data``: images/s of the paper-scale stage II pipeline (with the face detector) and stage III
   unlabeled pipeline (two views) through a DataLoader with ``--workers`` workers, against the model's
   images/s from 2: ``data_keeps_up`` is true where the pipeline is faster.
4. ``main_job``: the quick main job's stages on the GPU with a 5x larger pool (50k faces), wall seconds per
   stage (skipped with ``--tiny``).

The last line printed is one JSON object; the exit code is 1 when a stage failed or a loss was not finite.
"""
import argparse
import glob
import importlib.util
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
import traceback

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument('--device', choices=['cuda', 'cpu'], default=None, help='default: cuda where present')
parser.add_argument('--tiny', action='store_true', help='a few iterations on tiny data (CI, on the CPU)')
parser.add_argument('--work-dir', default=None, help='default: work_dirs/gpu_check[_tiny]')
parser.add_argument('--workers', type=int, default=8, help='data-loader workers of the data check')
parser.add_argument('--skip', nargs='*', default=[], choices=['stages', 'throughput', 'data', 'main_job'])
ARGS = parser.parse_args()
if ARGS.device == 'cpu':
    os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before torch: mmengine's Runner then takes the CPU

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import REPO, report  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from throughput import GOALS, PAPER_VIT, QUICK_VIT, build_arms, ratios, time_arms  # noqa: E402

from mmfer.registry import DATASETS  # noqa: E402
from mmfer.utils.inprocess import run_script  # noqa: E402
from mmfer.utils.quick import ensure_synthfer  # noqa: E402

spec = importlib.util.spec_from_file_location('run_pipeline', osp.join(REPO, 'tools', 'run_pipeline.py'))
run_pipeline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_pipeline)

DEVICE = ARGS.device or ('cuda' if torch.cuda.is_available() else 'cpu')
TINY_DATA = ['--num-train', '140', '--num-test', '60', '--num-pool', '80', '--ratio', '0.25']
TINY_BUDGETS = ['--stage1-epochs', '1', '--stage2-iters', '3', '--stage3-iters', '3', '--omni-distill-options',
                'train_cfg.final.max_epochs=1', 'train_cfg.mining.threshold=0.0',
                'train_cfg.mining.min_similarity=-1.0', 'train_cfg.mining.require_agreement=False',
                'train_cfg.distiller.iterations=2', 'train_cfg.distiller.ipc=2', 'train_cfg.distiller.batch_real=4']


def losses_of(checkpoint: str) -> list:
    """Every training loss value of a run, from the message hub mmengine saves in its checkpoints."""
    hub = torch.load(checkpoint, map_location='cpu', weights_only=False).get('message_hub') or {}
    return [float(v) for k, buf in hub.get('log_scalars', {}).items() if k.startswith('train/loss')
            for v in buf.data[0]]


def pipeline(work_dir: str, data_root: str, *args) -> dict:
    """tools/run_pipeline.py in this process; per trained stage: its loss values counted and all finite."""
    argv = sys.argv
    sys.argv = ['run_pipeline.py', '--work-dir', work_dir, '--data-root', data_root, '--in-process', *args]
    try:
        run_pipeline.main()
    finally:
        sys.argv = argv
    stages = {}
    for stage in sorted(glob.glob(osp.join(work_dir, '*', 'train.log'))):
        stage = osp.dirname(stage)
        ckpts = [p for p in glob.glob(osp.join(stage, '**', '*.pth'), recursive=True) if 'best_' not in p]
        losses = [v for c in ckpts for v in losses_of(c)]
        stages[osp.basename(stage)] = dict(losses=len(losses), finite=bool(losses) and all(map(math.isfinite, losses)))
    return stages


def check_stages(work_dir: str) -> dict:
    data_root = osp.join(work_dir, 'data')  # tiny: a few iterations of every stage is the point
    out = dict(resnet=pipeline(osp.join(work_dir, 'resnet'), data_root, *TINY_DATA, *TINY_BUDGETS),
               vit=pipeline(osp.join(work_dir, 'vit'), data_root, '--backbone', 'vit', '--skip', 'omni_distill',
                            'baselines', *TINY_DATA, *TINY_BUDGETS[:6]))
    omni = osp.join(work_dir, 'resnet', 'omni_distill')
    out['method_b_files'] = all(osp.getsize(osp.join(omni, f)) > 0 for f in
                                ('mined.txt', 'mining/summary.json', 'distilled/distilled.txt', 'results.json'))
    # inference, demo and export of the stage II model
    cfg, ckpt = osp.join(work_dir, 'resnet', 'configs', 'stage2.py'), glob.glob(
        osp.join(work_dir, 'resnet', 'stage2', 'iter_*.pth'))[0]
    faces = sorted(glob.glob(osp.join(data_root, 'Image', 'aligned', 'test_*.jpg')))[:4]
    from mmfer.apis import FERInferencer
    inferencer = FERInferencer(cfg, ckpt, face_detector=None)
    out['inferencer_device'] = str(next(inferencer.model.parameters()).device)
    out['inferencer_faces'] = sum(len(r['faces']) for r in inferencer(faces))
    folder = osp.join(work_dir, 'demo_in')
    os.makedirs(folder, exist_ok=True)
    for f in faces:
        if not osp.exists(osp.join(folder, osp.basename(f))):
            os.symlink(f, osp.join(folder, osp.basename(f)))
    out['demo_exit'] = run_script('demo/fer_demo.py', folder, cfg, ckpt, '--detector', 'none', '--out-dir',
                                  osp.join(work_dir, 'demo_out'))
    out['onnx_exit'] = run_script('tools/deployment/pytorch2onnx.py', cfg, ckpt, '--out',
                                  osp.join(work_dir, 'stage2.onnx'), '--check', *faces)
    if DEVICE == 'cuda' and torch.cuda.device_count() >= 2:
        env = dict(os.environ, PORT='29561', PATH=osp.dirname(sys.executable) + ':' + os.environ['PATH'])
        proc = subprocess.run(['bash', 'tools/dist_train.sh', osp.join(work_dir, 'resnet', 'configs', 'stage3.py'),
                               '2', '--work-dir', osp.join(work_dir, 'stage3_2gpu')], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        out['stage3_two_gpus_exit'] = proc.returncode
    else:
        out['stage3_two_gpus_exit'] = 'skipped: fewer than 2 GPUs'
    two_gpus = out['stage3_two_gpus_exit']
    out['ok'] = (all(s['finite'] for arm in ('resnet', 'vit') for s in out[arm].values()) and out['method_b_files']
                 and out['demo_exit'] == 0 and out['onnx_exit'] == 0 and (two_gpus == 0 or isinstance(two_gpus, str)))
    return out


def check_throughput() -> dict:
    vit, n, rounds = (QUICK_VIT, 8, 3) if ARGS.tiny else (PAPER_VIT, 64, 20)
    out = dict(vit='quick 4 x 128, 48 px' if ARGS.tiny else 'ViT-B/16, 224 px', batch=n)
    precisions = dict(fp32=None)
    if DEVICE == 'cuda':
        precisions['amp'] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    for name, dtype in precisions.items():
        measured = ratios(time_arms(build_arms(n, vit, DEVICE, dtype), rounds), n)
        measured['goals_met'] = {k: measured[k] >= v for k, v in GOALS.items()}
        out[name] = measured
    return out


def loader_img_s(dataset: dict, workers: int, seconds: float = 20.0, limit: int = 2000) -> float:
    """Images/s a DataLoader with ``workers`` workers delivers (batches of 32, at most ``limit`` images)."""
    from mmengine.dataset import pseudo_collate
    with DefaultScope.overwrite_default_scope('mmfer'):
        ds = DATASETS.build(dataset)
    loader = torch.utils.data.DataLoader(ds, batch_size=32, num_workers=workers, shuffle=True,
                                         collate_fn=lambda items: (pseudo_collate(items), len(items))[1])
    start, count = time.perf_counter(), 0
    for n in loader:
        count += n
        if count >= limit or time.perf_counter() - start > seconds:
            break
    return count / (time.perf_counter() - start)


def check_data(data_root: str, model: dict) -> dict:
    """The paper-scale stage II and stage III training pipelines on SynthFER (RAF-DB's layout)."""
    stage2 = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', 'stage2_vit-base-p16_1xb32-100e_rafdb-5pct.py'))
    stage3 = Config.fromfile(osp.join(REPO, 'configs', 'ssfer', 'stage3_vit-base-p16_1xb128-50e_rafdb-5pct.py'))
    workers = 0 if ARGS.tiny else ARGS.workers
    labeled = dict(stage2.train_dataloader.dataset, type='SynthFER', data_root=data_root, split_file=None)
    unlabeled = dict(stage3.train_dataloader.dataset.datasets[1], type='SynthFER', data_root=data_root,
                     split_file=None, split_part='labeled')
    limit = 64 if ARGS.tiny else 2000
    out = dict(workers=workers, stage2_pipeline_img_s=round(loader_img_s(labeled, workers, limit=limit), 1),
               stage3_pipeline_img_s=round(loader_img_s(unlabeled, workers, limit=limit), 1))
    fp32 = model.get('fp32', {})
    out['stage2_model_img_s'] = fp32.get('stage2_img_s', 0) / 2  # real images per second (the mix is made inside)
    out['stage3_model_img_s'] = fp32.get('stage3_student_img_s', 0) / 2  # unlabeled faces per second
    out['data_keeps_up'] = dict(stage2=out['stage2_pipeline_img_s'] >= out['stage2_model_img_s'],
                                stage3=out['stage3_pipeline_img_s'] >= out['stage3_model_img_s'])
    return out


def check_main_job(work_dir: str) -> dict:
    """The quick main job (its own budgets) with a 5x larger pool: wall seconds per stage."""
    root = osp.join(REPO, 'data', 'synthfer_semi48_pool50k')
    stages = pipeline(osp.join(work_dir, 'main_job'), root, '--num-pool', '50000')
    seconds = json.load(open(osp.join(work_dir, 'main_job', 'seconds.json')))
    return dict(pool=50000, finite=all(s['finite'] for s in stages.values()), seconds=seconds)


def main():
    work_dir = osp.abspath(ARGS.work_dir or osp.join(REPO, 'work_dirs', 'gpu_check_tiny' if ARGS.tiny else 'gpu_check'))
    data_root = osp.join(work_dir, 'data')
    ensure_synthfer(data_root, **(dict(img_size=48, num_train=140, num_test=60, num_pool=80, num_identities=20,
                                       num_pool_identities=20) if ARGS.tiny else
                                  dict(img_size=48, num_train=3000, num_test=500, num_pool=2000)))
    result = dict(benchmark='gpu_check', device=DEVICE, tiny=ARGS.tiny, torch=torch.__version__,
                  gpus=torch.cuda.device_count() if DEVICE == 'cuda' else 0,
                  gpu_name=torch.cuda.get_device_name(0) if DEVICE == 'cuda' else None)
    start, failed = time.time(), []
    for part, fn in (('stages', lambda: check_stages(osp.join(work_dir, 'stages'))),
                     ('throughput', check_throughput),
                     ('data', lambda: check_data(data_root, result.get('throughput', {}))),
                     ('main_job', lambda: None if ARGS.tiny else check_main_job(work_dir))):
        if part in ARGS.skip:
            continue
        t = time.time()
        try:
            result[part] = fn()
        except Exception as e:  # one failed part is reported, the others still run
            traceback.print_exc()
            result[part], failed = dict(error=f'{type(e).__name__}: {e}'), failed + [part]
        if isinstance(result[part], dict):
            result[part]['seconds'] = result[part].get('seconds', round(time.time() - t, 1))
    if DEVICE == 'cuda':
        result['max_memory_allocated_gib'] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    result['stages_ok'] = bool(result.get('stages', {}).get('ok')) or 'stages' in ARGS.skip
    result['failed'] = failed
    result['seconds'] = round(time.time() - start, 1)
    report(result)
    if failed or not result['stages_ok']:
        sys.exit(1)


if __name__ == '__main__':
    np.random.seed(0)
    torch.manual_seed(0)
    main()
