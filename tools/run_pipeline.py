"""mmfer's whole quick pipeline on SynthFER, with one results table at the end.

    python tools/run_pipeline.py [--backbone resnet | vit] [--work-dir work_dirs/pipeline]

1. generates SynthFER (12k labeled-set faces, 1k test, a 10k unlabeled pool with distractors; 48 px)
   and draws the 5 % label split once;
2. supervised on the 5 % with the labeled budget of method A's stages II + III (ResNet: method B's
   primitive recipe, so the same run is method B's primitive model);
3. method A: stage I face reconstruction on the pool (SparK for the ResNet, FaceMAE for the ViT),
   stage II FacialMixup fine-tuning, stage III EMA-teacher pseudo-labelling of the pool, and stage III's
   control (the same run without the unlabeled loss);
4. method B: OmniDistillLoop (the supervised ResNet as primitive, mining the pool, distillation, final
   model); with ``--backbone vit`` it trains its own ResNet primitive;
5. tests every model with ``tools/test.py`` and prints the table plus where pictures and checkpoints are.

Every arm is one of ``mmfer.utils.quick.quick_arms`` (the quick configs with the data root, split and
budgets filled in, as ``benchmarks/ssfer.py`` runs them), run by ``tools/train.py`` on a config written
to ``<work-dir>/configs/<stage>.py``. A second run reuses finished stages (the same config, and no
checkpoint it starts from rewritten since) and resumes an interrupted one (``--resume``). Stage logs go to
``<work-dir>/<stage>/train.log``; the console shows their progress lines (mining and distillation progress
bars at most every 15 s). Stages that share nothing run side by side
(:meth:`Pipeline.together`), one compute thread each: method A's chain beside the supervised -> method B
chain, and within method A stage III beside its control; a stage left running alone gets the machine's
threads. Tests run in this process (``test.log``).
"""
import argparse
import contextlib
import copy
import json
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, Optional, Tuple

import torch
from mmengine.config import Config, DictAction

from mmfer.utils import register_all_modules
from mmfer.utils.inprocess import run_script
from mmfer.utils.quick import (METHOD_B, QUICK_BUDGETS, QUICK_DATA, QUICK_DATA_ROOT, ensure_quick_data, last_checkpoint,
                               quick_arms, reusable, set_data_root, without_unlabeled_loss)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PROGRESS = re.compile(r'(Epoch|Iter)\((train|val|test)\)|^Traceback|\w+Error: |OmniDistillLoop: ')
