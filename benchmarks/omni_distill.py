"""Method B on SynthFER: mining quality, distillation, final accuracy, mining cost.

    python benchmarks/omni_distill.py --quick

Runs the quick method B config (5 % of SynthFER's 12k training labels, the 10k pool with 15 %
distractors) through
``OmniDistillLoop`` and reports, against the pool's hidden truth and same-run baselines:

* ``mined_precision`` (mined labels equal to the hidden truth; distractors count as wrong; goal >= 0.95),
  ``mined_count``, ``distractor_rejection`` (share of non-face / occluded / tiny distractors not mined;
  goal >= 0.95);
* ``acc_labeled_only`` (the primitive model) and ``acc_final`` (labeled + distilled, + mined with the
  quick config's ``use_mined``), ``final_gain``;
* the fair measure of the distilled set (dataset distillation's standard one): a fresh ConvNet of the
  distiller's architecture trained only on a small set (DSA augmentation, ``--eval-steps`` 300 SGD
  steps, batch min(256, set), mean of 2 seeds: one ConvNet trained on the same 280 distilled faces read 0.366
  and 0.394 top-1 with seeds 0 and 1), test top-1 and mean class accuracy (the sets are balanced, the test set
  is not):
  ``acc_distilled_ipc{1,10,50}`` / ``mean_class_acc_distilled_ipc{1,10,50}`` (the loop's
  distiller at each IPC; the config's IPC is the loop's own set) against ``acc_random_ipc{...}`` /
  ``mean_class_acc_random_ipc{...}`` (as many random real faces per class from the distiller's sources:
  mined, plus labeled with ``include_labeled``; with ``--diagnostics`` also, when the distiller's ``factor``
  is > 1, ``acc_random_mosaic_ipc10``: as many random faces as the mosaics hold, in their formation, and
  ``*_ipc10_soft``: each set with the primitive's class probabilities as targets instead of hard labels),
  and ``acc_whole_set`` / ``mean_class_acc_whole_set`` (the same ConvNet on every mined + labeled face);
  ``*_seeds``: top-1 of each seed for the loop's distilled
  set and the whole set. Goals at IPC 10: distilled beats random by
  0.10 mean class accuracy (``distilled_gain_mean_class``) and reaches half the whole set's
  (``distilled_share_of_whole``, top-1). ``distilled/`` of each IPC has ``grid.png`` and ``loss.png``;
* ``acc_final_distilled_only``: the cheap final of ``CHEAP_CONFIG`` (the primitive fine-tuned on labeled +
  distilled faces) against ``acc_final_labeled_finetune`` (the same without the distilled faces) and the
  full final; ``train_time_ratio_distilled_only``: its training time / the full final's (goal <= 0.1,
  and above the primitive);
* ``mining_throughput_ratio``: miner images/s / bare model inference images/s on the same pre-loaded
  batches (goal >= 0.9);
* ``rss_growth``: peak RSS mining a 50k-entry pool / a 10k-entry pool - 1 (goal <= 0.10); the 50k list
  names each of the 10k pool's files five times, so the two differ only in pool length.

The cheap finals and the mining cost are measured right after the loop and printed as a JSON line, then
the fair measure (hours), printing each IPC's figures as it goes. The last line printed is one JSON object.
"""
import argparse
import copy
import csv
import json
import os
import os.path as osp
import random
import re
import resource
import subprocess
import sys
import time

import torch
from common import REPO, quick_config, report
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from mmfer.apis import build_classifier
from mmfer.datasets import skip_none_collate
from mmfer.engine import build_miner, eval_pipeline
from mmfer.engine.runner.omni_distill_loop import plot_loss
from mmfer.models.distillers import DISTILLED_FILE, convnet, siamese_augment, write_distilled
from mmfer.registry import DATASETS, TASK_UTILS
from mmfer.utils.quick import QUICK_DATA_ROOT, ensure_quick_data

