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
* ``acc_distilled_ipc10`` vs ``acc_random_ipc10``: dataset distillation's standard measure — a fresh
  ConvNet of the distiller's architecture trained only on the distilled images (DSA augmentation, 500
  full-batch SGD steps, mean of 3 seeds) against one trained on as many random real faces per class from
  the distiller's sources (mined, plus labeled with ``include_labeled``); goal: distilled wins by >= 0.05.
  ``*_resnet``: the same two sets under the quick ResNet and its recipe;
* ``train_time_ratio``: training on the distilled set / on the whole mined set, same epochs (goal <= 0.1),
  with both accuracies; the time is the sum of the training iterations' times (mmengine's
  ``IterTimerHook``), without building the runner or validating, which cost the same whatever the
  set; ``train_time_ratio_wall`` counts those too;
* ``mining_throughput_ratio``: miner images/s / bare model inference images/s on the same pre-loaded
  batches (goal >= 0.9);
* ``rss_growth``: peak RSS mining a 50k-entry pool / a 10k-entry pool - 1 (goal <= 0.10); the 50k list
  names each of the 10k pool's files five times, so the two differ only in pool length.

The last line printed is one JSON object.
"""
import argparse
import csv
import json
import os.path as osp
import random
import resource
import subprocess
import sys
import time

import torch
from common import REPO, quick_config, report, set_iter_schedule, train_and_eval
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from mmfer.apis import build_classifier
from mmfer.datasets import skip_none_collate
from mmfer.engine import build_miner, eval_pipeline
from mmfer.models.distillers import DISTILLED_FILE, convnet, siamese_augment
from mmfer.registry import DATASETS
from mmfer.utils.quick import QUICK_DATA_ROOT, ensure_quick_data

CONFIG = 'configs/omni_distill/omni-distill_resnet18-w16_quick48_synthfer-5pct.py'
SUPERVISED = 'configs/supervised/resnet18-w16_1xb64_synthfer-quick48.py'
DISTRACTORS = ('nonface', 'occluded', 'tiny')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='the quick config as it is (about 25 minutes; --reuse skips the finished loop stages)')
    parser.add_argument('--ratio', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ipc-iters', type=int, default=300, help='iterations of the ipc-10 arms')
    parser.add_argument('--compare-epochs', type=int, default=10, help='epochs of the train-time arms')
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


def face_list_cfg(cfg, ann_file, data_root='', pipeline=None):
    classes = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral')
    return dict(type='FaceList', ann_file=ann_file, data_root=data_root, classes=classes,
                pipeline=pipeline or cfg.train_dataloader.dataset.pipeline)


def train_on(ann_file, data_root, root, work_dir, name, iters=None, epochs=None):
    cfg = quick_config(SUPERVISED, root)
    cfg.train_dataloader.dataset = face_list_cfg(cfg, ann_file, data_root)
    if iters:
        set_iter_schedule(cfg, iters, warmup=20)
    else:
        cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs + 1)  # train_and_eval validates
        cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=epochs, eta_min=1e-6,
                                    convert_to_iter_based=True)]
    return train_and_eval(cfg, work_dir, name)


def tensors(dataset_cfg, preprocess):
    """Every image of a dataset config (eval pipeline) through ``preprocess``, and the labels."""
    dataset = DATASETS.build(dataset_cfg)
    batch = preprocess(pseudo_collate([dataset[i] for i in range(len(dataset))]), False)
    return batch['inputs'], torch.cat([s.gt_label for s in batch['data_samples']])


def convnet_accuracy(images, labels, test_images, test_labels, width, depth, epochs=500, seeds=(0, 1, 2)):
    """Dataset distillation's standard measure: a fresh ConvNet (the distiller's architecture) trained
    on the small set alone with DSA augmentation (SGD 0.01, momentum 0.9, lr / 10 at half time, full
    batch), test top-1 averaged over ``seeds``."""
    accs = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = convnet(width, depth, images.shape[-1], 7)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [epochs // 2], 0.1)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            [x] = siamese_augment(gen, images)
            loss = torch.nn.functional.cross_entropy(net(x), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            net.eval()
            pred = torch.cat([net(b).argmax(1) for b in test_images.split(500)])
        accs.append(float((pred == test_labels).float().mean()))
    return sum(accs) / len(accs)


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
    Runner.from_cfg(cfg).train()
    loop_seconds = time.time() - start
    results = json.load(open(osp.join(wd, 'results.json')))
    mined_file = osp.join(wd, 'mined.txt')
    quality = mining_quality(mined_file, pool_root)

    # ipc-10 arms: distilled images only vs as many random real faces per class, drawn from what the
    # distiller saw (mined faces, and the labeled ones with include_labeled)
    distilled = [line.split('\t') for line in open(osp.join(wd, 'distilled', 'distilled.txt'))]
    ipc = len(distilled) // 7
    real = [line.rstrip('\n').split('\t')[:2] for line in open(mined_file)]
    if cfg.train_cfg.distiller.get('include_labeled', True):
        labeled = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=[]))
        real += [(labeled.get_data_info(i)['img_path'], str(labeled.get_data_info(i)['gt_label']))
                 for i in range(len(labeled))]
    rng = random.Random(args.seed)
    chosen = []
    for c in range(7):
        faces = sorted(tuple(r) for r in real if int(r[1]) == c)
        chosen += rng.sample(faces, min(ipc, len(faces)))
    random_file = osp.join(args.work_dir, f'random_ipc{ipc}.txt')
    with open(random_file, 'w') as f:
        f.writelines(f'{p}\t{y}\n' for p, y in chosen)
    ddir = osp.join(wd, 'distilled')
    pre = build_classifier(cfg, osp.join(wd, 'primitive', 'primitive.pth')).data_preprocessor
    test = tensors(dict(cfg.test_dataloader.dataset, pipeline=eval_pipeline(cfg)), pre)
    width, depth = cfg.train_cfg.distiller.get('width', 64), cfg.train_cfg.distiller.get('depth', 3)
    dd_acc = {name: convnet_accuracy(*tensors(face_list_cfg(cfg, ann, root_, eval_pipeline(cfg)), pre), *test,
                                     width, depth)
              for name, ann, root_ in (('distilled', DISTILLED_FILE, ddir), ('random', random_file, ''))}
    # the same small sets under the quick ResNet and its training recipe
    acc_distilled = train_on(DISTILLED_FILE, ddir, root, args.work_dir, 'distilled_ipc', iters=args.ipc_iters)
    acc_random = train_on(random_file, '', root, args.work_dir, 'random_ipc', iters=args.ipc_iters)

    # the same epochs on the distilled set and on the whole mined set
    e = args.compare_epochs
    on_distilled = train_on(DISTILLED_FILE, ddir, root, args.work_dir, 'epochs_distilled', epochs=e)
    on_mined = train_on(mined_file, '', root, args.work_dir, 'epochs_mined', epochs=e)

    # mining cost
    checkpoint = osp.join(wd, 'primitive', 'primitive.pth')
    miner, pool = miner_and_pool(cfg, checkpoint, osp.join(pool_root, 'list.txt'))
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
        out = subprocess.run([sys.executable, __file__, '--mine-rss', cfg_file, checkpoint, path],
                             capture_output=True, text=True, cwd=REPO, check=True)
        rss[name] = json.loads(out.stdout.strip().splitlines()[-1])['peak_rss_mib']

    acc = lambda m: round(m['accuracy/top1'] / 100, 4)  # noqa: E731
    acc_labeled, acc_final = results['primitive']['accuracy/top1'] / 100, results['final']['accuracy/top1'] / 100
    out = dict(
        benchmark='omni_distill', quick=args.quick, label_ratio=args.ratio,
        mined_count=quality['mined_count'], mined_precision=round(quality['mined_precision'], 4),
        distractor_rejection=round(quality['distractor_rejection'], 4),
        mined_per_class=results['mining']['mined_per_class'], pool_skipped=results['mining']['skipped'],
        acc_labeled_only=round(acc_labeled, 4), acc_final=round(acc_final, 4),
        final_gain=round(acc_final - acc_labeled, 4),
        ipc=ipc, acc_distilled_ipc10=round(dd_acc['distilled'], 4), acc_random_ipc10=round(dd_acc['random'], 4),
        distilled_gain=round(dd_acc['distilled'] - dd_acc['random'], 4),
        acc_distilled_ipc10_resnet=acc(acc_distilled), acc_random_ipc10_resnet=acc(acc_random),
        compare_epochs=e, acc_epochs_distilled=acc(on_distilled), acc_epochs_mined=acc(on_mined),
        train_time_ratio=round(on_distilled['loop_seconds'] / on_mined['loop_seconds'], 4),
        train_time_ratio_wall=round(on_distilled['train_seconds'] / on_mined['train_seconds'], 4),
        mining_throughput_ratio=round(speed['mining_throughput_ratio'], 4),
        mining_img_s=round(speed['mining_img_s'], 1), bare_img_s=round(speed['bare_img_s'], 1),
        peak_rss_mib_10k=round(rss['10k'], 1), peak_rss_mib_50k=round(rss['50k'], 1),
        rss_growth=round(rss['50k'] / rss['10k'] - 1, 4), loop_seconds=round(loop_seconds, 1))
    out['goals'] = dict(
        mined_precision=out['mined_precision'] >= 0.95, distractor_rejection=out['distractor_rejection'] >= 0.95,
        final_gain=out['final_gain'] > 0.02, distilled_gain=out['distilled_gain'] >= 0.05,
        train_time_ratio=out['train_time_ratio'] <= 0.1, mining_throughput_ratio=out['mining_throughput_ratio'] >= 0.9,
        rss_growth=out['rss_growth'] <= 0.10)
    out['goal_met'] = all(out['goals'].values())
    report(out)


if __name__ == '__main__':
    main()
