"""Method B's miner: the selection rule, streaming with exact resume, sharding, per-class caps."""
import os
import os.path as osp
import shutil

import pytest
import torch
import torch.nn as nn
from mmpretrain.models import LinearClsHead

from mmfer.datasets import FaceList, UnlabeledFaces
from mmfer.engine import mining
from mmfer.engine.mining import ReliableSampleMiner, class_prototypes, select_mined
from mmfer.registry import MODELS

PROTOS = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])


class FeatureModel(nn.Module):
    """A 'classifier' whose inputs are its features; logits = 5 * x . prototypes."""

    def __init__(self):
        super().__init__()
        self.head = LinearClsHead(num_classes=3, in_channels=2)
        with torch.no_grad():
            self.head.fc.weight.copy_(5 * PROTOS)
            self.head.fc.bias.zero_()

    def extract_feat(self, x):
        return (x, )


def test_score_applies_confidence_similarity_and_agreement():
    x = torch.tensor([[1., 0.], [1., 1.], [0.2, 0.], [-1., 0.1]])
    pred, conf, sim, keep, probs = ReliableSampleMiner(FeatureModel(), PROTOS, threshold=0.9).score(x)
    assert pred[[0, 2, 3]].tolist() == [0, 0, 2]
    assert torch.allclose(probs, (5 * x @ PROTOS.T).softmax(1))
    expected_conf = (5 * x @ PROTOS.T).softmax(1).max(1).values
    assert torch.allclose(conf, expected_conf)
    assert torch.allclose(sim, (nn.functional.normalize(x, dim=1) * PROTOS[pred]).sum(1))
    # [1,0]: sure and on its prototype; [1,1]: unsure (0.5); [0.2,0]: on the prototype but unsure (0.67)
    assert keep.tolist() == [True, False, False, True]

    # prototypes that disagree with the classifier: class 0's prototype at 53 degrees from [1, 0]
    protos = torch.tensor([[0.6, 0.8], [0., 1.], [-1., 0.]])
    x = torch.tensor([[1., 0.]])
    assert ReliableSampleMiner(FeatureModel(), protos, 0.9, min_similarity=0.7).score(x)[3].tolist() == [False]
    assert ReliableSampleMiner(FeatureModel(), protos, 0.9, min_similarity=0.5).score(x)[3].tolist() == [True]
    # prototypes of classes 0 and 1 swapped: [1, 0.2] is class 0 to the classifier (conf 0.98) but
    # nearest to class 1's prototype -- kept only when agreement is not required
    swapped, z = torch.tensor([[0., 1.], [1., 0.], [-1., 0.]]), torch.tensor([[1., 0.2]])
    assert ReliableSampleMiner(FeatureModel(), swapped, 0.9, -1.0).score(z)[3].tolist() == [False]
    assert ReliableSampleMiner(FeatureModel(), swapped, 0.9, -1.0, require_agreement=False).score(z)[3].tolist() \
        == [True]


def test_flip_tta_averages_both_views_and_requires_them_to_agree():
    # a 2-d "image" mirrors by swapping its two values
    x = torch.tensor([[1., 0.], [-1., -0.5], [-1., -1.]])
    pred, conf, sim, keep, mean = ReliableSampleMiner(FeatureModel(), PROTOS, threshold=0.9, flip_tta=True).score(x)
    flipped = x.flip(-1)
    probs = ((5 * x @ PROTOS.T).softmax(1) + (5 * flipped @ PROTOS.T).softmax(1)) / 2
    assert torch.allclose(mean, probs) and torch.allclose(conf, probs.max(1).values)
    assert pred.tolist() == probs.argmax(1).tolist()
    emb = nn.functional.normalize(nn.functional.normalize(x, dim=1) + nn.functional.normalize(flipped, dim=1), dim=1)
    assert torch.allclose(sim, (emb * PROTOS[pred]).sum(1))
    assert keep.tolist() == [False, True, True]
    # [1, 0] is class 0 but its mirror [0, 1] is class 1: with every other rule off, only the views'
    # disagreement rejects it
    loose = dict(threshold=0.0, min_similarity=-1.0, require_agreement=False)
    assert ReliableSampleMiner(FeatureModel(), PROTOS, **loose).score(x)[3].tolist() == [True, True, True]
    assert ReliableSampleMiner(FeatureModel(), PROTOS, **loose, flip_tta=True).score(x)[3].tolist() \
        == [False, True, True]


