"""mmfer's whole quick pipeline on SynthFER, with one results table at the end.

    python tools/run_pipeline.py [--work-dir work_dirs/pipeline] [--data-root data/synthfer_semi48]

1. generates SynthFER (12k labeled-set faces, 1k test, a 10k unlabeled pool with distractors; 48 px)
   and draws the 5 % label split once;
2. supervised from scratch on the 5 % (the 4 x 128 ViT of method A's quick configs);
3. method A: stage I FaceMAE on the pool, stage II FacialMixup fine-tuning, stage III EMA-teacher
   pseudo-labelling of the pool;
4. method B: OmniDistillLoop (primitive ResNet on the 5 %, mining the pool, distillation, final model);
5. tests every model with ``tools/test.py`` and prints the table plus where pictures and checkpoints are.

Every stage runs ``tools/train.py`` on a config written to ``<work-dir>/configs/<stage>.py`` (the quick
configs with the data root, split, schedule and checkpoints filled in). A second run reuses finished
stages and resumes an interrupted one (``--resume``). Budgets are those of ``benchmarks/method_a.py``
and ``benchmarks/method_b.py --quick``. Stage logs go to ``<work-dir>/<stage>/train.log``; the console
shows their progress lines.
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

from mmengine.config import Config, DictAction

from mmfer.utils import register_all_modules
from mmfer.utils.quick import ensure_split, ensure_synthfer, set_data_root, set_iter_schedule, set_schedule

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = dict(
    supervised='configs/supervised/vit-small-p8_1xb64_synthfer-quick48.py',
    stage1='configs/face_mae/face-mae_vit-small-p8_1xb64-quick48_synthfer-pool.py',
    stage2='configs/method_a/stage2_vit-small-p8_1xb64-quick48_synthfer-5pct.py',
    stage3='configs/method_a/stage3_vit-small-p8_1xb128-quick48_synthfer-5pct.py',
    method_b='configs/method_b/omni-distill_resnet18-w16_quick48_synthfer-5pct.py',
)
PROGRESS = re.compile(r'(Epoch|Iter)\((train|val|test)\)|^Traceback|\w+Error: |OmniDistillLoop: ')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/pipeline')
    parser.add_argument('--data-root', default='data/synthfer_semi48')
    parser.add_argument('--ratio', type=float, default=0.05, help='share of labeled training faces')
    parser.add_argument('--seed', type=int, default=0, help='seed of the label split')
    parser.add_argument('--mae-epochs', type=int, default=40)
    parser.add_argument('--stage2-iters', type=int, default=600)
    parser.add_argument('--stage3-iters', type=int, default=600)
    parser.add_argument('--num-train', type=int, default=12000, help='SynthFER training faces (labeled + rest)')
    parser.add_argument('--num-test', type=int, default=1000)
    parser.add_argument('--num-pool', type=int, default=10000, help='unlabeled pool faces (with distractors)')
    parser.add_argument('--method-b-options', nargs='+', action=DictAction, default={},
                        help="overrides of method B's config, e.g. train_cfg.distiller.type=GradientMatching")
    parser.add_argument('--skip', nargs='*', default=[], choices=['method_a', 'method_b'])
    return parser.parse_args()


class Pipeline:
    """Runs stages through tools/train.py and tools/test.py, reusing what a previous run finished."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        os.makedirs(osp.join(work_dir, 'configs'), exist_ok=True)
        self.seconds = {}

    def _run(self, name: str, args: list, log: str) -> None:
        start = time.time()
        with open(log, 'a') as f:
            proc = subprocess.Popen([sys.executable] + args, cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            for line in proc.stdout:
                f.write(line)
                if PROGRESS.search(line) and 'WARNING' not in line:
                    print(f"  [{name}] {line.rstrip().split(' - ')[-1][:160]}", flush=True)
        if proc.wait():
            raise SystemExit(f'{name} failed (exit {proc.returncode}); see {log}')
        self.seconds[name] = self.seconds.get(name, 0) + time.time() - start

    def train(self, name: str, cfg: Config, done: str) -> str:
        """Train ``cfg`` in ``<work_dir>/<name>``; return the path of ``done`` (a file the run leaves there).

        A run with the same config as the one written before is reused when ``done`` exists and
        resumed when it does not; a changed config (other budgets, options) trains afresh."""
        wd = osp.join(self.work_dir, name)
        target, path = osp.join(wd, done), osp.join(self.work_dir, 'configs', f'{name}.py')
        same = False
        if osp.exists(path):
            with open(path) as f:
                same = f.read() == cfg.pretty_text
        if same and osp.exists(target):
            print(f'[{name}] reusing {target}')
            return target
        cfg.dump(path)
        resume = ['--resume'] if same and osp.exists(osp.join(wd, 'last_checkpoint')) else []
        print(f"[{name}] {'resuming' if resume else 'training'}; log in {wd}/train.log", flush=True)
        os.makedirs(wd, exist_ok=True)
        self._run(name, ['tools/train.py', path, '--work-dir', wd] + resume, osp.join(wd, 'train.log'))
        if not osp.exists(target):
            raise SystemExit(f'{name} finished without writing {target}')
        return target

    def test(self, name: str, checkpoint: str) -> dict:
        """tools/test.py metrics (top-1, mean class, confusion matrix PNG) of a trained stage."""
        wd = osp.join(self.work_dir, name)
        out = osp.join(wd, 'test_metrics.json')
        if not osp.exists(out) or osp.getmtime(out) < osp.getmtime(checkpoint):
            self._run(f'{name}:test', ['tools/test.py', osp.join(self.work_dir, 'configs', f'{name}.py'), checkpoint,
                                       '--work-dir', wd, '--out', out], osp.join(wd, 'test.log'))
        with open(out) as f:
            return json.load(f)


def checkpoints(cfg: Config, interval: int, by_epoch: bool) -> None:
    """Keep one resumable checkpoint, written every ``interval`` iterations / epochs and at the end."""
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=interval, by_epoch=by_epoch,
                                        max_keep_ckpts=1, save_last=True)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)


