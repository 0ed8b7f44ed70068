"""tools/run_pipeline.py end to end on tiny SynthFER, then again reusing every stage."""
import importlib.util
import json
import os
import os.path as osp
import re
import sys
import time

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location('run_pipeline', osp.join(REPO, 'tools', 'run_pipeline.py'))
run_pipeline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_pipeline)

TINY = ['--num-train', '140', '--num-test', '60', '--num-pool', '80', '--ratio', '0.25', '--stage1-epochs', '1',
        '--stage2-iters', '2', '--stage3-iters', '2', '--omni-distill-options', 'train_cfg.final.max_epochs=1',
        'train_cfg.mining.threshold=0.0', 'train_cfg.mining.min_similarity=-1.0',
        'train_cfg.mining.require_agreement=False', 'train_cfg.distiller.iterations=2', 'train_cfg.distiller.ipc=2',
        'train_cfg.distiller.batch_real=4', 'train_cfg.distiller.width=8', 'train_cfg.distiller.depth=2']


def test_stage_output_goes_to_its_log_and_progress_lines_to_the_console(tmp_path, capsys):
    """``Pipeline._run``: a stage is a subprocess whose whole output lands in its log; the console
    shows the progress lines (without logger prefixes or warnings); a failed stage stops the pipeline."""
    pipeline, log = run_pipeline.Pipeline(str(tmp_path)), str(tmp_path / 'stage.log')
    bars = [f'[{">" * k:<4}] {k}/4, 9.0 task/s, elapsed: 1s, ETA:     1s' for k in (1, 2, 4)]
    lines = ['2026/11/25 03:00:00 - mmengine - INFO - Epoch(train) [1][5/5]  lr: 1e-03  loss: 0.5',
             'a detail', '2026/11/25 03:00:01 - mmengine - WARNING - Epoch(train) skipped', 'OmniDistillLoop: mining']
    # a progress bar redraws its line with carriage returns: the first and the last state reach the console
    pipeline._run('stage', ['-c', 'print(%r, end=%r)' % ('\n'.join(lines) + '\n' + '\r'.join(bars), '\n')], log)
    assert capsys.readouterr().out == '  [stage] Epoch(train) [1][5/5]  lr: 1e-03  loss: 0.5\n' \
                                      '  [stage] OmniDistillLoop: mining\n' \
                                      f'  [stage] {bars[0]}\n  [stage] {bars[2]}\n'
    assert open(log).read().splitlines() == lines + bars and set(pipeline.seconds) == {'stage'}
    with pytest.raises(SystemExit, match=r'broken failed \(exit 3\)'):
        pipeline._run('broken', ['-c', 'raise SystemExit(3)'], log)


def test_stages_run_together_with_one_thread_each(tmp_path, capsys):
    """``Pipeline.together``: two stages at once (wall time of one, not of both), each subprocess told to use one
    compute thread; a failed one stops the pipeline after the other has finished."""
    pipeline = run_pipeline.Pipeline(str(tmp_path))
    code = "import os, time; time.sleep(2); print('Epoch(train) threads', os.environ.get('OMP_NUM_THREADS'))"

    def stage(name, script=code):
        return lambda: pipeline._run(name, ['-c', script], str(tmp_path / f'{name}.log')) or name

    start = time.time()
    assert pipeline.together(a=stage('a'), b=stage('b')) == dict(a='a', b='b')
    assert time.time() - start < 3.5  # 2 s each, at the same time (plus two interpreter starts)
    assert open(tmp_path / 'a.log').read() == open(tmp_path / 'b.log').read() == 'Epoch(train) threads 1\n'
    out = capsys.readouterr().out
    assert '  [a] Epoch(train) threads 1' in out and '  [b] Epoch(train) threads 1' in out
    with pytest.raises(SystemExit, match=r'broken failed \(exit 3\)'):
        pipeline.together(a=stage('a2'), broken=stage('broken', 'raise SystemExit(3)'))
    assert 'threads 1' in open(tmp_path / 'a2.log').read()  # the other stage ran to its end
    pipeline._run('alone', ['-c', code], str(tmp_path / 'alone.log'))  # afterwards: the machine's default
    assert open(tmp_path / 'alone.log').read() == f"Epoch(train) threads {os.environ.get('OMP_NUM_THREADS')}\n"