BAR = re.compile(r'\] +(\d+)/(\d+), [\d.]+ task/s')  # mmengine's ProgressBar (mining, distillation)
BAR_EVERY = 15.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--backbone', choices=('resnet', 'vit'), default='resnet',
                        help="method A's backbone (and the supervised baseline's)")
    parser.add_argument('--work-dir', default='work_dirs/pipeline')
    parser.add_argument('--data-root', default=QUICK_DATA_ROOT)
    parser.add_argument('--ratio', type=float, default=0.05,
                        help="share of labeled training faces (0.01: the committed 1 %% configs, a 24-epoch "
                        "stage I and stage III 1800 iterations; other shares keep the 5 %% iterations; method B's "
                        "own settings are the 5 %% ones)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the label split')
    parser.add_argument('--stage1-epochs', type=int, default=None, help="default: the quick recipe's")
    parser.add_argument('--stage2-iters', type=int, default=None, help="default: the quick recipe's")
    parser.add_argument('--stage3-iters', type=int, default=None, help="default: the quick recipe's")
    parser.add_argument('--num-train', type=int, default=QUICK_DATA['num_train'],
                        help='SynthFER training faces (labeled + rest)')
    parser.add_argument('--num-test', type=int, default=QUICK_DATA['num_test'])
    parser.add_argument('--num-pool', type=int, default=QUICK_DATA['num_pool'],
                        help='unlabeled pool faces (with distractors)')
    parser.add_argument('--omni-distill-options', nargs='+', action=DictAction, default={},
                        help="overrides of method B's config, e.g. train_cfg.distiller.type=GradientMatching")
    parser.add_argument('--skip', nargs='*', default=[], choices=['ssfer', 'omni_distill', 'baselines'],
                        help='leave out method A, method B, or the supervised and stage III control runs '
                        '(method B then trains its own primitive)')
    parser.add_argument('--in-process', action='store_true',
                        help='run every stage in this process (no interpreter start per stage; its output goes to '
                        'its log only)')
    return parser.parse_args()


def _close(pipe) -> None:
    """Close a stage's stdin, dropping what a stage that has stopped reading it did not take."""
    try:
        pipe.close()
    except BrokenPipeError:  # the buffered line is lost with the pipe; the stage's exit status tells the rest
        pass


class Pipeline:
    """Runs stages through tools/train.py and tools/test.py, reusing what a previous run finished."""

    def __init__(self, work_dir: str, in_process: bool = False) -> None:
        self.work_dir = work_dir
        self.in_process = in_process
        os.makedirs(osp.join(work_dir, 'configs'), exist_ok=True)
        self.seconds = {}
        self.lanes = 1  # stages that may be running at once (together() adds lanes)
        self.narrowed = set()  # running subprocesses started at one thread beside others
        self.lock = threading.Lock()
        self.threads = torch.get_num_threads()

    def together(self, **jobs: Callable[[], str]) -> Dict[str, str]:
        """Run independent stages (``name=callable``, e.g. stage III and its control) at the same time, one
        compute thread each, and the machine's threads for a stage once nothing runs beside it; return their
        results by name. The quick stages spend about half of each step loading images on one core, so two
        one-thread runs side by side finish sooner than one after the other. A stage that fails stops the
        pipeline once the others have finished. In-process runs go one by one."""
        if self.in_process or len(jobs) < 2:
            return {name: job() for name, job in jobs.items()}
        results, errors, left = {}, {}, [len(jobs)]

        def work(name, job):
            try:
                results[name] = job()
            except BaseException as e:  # noqa: B902 (SystemExit of a failed stage included)
                errors[name] = e
            finally:
                with self.lock:
                    left[0] -= 1
                    if left[0]:  # the last job to end hands its lane back to the caller's
                        self.lanes -= 1
                    if self.lanes == 1:
                        self._widen()

        threads = [threading.Thread(target=work, args=item) for item in jobs.items()]
        with self.lock:
            self.lanes += len(jobs) - 1
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise SystemExit('; '.join(str(e) for e in errors.values()))
        return results

    def _run(self, name: str, args: list, log: str, in_process: bool = False) -> None:
        start = time.time()
        if self.in_process or in_process:
            with open(log, 'a') as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                code = run_script(*args)
            if code:
                raise SystemExit(f'{name} failed (exit {code}); see {log}')
            self.seconds[name] = self.seconds.get(name, 0) + time.time() - start
            return
        # stages run side by side (:meth:`together`) get one compute thread each (two 2-thread runs on 2 cores
        # would fight over them), and the machine's threads once they run alone (:meth:`_widen`)
        with self.lock:
            narrow = self.lanes > 1
            env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                       MMFER_THREADS_FROM_STDIN='1') if narrow else None
            proc = subprocess.Popen([sys.executable] + args, cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1,
                                    stdin=subprocess.PIPE if narrow else subprocess.DEVNULL, env=env)
            if narrow:
                self.narrowed.add(proc)
        with open(log, 'a') as f:
            shown = 0.0
            for line in proc.stdout:  # text mode: a progress bar's carriage returns end lines too
                f.write(line)
                if PROGRESS.search(line) and 'WARNING' not in line:
                    print(f"  [{name}] {line.rstrip().split(' - ')[-1][:160]}", flush=True)
                elif (bar := BAR.search(line)) and (time.time() - shown >= BAR_EVERY or bar[1] == bar[2]):
                    shown = time.time()
                    print(f'  [{name}] {line.strip()[:160]}', flush=True)
        with self.lock:
            self.narrowed.discard(proc)
            if proc.stdin:
                _close(proc.stdin)
        if proc.wait():
            raise SystemExit(f'{name} failed (exit {proc.returncode}); see {log}')
        self.seconds[name] = self.seconds.get(name, 0) + time.time() - start

    def _widen(self) -> None:
        """Give the stages started at one thread this process's thread count (tools/train.py's
        ``follow_thread_count``), now that nothing runs beside them; called under ``lock``."""
        for proc in self.narrowed:
            try:
                proc.stdin.write(f'{self.threads}\n')
                proc.stdin.flush()
            except BrokenPipeError:  # it is ending: drop the unsent line (a later close would raise on it)
                _close(proc.stdin)
        self.narrowed.clear()

    def train(self, name: str, cfg: Config, done: Optional[str] = None) -> str:
        """Train ``cfg`` in ``<work_dir>/<name>``; return the path of ``done`` (a file the run leaves there;
        by default its last checkpoint).

        A run with the same config as the one written before is reused when ``done`` exists and
        resumed when it does not; a changed config (other budgets, options) trains afresh."""
        wd = osp.join(self.work_dir, name)
        done = done or last_checkpoint(cfg)
        target, path = osp.join(wd, done), osp.join(self.work_dir, 'configs', f'{name}.py')
        if reusable(cfg, path, target):
            print(f'[{name}] reusing {target}')
            return target
        same = reusable(cfg, path, path)  # the same config, unfinished: resume it
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
            # in this process: a test takes ~2 s, a fresh interpreter ~6 s more to import the stack
            self._run(f'{name}:test', ['tools/test.py', osp.join(self.work_dir, 'configs', f'{name}.py'), checkpoint,
                                       '--work-dir', wd, '--out', out], osp.join(wd, 'test.log'), in_process=True)
        with open(out) as f:
            return json.load(f)