def shown(path: str) -> str:
    """``path`` relative to the repository when inside it."""
    rel = osp.relpath(path, REPO)
    return path if rel.startswith('..') else rel


def load(path: str, root: str = None, split: str = None) -> Config:
    cfg = Config.fromfile(osp.join(REPO, path))
    if root:
        set_data_root(cfg, root)
    if split:
        cfg.train_dataloader.dataset.split_file = split
    return cfg


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    root, work_dir = osp.abspath(args.data_root), osp.abspath(args.work_dir)
    start = time.time()
    print(f'[data] SynthFER in {root}', flush=True)
    ensure_synthfer(root, img_size=48, num_train=args.num_train, num_test=args.num_test, num_pool=args.num_pool)
    split = ensure_split(load(CONFIGS['supervised'], root), args.ratio, args.seed,
                         osp.join(root, 'splits', f'labeled_{args.ratio:g}_seed{args.seed}.json'))
    run = Pipeline(work_dir)
    rows, pictures = [], {}
    iters = args.stage2_iters + args.stage3_iters

    if 'method_a' not in args.skip:
        cfg = load(CONFIGS['supervised'], root, split)
        set_iter_schedule(cfg, iters)
        checkpoints(cfg, 200, False)
        ckpt = run.train('supervised', cfg, f'iter_{iters}.pth')
        rows.append(('supervised from scratch (ViT)', run.test('supervised', ckpt), ckpt))

        cfg = load(CONFIGS['stage1'])
        cfg.train_dataloader.dataset.data_root = osp.join(root, 'pool')
        set_schedule(cfg, args.mae_epochs, warmup=1)
        checkpoints(cfg, 1, True)
        cfg.custom_hooks = [dict(type='MAEReconstructionHook', interval=args.mae_epochs, num_images=8)]
        mae = run.train('stage1', cfg, f'epoch_{args.mae_epochs}.pth')
        pictures['MAE reconstructions (stage I)'] = osp.join(work_dir, 'stage1', 'vis',
                                                            f'mae_epoch_{args.mae_epochs}.png')

        cfg = load(CONFIGS['stage2'], root, split)
        cfg.model.backbone.init_cfg.checkpoint = mae
        set_iter_schedule(cfg, args.stage2_iters)
        checkpoints(cfg, 200, False)
        cfg.custom_hooks.append(dict(type='FacialMixupVisHook'))
        ckpt2 = run.train('stage2', cfg, f'iter_{args.stage2_iters}.pth')
        rows.append(('method A, stage I + II', run.test('stage2', ckpt2), ckpt2))
        pictures['FacialMixup pairs, boxes, IoU, weights (stage II)'] = osp.join(work_dir, 'stage2', 'vis',
                                                                                'facial_mixup_pairs.png')

        cfg = load(CONFIGS['stage3'])
        cfg.train_dataloader.dataset.datasets[0].update(data_root=root, split_file=split)
        cfg.train_dataloader.dataset.datasets[1].data_root = osp.join(root, 'pool')
        for loader in ('val_dataloader', 'test_dataloader'):
            cfg[loader].dataset.data_root = root
        cfg.load_from = ckpt2  # its state_dict holds stage II's EMA weights
        set_iter_schedule(cfg, args.stage3_iters, warmup=1)
        checkpoints(cfg, 200, False)
        ckpt3 = run.train('stage3', cfg, f'iter_{args.stage3_iters}.pth')
        rows.append(('method A, stage I + II + III', run.test('stage3', ckpt3), ckpt3))
        curves = osp.join(work_dir, 'stage3', 'pseudo_labels.png')
        run._run('stage3:curves', ['tools/analysis/plot_curves.py', osp.join(work_dir, 'stage3'), '--keys',
                                   'unsup_mask_rate', 'unsup_pseudo_acc', '--out', curves],
                 osp.join(work_dir, 'stage3', 'test.log'))
        pictures['pseudo-label mask rate and accuracy (stage III)'] = curves
        for name, label in (('supervised', 'supervised'), ('stage2', 'stage I + II'), ('stage3', 'stage I-III')):
            pictures[f'confusion matrix ({label})'] = osp.join(work_dir, name, 'confusion_matrix.png')

    if 'method_b' not in args.skip:
        cfg = load(CONFIGS['method_b'], root, split)
        cfg.train_cfg.pool.data_root = osp.join(root, 'pool')
        cfg.merge_from_dict(args.method_b_options)
        results = run.train('method_b', cfg, 'results.json')
        with open(results) as f:
            results = json.load(f)
        wd = osp.join(work_dir, 'method_b')
        rows.append(('method B primitive (ResNet, labeled only)', results['primitive'], osp.join(wd, 'primitive')))
        # the final model trains on labeled + distilled faces, and the mined ones too with use_mined
        joined = '+' if cfg.train_cfg.final.get('use_mined') else '->'
        rows.append((f"method B, + {results['mining']['mined']} mined {joined} distilled", results['final'],
                     osp.join(wd, 'final')))
        pictures['distilled images per class (method B)'] = results['distilled']['grid']

    with open(split) as f:
        labeled = len(json.load(f)['labeled'])
    print(f'\nSynthFER 48 px: {labeled} labeled faces ({args.ratio:.0%} of {args.num_train}), {args.num_pool} '
          f'unlabeled pool faces, {args.num_test} test faces')
    print(f"{'run':<44}{'top-1':>7}{'mean class':>12}   checkpoint")
    for label, metrics, where in rows:
        print(f"{label:<44}{metrics['accuracy/top1']:>7.2f}{metrics['mean_class/recall']:>12.2f}   "
              f'{shown(where)}')
    print('\npictures:')
    for label, path in pictures.items():
        print(f"  {label:<50} {shown(path)}{'' if osp.exists(path) else ' (missing)'}")
    if run.seconds:
        print('\nseconds this run: ' + ', '.join(f'{k} {v:.0f}' for k, v in run.seconds.items()))
    print(f'wall time {time.time() - start:.0f} s; configs in {shown(work_dir)}/configs/')


if __name__ == '__main__':
    main()