def test_class_prototypes_are_normalised_class_means():
    from mmpretrain.structures import DataSample

    class Pre(nn.Module):
        def forward(self, data, training):
            return data

    model = FeatureModel()
    model.data_preprocessor = Pre()
    x = torch.tensor([[2., 0.], [0., 3.], [0., 1.], [-1., -1.]])
    labels = [0, 1, 1, 2]
    batch = dict(inputs=x, data_samples=[DataSample().set_gt_label(y) for y in labels])
    protos = class_prototypes(model, [batch], 3)
    assert torch.allclose(protos, torch.tensor([[1., 0.], [0., 1.], [-0.7071068, -0.7071068]]), atol=1e-6)
    with pytest.raises(ValueError, match=r'classes \[2\]'):
        class_prototypes(model, [dict(inputs=x[:3], data_samples=batch['data_samples'][:3])], 3)


def tiny_classifier():
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='mmpretrain.ImageClassifier',
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', mean=[128] * 3, std=[64] * 3, num_classes=7),
        backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=7, in_channels=64))).eval()


@pytest.fixture
def pool_dir(synthfer_root, tmp_path):
    """SynthFER's tiny pool (80 images) with image 10 truncated and image 60 not an image."""
    root = str(tmp_path / 'pool')
    shutil.copytree(osp.join(synthfer_root, 'pool', 'images'), root)
    names = sorted(os.listdir(root))
    with open(osp.join(root, names[10]), 'r+b') as f:
        f.truncate(40)
    with open(osp.join(root, names[60]), 'wb') as f:
        f.write(b'not an image')
    return root


def make_pool(root):
    pipe = [dict(type='LoadFaceImage', ignore_empty=True), dict(type='mmpretrain.PackInputs')]
    return UnlabeledFaces(data_root=root, pipeline=pipe, test_mode=True)


class Crashing:
    """The pool, dying when it reaches position ``at`` (a killed run)."""

    def __init__(self, pool, at):
        self.pool, self.at = pool, at

    def __len__(self):
        return len(self.pool)

    def __getitem__(self, i):
        if i == self.at:
            raise KeyboardInterrupt('killed')
        return self.pool[i]


def keep_all(model):
    return ReliableSampleMiner(model, torch.eye(7, 64), threshold=0.0, min_similarity=-1.0,
                               require_agreement=False)


def test_mine_streams_skips_and_resumes_without_loss_or_duplicates(pool_dir, tmp_path, capsys):
    model = tiny_classifier()
    straight = keep_all(model).mine(make_pool(pool_dir), str(tmp_path / 'a'), batch_size=8, flush_every=2)
    out = capsys.readouterr().out
    assert '10/10' in out and out.endswith('\n')  # the progress bar ends its line
    rows = open(tmp_path / 'a' / 'rank0.tsv').read().splitlines()
    assert straight['done'] == 80 and straight['skipped'] == 2 and straight['candidates'] == 78 == len(rows)
    assert [int(r.split('\t')[0]) for r in rows] == [i for i in range(80) if i not in (10, 60)]

    # killed at position 50: chunks of 2 x 8 images were recorded up to 48
    with pytest.raises(KeyboardInterrupt):
        keep_all(model).mine(Crashing(make_pool(pool_dir), 50), str(tmp_path / 'b'), batch_size=8, flush_every=2)
    state = open(tmp_path / 'b' / 'rank0.json').read()
    assert '"done": 48' in state and '"skipped": 1' in state
    with open(tmp_path / 'b' / 'rank0.tsv', 'a') as f:  # half a chunk written after the last record
        f.write('49\tpartial\t3\t0.5')
    resumed = keep_all(model).mine(make_pool(pool_dir), str(tmp_path / 'b'), batch_size=8, flush_every=2)
    assert open(tmp_path / 'b' / 'rank0.tsv').read().splitlines() == rows
    assert (resumed['done'], resumed['skipped'], resumed['candidates']) == (80, 2, 78)

    # a fresh (not resumed) run starts over
    again = keep_all(model).mine(make_pool(pool_dir), str(tmp_path / 'b'), batch_size=8, resume=False)
    assert again['candidates'] == 78 and open(tmp_path / 'b' / 'rank0.tsv').read().splitlines() == rows


def test_two_shards_mine_the_same_set_as_one(pool_dir, tmp_path, monkeypatch):
    model = tiny_classifier()
    miner = ReliableSampleMiner(model, torch.nn.functional.normalize(torch.randn(7, 64), dim=1), threshold=0.15,
                                min_similarity=-1.0, require_agreement=False)
    one = str(tmp_path / 'one' / 'mining')
    miner.mine(make_pool(pool_dir), one, batch_size=8)
    two = str(tmp_path / 'two' / 'mining')
    for rank in (0, 1):
        monkeypatch.setattr(mining, 'get_dist_info', lambda: (rank, 2))
        state = miner.mine(make_pool(pool_dir), two, batch_size=8)
        assert state['done'] == 40
    for kwargs in (dict(), dict(max_per_class=3), dict(class_balance=1.0, rank_by='confidence')):
        a, counts_a = select_mined(one, 1, 7, **kwargs)
        b, counts_b = select_mined(two, 2, 7, **kwargs)
        assert open(a).read() == open(b).read() and counts_a == counts_b
    assert 0 < sum(counts_a) < 78


