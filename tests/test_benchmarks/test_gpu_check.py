"""benchmarks/gpu_check.py in its CPU mode (--device cpu --tiny), as CI runs it: every stage a few iterations."""
import json
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_gpu_check_runs_every_stage_on_the_cpu(tmp_path, run_tool, monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO, 'benchmarks'))  # its `common` and `throughput` modules
    for name in ('common', 'throughput'):
        sys.modules.pop(name, None)
    code, log = run_tool('benchmarks/gpu_check.py', '--device', 'cpu', '--tiny', '--work-dir', tmp_path)
    assert code == 0, log[-5000:]
    result = json.loads(log.strip().splitlines()[-1])
    assert result['device'] == 'cpu' and result['failed'] == [] and result['stages_ok'] is True
    stages = result['stages']
    assert set(stages['resnet']) == {'supervised', 'stage1', 'stage2', 'stage3', 'stage3_control', 'omni_distill'}
    assert set(stages['vit']) == {'stage1', 'stage2', 'stage3'}  # FaceMAE and the ViT stages II / III
    assert all(s['finite'] and s['losses'] > 0 for arm in ('resnet', 'vit') for s in stages[arm].values())
    assert stages['method_b_files'] and stages['demo_exit'] == stages['onnx_exit'] == 0
    assert stages['inferencer_device'] == 'cpu' and stages['inferencer_faces'] == 4
    fp32 = result['throughput']['fp32']
    assert 'amp' not in result['throughput'] and all(fp32[k] > 0 for k in ('mae_ratio', 'stage2_ratio', 'stage3_ratio'))
    data = result['data']
    assert data['stage2_pipeline_img_s'] > 0 and data['stage3_pipeline_img_s'] > 0
    assert set(data['data_keeps_up']) == {'stage2', 'stage3'} and result['main_job'] is None