CONFIG = 'configs/omni_distill/omni-distill_resnet18-w16_quick48_synthfer-5pct.py'
CHEAP_CONFIG = 'configs/omni_distill/omni-distill_resnet18-w16_quick48_synthfer-5pct_distilled-only.py'
DISTRACTORS = ('nonface', 'occluded', 'tiny')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='the quick config as it is (about 2 hours on 2 cores, IPC 50 half of it; --reuse '
                        'skips the finished loop stages and distillations)')
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ipcs', type=int, nargs='+', default=[1, 10, 50], help='images per class measured')
    parser.add_argument('--diagnostics', action='store_true',
                        help="also, at IPC 10, random faces in the distiller's mosaics and every set on the "
                        "primitive's soft labels (three more sets of 2 seeds: about 30 minutes)")
    parser.add_argument('--eval-steps', type=int, default=300, help='SGD steps of the fair-measure ConvNets')
    parser.add_argument('--reuse', action='store_true', help="resume the loop's finished stages from a previous run")
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'bench_omni_distill'))
    parser.add_argument('--options', nargs='+', action=DictAction, default={},
                        help='overrides of the method B config (e.g. train_cfg.distiller.iterations=1000)')
    parser.add_argument('--mine-rss', nargs=3, metavar=('CONFIG', 'CHECKPOINT', 'LIST'), help=argparse.SUPPRESS)
    return parser.parse_args()


def miner_and_pool(cfg, checkpoint, pool_list):
    """The run's miner (mmfer's ``build_miner``) and the pool listed in ``pool_list``."""
    pool = {k: v for k, v in cfg.train_cfg.pool.items() if k != 'hidden_truth'}
    return build_miner(cfg, checkpoint), DATASETS.build(dict(pool, ann_file=pool_list, test_mode=True,
                                                             pipeline=eval_pipeline(cfg)))