def test_select_mined_caps_each_class_and_keeps_the_best(tmp_path):
    out = tmp_path / 'mining'
    out.mkdir()
    rows = {0: [(0, 0, .99, .9), (2, 0, .95, .9), (4, 1, .97, .8), (6, 0, .91, .2)],
            1: [(1, 0, .92, .95), (3, 1, .93, .9), (5, 0, .96, .6), (7, 2, .9, .9)]}
    for rank, items in rows.items():
        with open(out / f'rank{rank}.tsv', 'w') as f:
            f.writelines(f'{i}\timg{i}.jpg\t{c}\t{p}\t{s}\t{i / 10},{1 - i / 10},0.0\n' for i, c, p, s in items)
    path, counts = select_mined(str(out), 2, 3)
    assert counts == [5, 2, 1] and len(open(path).read().splitlines()) == 8
    path, counts = select_mined(str(out), 2, 3, max_per_class=2)  # by conf x sim: 0 (.891), 1 (.874)
    assert counts == [2, 2, 1]
    assert [line.split('\t')[0] for line in open(path).read().splitlines()] == \
        ['img0.jpg', 'img1.jpg', 'img3.jpg', 'img4.jpg', 'img7.jpg']
    path, counts = select_mined(str(out), 2, 3, max_per_class=2, rank_by='confidence')  # 0 (.99), 5 (.96)
    assert [line.split('\t')[0] for line in open(path).read().splitlines()][:2] == ['img0.jpg', 'img3.jpg']
    # class_balance caps at k x the median candidate count (2 here), not at k x the rarest class's (1)
    _, counts = select_mined(str(out), 2, 3, class_balance=1.0)
    assert counts == [2, 2, 1]
    balanced, counts = select_mined(str(out), 2, 3, class_balance=2.0)  # cap 4: class 0 loses img6 (.182)
    assert counts == [4, 2, 1]
    assert 'img6.jpg' not in [line.split('\t')[0] for line in open(balanced).read().splitlines()]
    _, counts = select_mined(str(out), 2, 4, class_balance=2.0)  # a 4th class without candidates is ignored
    assert counts == [4, 2, 1, 0]
    mined = FaceList(ann_file=path, classes=('a', 'b', 'c'))
    assert mined.get_data_info(0)['gt_label'] == 0 and mined.get_data_info(0)['confidence'] == pytest.approx(.99)
    img4 = next(mined.get_data_info(i) for i in range(len(mined)) if mined.get_data_info(i)['img_path'] == 'img4.jpg')
    assert img4['probs'].tolist() == pytest.approx([.4, .6, 0.])  # the candidate row's, carried through


def test_build_miner_from_the_config(synthfer_root, split_file, tmp_path):
    """train_cfg.mining builds a registered miner (TASK_UTILS); the loop's own keys are not passed to it."""
    from mmengine.config import Config

    from mmfer.engine import build_miner
    from mmfer.registry import TASK_UTILS
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs', 'omni_distill',
                                   'omni-distill_resnet18-w16_quick48_synthfer-5pct.py'))
    cfg.merge_from_dict({'model.backbone.base_channels': 8, 'model.backbone.stem_channels': 8,
                         'model.head.in_channels': 64, 'train_dataloader.dataset.data_root': synthfer_root,
                         'train_dataloader.dataset.split_file': split_file,
                         'train_cfg.mining.threshold': 0.6, 'train_cfg.mining.max_per_class': 5})
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, str(tmp_path / 'p.pth'))
    miner = build_miner(cfg, str(tmp_path / 'p.pth'))
    assert type(miner) is ReliableSampleMiner and miner.threshold == 0.6 and miner.prototypes.shape == (7, 64)
    torch.testing.assert_close(miner.prototypes.norm(dim=1), torch.ones(7))

    @TASK_UTILS.register_module(force=True)
    class EveryFaceMiner(ReliableSampleMiner):
        pass

    cfg.train_cfg.mining.type = 'EveryFaceMiner'
    assert type(build_miner(cfg, str(tmp_path / 'p.pth'))) is EveryFaceMiner
