"""tools/run_pipeline.py end to end on tiny SynthFER, then again reusing every stage."""
import json
import os.path as osp
import re
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = ['--num-train', '140', '--num-test', '60', '--num-pool', '80', '--ratio', '0.25', '--mae-epochs', '1',
        '--stage2-iters', '2', '--stage3-iters', '2', '--method-b-options', 'train_cfg.primitive.max_epochs=1',
        'train_cfg.final.max_epochs=1', 'train_cfg.mining.threshold=0.0', 'train_cfg.mining.min_similarity=-1.0',
        'train_cfg.mining.require_agreement=False', 'train_cfg.distiller.iterations=2', 'train_cfg.distiller.ipc=2',
        'train_cfg.distiller.batch_real=4', 'train_cfg.distiller.width=8', 'train_cfg.distiller.depth=2']


def test_pipeline_prints_the_table_and_reuses_finished_stages(tmp_path):
    cmd = [sys.executable, osp.join(REPO, 'tools', 'run_pipeline.py'), '--work-dir', str(tmp_path / 'wd'),
           '--data-root', str(tmp_path / 'data')] + TINY
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    assert '37 labeled faces (25% of 140)' in out  # round(0.25 * n) per class of the tiny set
    wd = tmp_path / 'wd'
    for label, name in (('supervised from scratch (ViT)', 'supervised'), ('method A, stage I + II', 'stage2'),
                        ('method A, stage I + II + III', 'stage3')):
        metrics = json.load(open(wd / name / 'test_metrics.json'))
        row = re.search(re.escape(label) + r'\s+([\d.]+)\s+([\d.]+)', out)
        assert row and float(row[1]) == round(metrics['accuracy/top1'], 2)
        assert float(row[2]) == round(metrics['mean_class/recall'], 2)
    results = json.load(open(wd / 'method_b' / 'results.json'))
    row = re.search(r'method B, \+ (\d+) mined \+ distilled\s+([\d.]+)', out)  # use_mined in the quick config
    assert int(row[1]) == results['mining']['mined'] and float(row[2]) == round(results['final']['accuracy/top1'], 2)
    pictures = out[out.index('pictures:'):].splitlines()[1:8]
    assert len(pictures) == 7 and not any('(missing)' in p for p in pictures)
    assert all(osp.getsize(p.split()[-1]) > 1000 for p in pictures)
    stamp = osp.getmtime(wd / 'stage3' / 'iter_2.pth')

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count('reusing') == 5 and 'training' not in second.stdout
    assert osp.getmtime(wd / 'stage3' / 'iter_2.pth') == stamp
    assert second.stdout[second.stdout.index('run  '):second.stdout.index('pictures:')] == \
        out[out.index('run  '):out.index('pictures:')]

    # another budget changes the supervised and stage III configs: those two train afresh, the rest is reused
    cmd[cmd.index('--stage3-iters') + 1] = '3'
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert third.stdout.count('reusing') == 3 and third.stdout.count('] training;') == 2
    assert osp.exists(wd / 'stage3' / 'iter_3.pth') and osp.exists(wd / 'supervised' / 'iter_5.pth')