def checkpoints(cfg: Config) -> Config:
    """Keep one resumable checkpoint, written every 200 iterations (a tenth of an epoch-based run) and at
    the end; log every 50 iterations."""
    by_epoch = cfg.train_cfg.get('type') != 'IterBasedTrainLoop'
    interval = max(1, cfg.train_cfg.max_epochs // 10) if by_epoch else 200
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=interval, by_epoch=by_epoch,
                                        max_keep_ckpts=1, save_last=True)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
    return cfg


def shown(path: str) -> str:
    """``path`` relative to the repository when inside it."""
    rel = osp.relpath(path, REPO)
    return path if rel.startswith('..') else rel


def method_a(run: Pipeline, arms: dict, args, work_dir: str) -> Tuple[list, dict]:
    """Stages I, II, III (and III's control, side by side); their table rows and pictures."""
    rows, pictures = [], {}
    cfg = checkpoints(arms['stage1'])
    epochs = cfg.train_cfg.max_epochs
    cfg.custom_hooks = [dict(type='MAEReconstructionHook', interval=epochs, num_images=8)]
    stage1 = run.train('stage1', cfg)
    pictures['reconstructions (stage I)'] = osp.join(work_dir, 'stage1', 'vis', f'mae_epoch_{epochs}.png')

    cfg = checkpoints(arms['stage2'])
    cfg.model.backbone.init_cfg.checkpoint = stage1
    cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='FacialMixupVisHook')]
    stage2 = run.train('stage2', cfg)
    rows.append(('method A, stage I + II', run.test('stage2', stage2), stage2))
    pictures['FacialMixup pairs, boxes, IoU, weights (stage II)'] = osp.join(
        work_dir, 'stage2', 'vis', 'facial_mixup_pairs.png')
    cfg = checkpoints(arms['stage3'])
    cfg.load_from = stage2  # stage II's weights (its EMA weights where it ran an EMA hook)
    jobs = dict(stage3=lambda: run.train('stage3', cfg))
    if 'baselines' not in args.skip:
        control_cfg = without_unlabeled_loss(copy.deepcopy(cfg))
        jobs['stage3_control'] = lambda: run.train('stage3_control', control_cfg)
    done = run.together(**jobs)
    rows.append(('method A, stage I + II + III', run.test('stage3', done['stage3']), done['stage3']))
    if 'stage3_control' in done:
        rows.append(('  stage III control (no unlabeled loss)', run.test('stage3_control', done['stage3_control']),
                     done['stage3_control']))
    curves = osp.join(work_dir, 'stage3', 'pseudo_labels.png')
    run._run('stage3:curves', ['tools/analysis/plot_curves.py', osp.join(work_dir, 'stage3'), '--keys',
                               'unsup_mask_rate', 'unsup_pseudo_acc', 'unsup_threshold', '--out', curves],
             osp.join(work_dir, 'stage3', 'test.log'), in_process=True)
    pictures['pseudo-label mask rate, accuracy, threshold (stage III)'] = curves
    for name, label in (('stage2', 'stage I + II'), ('stage3', 'stage I-III')):
        pictures[f'confusion matrix ({label})'] = osp.join(work_dir, name, 'confusion_matrix.png')
    return rows, pictures