def mine_rss(config, checkpoint, pool_list):
    """Child process: mine ``pool_list`` and print the peak RSS in MiB."""
    cfg = Config.fromfile(config)
    miner, pool = miner_and_pool(cfg, checkpoint, pool_list)
    out = osp.join(osp.dirname(checkpoint), f'rss_{osp.basename(pool_list)}')
    miner.mine(pool, out, batch_size=cfg.train_cfg.mining.batch_size, resume=False)
    print('\n' + json.dumps(dict(peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def mining_quality(mined_file, pool_root):
    truth = {}
    with open(osp.join(pool_root, 'hidden_truth.csv')) as f:
        for row in csv.DictReader(f):
            truth[osp.join(pool_root, row['filename'])] = (row['kind'], int(row['label']))
    mined = [line.rstrip('\n').split('\t') for line in open(mined_file)]
    correct = sum(truth[osp.abspath(p)][0] == 'face' and truth[osp.abspath(p)][1] == int(y) for p, y, *_ in mined)
    distractors = {p for p, (kind, _) in truth.items() if kind in DISTRACTORS}
    mined_distractors = sum(osp.abspath(p) in distractors for p, *_ in mined)
    return dict(mined_count=len(mined), mined_precision=correct / max(1, len(mined)),
                distractor_rejection=1 - mined_distractors / max(1, len(distractors)))


def tensors(dataset_cfg, preprocess):
    """Every image of a dataset config (eval pipeline) through ``preprocess``, and the labels."""
    dataset = DATASETS.build(dataset_cfg)
    batch = preprocess(pseudo_collate([dataset[i] for i in range(len(dataset))]), False)
    return batch['inputs'], torch.cat([s.gt_label for s in batch['data_samples']])


def convnet_accuracy(images, targets, test_images, test_labels, width, depth, steps=300, seeds=(0, 1)):
    """Dataset distillation's standard measure: a fresh ConvNet (the distiller's architecture) trained
    on the small set alone with DSA augmentation (SGD 0.01, momentum 0.9, lr / 10 at half time, batches of
    min(256, set)), on hard labels ``(N,)`` or soft targets ``(N, K)``; test ``(top-1, mean class
    accuracy, top-1 of each seed)``, the first two the mean over ``seeds``."""
    top1, mean_class = [], []
    num_classes = 7
    for seed in seeds:
        torch.manual_seed(seed)
        net = convnet(width, depth, images.shape[-1], num_classes).to(images.device)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [steps // 2], 0.1)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            if len(images) > 256:
                pick = torch.randint(len(images), (256, ), generator=gen)
                x, y = images[pick], targets[pick]
            else:
                x, y = images, targets
            [x] = siamese_augment(gen, x)
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            net.eval()
            pred = torch.cat([net(b).argmax(1) for b in test_images.split(500)])
        top1.append(float((pred == test_labels).float().mean()))
        mean_class.append(float(sum((pred[test_labels == c] == c).float().mean() for c in range(num_classes))
                                / num_classes))
    return sum(top1) / len(top1), sum(mean_class) / len(mean_class), top1


def fair_measure(loop, primitive, mined_file, args, test):
    """The distilled sets at ``args.ipcs`` (the loop's own at its IPC, the loop's distiller at the others)
    against random real faces and the whole set, under :func:`convnet_accuracy`; see the docstring."""
    dcfg = copy.deepcopy(loop.distiller_cfg)
    real = loop.real_faces(primitive, mined_file, dcfg.pop('include_labeled', True))
    model = build_classifier(loop.runner.cfg, primitive, 'cpu')
    width, depth = dcfg.get('width', 64), dcfg.get('depth', 3)
    measure = lambda x, y: convnet_accuracy(x, y, *test, width, depth, args.eval_steps, (0, 1))  # noqa: E731

    def soft(x):
        with torch.no_grad():
            return torch.cat([model(b, mode='tensor').softmax(1) for b in x.split(256)])

    out = {}
    # first the whole set (the share's denominator), then each IPC, printed as it goes
    whole = torch.cat([real._load(idx) for idx in real.by_class])
    labels = torch.cat([torch.full((len(idx), ), c) for c, idx in enumerate(real.by_class)])
    start = time.time()
    out['acc_whole_set'], out['mean_class_acc_whole_set'], out['acc_whole_set_seeds'] = measure(whole, labels)
    out['whole_set_seconds'], out['whole_set_size'] = time.time() - start, len(whole)
    print(json.dumps(rounded(out)), flush=True)
    for ipc in args.ipcs:
        ddir = osp.join(args.work_dir, f'distilled_ipc{ipc}')
        distiller = TASK_UTILS.build(dict(dcfg, ipc=ipc))
        if ipc == dcfg.get('ipc', 10):  # the loop's own distilled set, as the final model reads it
            ddir = osp.join(loop.runner.work_dir, 'distilled')
            x = tensors(dict(type='FaceList', ann_file=DISTILLED_FILE, data_root=ddir, classes=loop.classes,
                             pipeline=eval_pipeline(loop.runner.cfg)), real.preprocess)[0]
        else:
            os.makedirs(ddir, exist_ok=True)
            x = distiller.run(real, osp.join(ddir, 'state.pth') if args.reuse else None)
            write_distilled(x, distiller.faces_per_class, loop.classes, real.preprocess, ddir)
            plot_loss(distiller, osp.join(ddir, 'loss.png'))
        gen = torch.Generator().manual_seed(args.seed)
        sets = dict(distilled=x, random=torch.cat([real.sample(c, ipc, gen) for c in range(len(loop.classes))]))
        if args.diagnostics and distiller.factor > 1 and ipc == 10:  # random faces in the distiller's mosaics
            sets['random_mosaic'] = distiller.decode(distiller.encode(torch.cat(
                [real.sample(c, distiller.faces_per_class, gen) for c in range(len(loop.classes))])))
        for name, images in sets.items():
            y = torch.arange(len(loop.classes)).repeat_interleave(len(images) // len(loop.classes))
            out[f'acc_{name}_ipc{ipc}'], out[f'mean_class_acc_{name}_ipc{ipc}'], seeds = measure(images, y)
            if name == 'distilled' and ipc == dcfg.get('ipc', 10):
                out[f'acc_distilled_ipc{ipc}_seeds'] = seeds
            if args.diagnostics and ipc == 10 and name != 'random_mosaic':
                out[f'acc_{name}_ipc10_soft'], out[f'mean_class_acc_{name}_ipc10_soft'], _ = measure(
                    images, soft(images))
        mine = re.compile(f'_ipc{ipc}(_|$)')  # this IPC's keys (not ipc10's at ipc 1)
        print(json.dumps(rounded({k: v for k, v in out.items() if mine.search(k)})), flush=True)  # as it goes
    return rounded(out)


def rounded(out: dict) -> dict:
    """``out`` with its floats, and the floats of its lists, to 4 decimals."""
    return {k: round(v, 4) if isinstance(v, float) else [round(s, 4) for s in v] if isinstance(v, list) else v
            for k, v in out.items()}


def throughput(miner, pool, batches=8, batch_size=256, rounds=5):
    data = []
    for b in range(batches):
        batch = skip_none_collate([pool[i] for i in range(b * batch_size, (b + 1) * batch_size)])
        data.append(miner.model.data_preprocessor(batch, False))
    times = dict(bare=0.0, mining=0.0)
    with torch.no_grad():
        for _ in range(rounds):
            for d in data:
                order = ['bare', 'mining']
                random.shuffle(order)
                for arm in order:
                    start = time.perf_counter()
                    if arm == 'bare':
                        miner.model(d['inputs'], mode='tensor')
                    else:
                        miner.rows(d['inputs'], d['data_samples'])
                    times[arm] += time.perf_counter() - start
    n = rounds * sum(len(d['data_samples']) for d in data)
    return dict(mining_img_s=n / times['mining'], bare_img_s=n / times['bare'],
                mining_throughput_ratio=times['bare'] / times['mining'])


def main():
    args = parse_args()
    if args.mine_rss:
        return mine_rss(*args.mine_rss)
    args.work_dir = osp.abspath(args.work_dir)  # the memory arms run from the repository root
    root = osp.join(REPO, QUICK_DATA_ROOT)
    pool_root = osp.join(root, 'pool')
    split = ensure_quick_data(root, args.ratio, args.seed)

    # the whole method through the loop
    cfg = quick_config(CONFIG, root)
    cfg.train_dataloader.dataset.split_file = split
    cfg.train_cfg.pool.data_root = pool_root
    cfg.merge_from_dict(args.options)
    wd = osp.join(args.work_dir, 'omni')
    cfg.work_dir, cfg.log_level = wd, 'WARNING'
    cfg.experiment_name = f'omni_distill_{time.time_ns()}'
    cfg.resume = args.reuse
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    loop, loop_seconds = runner.train_loop, time.time() - start
    results = json.load(open(osp.join(wd, 'results.json')))
    mined_file = osp.join(wd, 'mined.txt')
    quality = mining_quality(mined_file, pool_root)

    # the cheap final (labeled + distilled, from the primitive) and its control without the distilled faces,
    # then the mining cost: minutes, measured before the fair measure's hours so a stopped run has them
    primitive = osp.join(wd, 'primitive', 'primitive.pth')
    cheap = Config.fromfile(osp.join(REPO, CHEAP_CONFIG)).train_cfg.final
    distilled = osp.join(wd, 'distilled', DISTILLED_FILE)
    loop.run_final(mined_file, distilled, primitive, 'final_distilled_only', **cheap)
    loop.run_final(mined_file, distilled, primitive, 'final_labeled_finetune', **dict(cheap, distilled_repeat=0))

    # mining cost
    miner, pool = miner_and_pool(cfg, primitive, osp.join(pool_root, 'list.txt'))
    speed = throughput(miner, pool)
    list50k = osp.join(args.work_dir, 'list50k.txt')
    with open(osp.join(pool_root, 'list.txt')) as f:
        names = [osp.join(pool_root, line.strip()) for line in f if line.strip()]
    with open(list50k, 'w') as f:
        f.writelines(f'{n}\n' for n in names * 5)
    list10k = osp.join(args.work_dir, 'list10k.txt')
    with open(list10k, 'w') as f:
        f.writelines(f'{n}\n' for n in names)
    cfg_file = osp.join(wd, osp.basename(CONFIG))
    cfg.dump(cfg_file)
    rss = {}
    for name, path in (('10k', list10k), ('50k', list50k)):
        proc = subprocess.run([sys.executable, __file__, '--mine-rss', cfg_file, primitive, path],
                              capture_output=True, text=True, cwd=REPO, check=True)
        rss[name] = json.loads(proc.stdout.strip().splitlines()[-1])['peak_rss_mib']

    acc = lambda name: round(loop.results[name]['accuracy/top1'] / 100, 4)  # noqa: E731
    mean_class = lambda name: round(loop.results[name]['mean_class/recall'] / 100, 4)  # noqa: E731
    out = dict(
        benchmark='omni_distill', quick=args.quick, label_ratio=args.ratio,
        mined_count=quality['mined_count'], mined_precision=round(quality['mined_precision'], 4),
        distractor_rejection=round(quality['distractor_rejection'], 4),
        mined_per_class=results['mining']['mined_per_class'], pool_skipped=results['mining']['skipped'],
        distiller=loop.distiller_cfg['type'], acc_labeled_only=acc('primitive'), acc_final=acc('final'),
        mean_class_acc_labeled_only=mean_class('primitive'), mean_class_acc_final=mean_class('final'),
        final_gain=round(acc('final') - acc('primitive'), 4),
        acc_final_distilled_only=acc('final_distilled_only'),
        mean_class_acc_final_distilled_only=mean_class('final_distilled_only'),
        acc_final_labeled_finetune=acc('final_labeled_finetune'),
        mean_class_acc_final_labeled_finetune=mean_class('final_labeled_finetune'),
        train_time_ratio_distilled_only=round(loop.results['final_distilled_only']['train_seconds']
                                              / loop.results['final']['train_seconds'], 4),
        mining_throughput_ratio=round(speed['mining_throughput_ratio'], 4),
        mining_img_s=round(speed['mining_img_s'], 1), bare_img_s=round(speed['bare_img_s'], 1),
        peak_rss_mib_10k=round(rss['10k'], 1), peak_rss_mib_50k=round(rss['50k'], 1),
        rss_growth=round(rss['50k'] / rss['10k'] - 1, 4), loop_seconds=round(loop_seconds, 1))
    print(json.dumps(out), flush=True)  # as it goes

    pre = build_classifier(cfg, primitive, 'cpu').data_preprocessor
    test = tensors(dict(cfg.test_dataloader.dataset, pipeline=eval_pipeline(cfg)), pre)
    out.update(fair_measure(loop, primitive, mined_file, args, test))
    ipc = loop.distiller_cfg.get('ipc', 10)
    out['distilled_gain_mean_class'] = round(out[f'mean_class_acc_distilled_ipc{ipc}']
                                             - out[f'mean_class_acc_random_ipc{ipc}'], 4)
    out['distilled_share_of_whole'] = round(out[f'acc_distilled_ipc{ipc}'] / out['acc_whole_set'], 4)
    out['goals'] = dict(
        mined_precision=out['mined_precision'] >= 0.95, distractor_rejection=out['distractor_rejection'] >= 0.95,
        final_gain=out['final_gain'] > 0.02, distilled_gain_mean_class=out['distilled_gain_mean_class'] >= 0.10,
        distilled_share_of_whole=out['distilled_share_of_whole'] >= 0.5,
        final_distilled_only=(out['acc_final_distilled_only'] > out['acc_labeled_only']
                              and out['train_time_ratio_distilled_only'] <= 0.1),
        mining_throughput_ratio=out['mining_throughput_ratio'] >= 0.9, rss_growth=out['rss_growth'] <= 0.10)
    out['goal_met'] = all(out['goals'].values())
    report(out)


if __name__ == '__main__':
    main()