def test_a_stage_left_running_alone_gets_the_machines_threads(tmp_path):
    """``Pipeline._widen``: a stage started at one thread beside another is told this process's thread count
    (``follow_thread_count`` in the stage) once the other has ended, and nothing is left narrowed."""
    pipeline = run_pipeline.Pipeline(str(tmp_path))
    pipeline.threads = 3  # distinguishable from the one thread of a side-by-side stage on any machine
    follow = ("import time, torch; from mmfer.utils import follow_thread_count; follow_thread_count(); "
              "print('Epoch(train) threads', torch.get_num_threads(), flush=True); start = time.time()\n"
              f"open({str(tmp_path / 'started')!r}, 'w').close()\n"
              "while torch.get_num_threads() == 1 and time.time() - start < 30: time.sleep(0.05)\n"
              "print('Epoch(train) threads', torch.get_num_threads(), round(time.time() - start))")

    def stage(name, script):
        return lambda: pipeline._run(name, ['-c', script], str(tmp_path / f'{name}.log')) or name

    # the short stage ends once the long one has started at one thread
    wait = (f"import os, time; start = time.time()\n"
            f"while time.time() - start < 60 and not os.path.exists({str(tmp_path / 'started')!r}): time.sleep(0.05)")
    pipeline.together(long=stage('long', follow), short=stage('short', wait))
    lines = open(tmp_path / 'long.log').read().splitlines()
    assert lines[0] == 'Epoch(train) threads 1' and lines[1].startswith('Epoch(train) threads 3 ')
    assert int(lines[1].split()[-1]) < 10  # widened when the short stage ended, not at the 30 s limit
    assert pipeline.lanes == 1 and not pipeline.narrowed


def test_a_stage_that_stopped_reading_its_thread_count_does_not_fail_the_pipeline(tmp_path):
    """``Pipeline._widen`` to a stage whose stdin is already closed (a stage ending as the other one ends):
    the unsent thread count is dropped and both stages succeed (it once failed the pipeline with a broken
    pipe when the stage's stdin was closed)."""
    pipeline = run_pipeline.Pipeline(str(tmp_path))
    closed = tmp_path / 'closed'
    deaf = f"import os, time; os.close(0); open({str(closed)!r}, 'w').close(); time.sleep(2)"
    wait = (f"import os, time; start = time.time()\n"
            f"while time.time() - start < 60 and not os.path.exists({str(closed)!r}): time.sleep(0.05)")

    def stage(name, script):
        return lambda: pipeline._run(name, ['-c', script], str(tmp_path / f'{name}.log')) or name

    assert pipeline.together(deaf=stage('deaf', deaf), short=stage('short', wait)) == dict(deaf='deaf',
                                                                                           short='short')
    assert pipeline.lanes == 1 and not pipeline.narrowed


def test_pipeline_prints_the_table_and_reuses_finished_stages(tmp_path, monkeypatch, capfd):
    def pipeline(*args):
        capfd.readouterr()
        monkeypatch.setattr(sys, 'argv', ['run_pipeline.py', '--work-dir', str(tmp_path / 'wd'), '--data-root',
                                          str(tmp_path / 'data'), '--in-process', *args])
        run_pipeline.main()
        return capfd.readouterr().out

    out = pipeline(*TINY)
    assert '37 labeled faces (25% of 140)' in out  # round(0.25 * n) per class of the tiny set
    wd = tmp_path / 'wd'
    for label, name in (('supervised ResNet (= method B primitive)', 'supervised'),
                        ('method A, stage I + II', 'stage2'), ('method A, stage I + II + III', 'stage3'),
                        ('stage III control (no unlabeled loss)', 'stage3_control')):
        metrics = json.load(open(wd / name / 'test_metrics.json'))
        row = re.search(re.escape(label) + r'\s+([\d.]+)\s+([\d.]+)', out)
        assert row and float(row[1]) == round(metrics['accuracy/top1'], 2)
        assert float(row[2]) == round(metrics['mean_class/recall'], 2)
    results = json.load(open(wd / 'omni_distill' / 'results.json'))
    assert results['primitive'] == dict(checkpoint=str(wd / 'supervised' / 'iter_4.pth'))  # trained once
    row = re.search(r'method B, \+ (\d+) mined \+ distilled\s+([\d.]+)', out)  # use_mined in the quick config
    assert int(row[1]) == results['mining']['mined'] and float(row[2]) == round(results['final']['accuracy/top1'], 2)
    pictures = out[out.index('pictures:'):].splitlines()[1:8]
    assert len(pictures) == 7 and not any('(missing)' in p for p in pictures)
    assert all(osp.getsize(p.split()[-1]) > 1000 for p in pictures)
    stamp = osp.getmtime(wd / 'stage3' / 'iter_2.pth')

    second = pipeline(*TINY)
    assert second.count('reusing') == 6 and 'training' not in second
    assert osp.getmtime(wd / 'stage3' / 'iter_2.pth') == stamp
    assert second[second.index('run  '):second.index('pictures:')] == out[out.index('run  '):out.index('pictures:')]

    # another stage III budget changes the supervised (the labeled budget of II + III), stage III, its control
    # and method B (its primitive is the supervised run): those train afresh, stages I and II are reused
    tiny = list(TINY)
    tiny[tiny.index('--stage3-iters') + 1] = '3'
    third = pipeline(*tiny)
    assert third.count('reusing') == 2 and third.count('] training;') == 4
    assert osp.exists(wd / 'stage3' / 'iter_3.pth') and osp.exists(wd / 'supervised' / 'iter_5.pth')