def method_b(run: Pipeline, args, root: str, split: str, work_dir: str, kind: str,
             supervised: Optional[str]) -> Tuple[list, dict]:
    """OmniDistillLoop, on the supervised run as primitive when it is the same ResNet; its table rows and
    picture."""
    rows = []
    cfg = set_data_root(Config.fromfile(osp.join(REPO, METHOD_B)), root)
    cfg.train_dataloader.dataset.split_file = split
    cfg.train_cfg.pool.data_root = osp.join(root, 'pool')
    if kind == 'ResNet' and supervised:  # the supervised run is the primitive model: trained once
        cfg.train_cfg.primitive = dict(checkpoint=supervised)
    cfg.merge_from_dict(args.omni_distill_options)
    results = run.train('omni_distill', cfg, 'results.json')
    with open(results) as f:
        results = json.load(f)
    wd = osp.join(work_dir, 'omni_distill')
    if kind != 'ResNet' or not supervised:
        rows.append(('method B primitive (ResNet, labeled only)', results['primitive'], osp.join(wd, 'primitive')))
    # the final model trains on labeled + distilled faces, and the mined ones too with use_mined
    joined = '+' if cfg.train_cfg.final.get('use_mined') else '->'
    rows.append((f"method B, + {results['mining']['mined']} mined {joined} distilled", results['final'],
                 osp.join(wd, 'final')))
    return rows, {'distilled images per class (method B)': results['distilled']['grid']}


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    root, work_dir = osp.abspath(args.data_root), osp.abspath(args.work_dir)
    start = time.time()
    print(f'[data] SynthFER in {root}', flush=True)
    split = ensure_quick_data(root, args.ratio, args.seed, num_train=args.num_train, num_test=args.num_test,
                              num_pool=args.num_pool)
    budgets = dict(QUICK_BUDGETS[args.backbone])
    budgets.update({k: getattr(args, k) for k in budgets if getattr(args, k)})
    arms = quick_arms(REPO, args.backbone, root, split, **budgets)
    run = Pipeline(work_dir, args.in_process)
    kind = dict(resnet='ResNet', vit='ViT')[args.backbone]

    def supervised_and_method_b():
        """The supervised baseline, then method B on it as primitive (ResNet): rows and pictures of each."""
        baseline, method, supervised = ([], {}), ([], {}), None
        if 'baselines' not in args.skip:
            supervised = run.train('supervised', checkpoints(arms['supervised']))
            label = f'supervised {kind}' + (' (= method B primitive)' if kind == 'ResNet' else ' (labeled only)')
            baseline = ([(label, run.test('supervised', supervised), supervised)],
                        {'confusion matrix (supervised)': osp.join(work_dir, 'supervised', 'confusion_matrix.png')})
        if 'omni_distill' not in args.skip:
            method = method_b(run, args, root, split, work_dir, kind, supervised)
        return baseline, method

    chains = dict(baselines_and_method_b=supervised_and_method_b)
    if 'ssfer' not in args.skip:
        chains['method_a'] = lambda: method_a(run, arms, args, work_dir)
    # method A's stages and the supervised -> method B chain share no stage: they run side by side
    done = run.together(**chains)
    baseline, method = done['baselines_and_method_b']
    parts = [baseline, done.get('method_a', ([], {})), method]
    rows = [row for part_rows, _ in parts for row in part_rows]
    pictures = {k: v for _, part_pictures in parts for k, v in part_pictures.items()}

    with open(split) as f:
        labeled = len(json.load(f)['labeled'])
    print(f'\nSynthFER 48 px: {labeled} labeled faces ({args.ratio:.0%} of {args.num_train}), {args.num_pool} '
          f'unlabeled pool faces, {args.num_test} test faces; one {kind} for method A and its baseline')
    print(f"{'run':<48}{'top-1':>7}{'mean class':>12}   checkpoint")
    for label, metrics, where in rows:
        print(f"{label:<48}{metrics['accuracy/top1']:>7.2f}{metrics['mean_class/recall']:>12.2f}   "
              f'{shown(where)}')
    print('\npictures:')
    for label, path in pictures.items():
        print(f"  {label:<56} {shown(path)}{'' if osp.exists(path) else ' (missing)'}")
    if run.seconds:
        print('\nseconds this run: ' + ', '.join(f'{k} {v:.0f}' for k, v in run.seconds.items()))
        with open(osp.join(work_dir, 'seconds.json'), 'w') as f:
            json.dump(run.seconds, f, indent=1)
    print(f'wall time {time.time() - start:.0f} s; configs in {shown(work_dir)}/configs/')


if __name__ == '__main__':
    main()
