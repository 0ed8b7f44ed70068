"""What method B's dataset distillers share: real faces by class, a siamese augmentation, a small
randomly initialised ConvNet, and a resumable optimisation of the synthetic images."""
import inspect
import os
import os.path as osp
import sys
from typing import Callable, List, Optional

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.utils import track_iter_progress

from mmfer.utils.fileio import atomic_open, write_atomic
from mmfer.visualization import class_rows_grid

DISTILLED_FILE = 'distilled.txt'
#: Faces per forward pass of a distillation ConvNet on the CPU. A step pushes hundreds of faces through
#: it (DM: 64 real and 40 synthetic per class); in chunks of 32 their activations stay in the CPU's caches
#: and the quick config's step takes 4.0 s instead of 7.2 on one thread of a 2-core machine, with the same
#: results (every layer works per face).
CPU_CHUNK = 32


class RealFaces:
    """The mined faces grouped by class, served in the classifier's input space.

    Args:
        dataset: a labeled dataset whose pipeline ends in ``PackInputs`` at the distillation size.
        preprocess: the classifier's data preprocessor (uint8 BGR -> normalised RGB).
        num_classes: number of classes.
        cache_bytes: hold every image in memory (uint8) when they fit in this many bytes;
            otherwise each batch is read from disk.
        embed: maps a batch of preprocessed faces to ``(B, D)`` features (the primitive model's
            pre-logits in :class:`OmniDistillLoop`); needed by :meth:`typical` only.
    """

    def __init__(self, dataset, preprocess: Callable, num_classes: int, cache_bytes: int = 2 << 30,
                 embed: Optional[Callable[[torch.Tensor], torch.Tensor]] = None):
        self.dataset, self.preprocess, self.embed = dataset, preprocess, embed
        labels = np.array([dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))], dtype=np.int64)
        self.by_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
        empty = [c for c, idx in enumerate(self.by_class) if idx.size == 0]
        if empty:
            raise ValueError(f'no mined faces for classes {empty}: lower the mining threshold or '
                             'raise the per-class caps before distilling')
        first = dataset[0]['inputs']
        self.shape = tuple(first.shape)
        self.device = self.preprocess(dict(inputs=[first]), False)['inputs'].device
        self.cache = None
        if len(dataset) * first.numel() <= cache_bytes:
            self.cache = torch.empty((len(dataset), ) + self.shape, dtype=first.dtype)
            for i in track_iter_progress(range(len(dataset)), file=sys.stdout):
                self.cache[i] = dataset[i]['inputs']

    def sample(self, c: int, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` faces of class ``c``, without repetition while the class has enough."""
        pool = self.by_class[c]
        if pool.size >= n:
            pick = torch.randperm(pool.size, generator=generator)[:n]
        else:
            pick = torch.randint(pool.size, (n, ), generator=generator)
        return self._load(pool[pick.numpy()])

    def pixel_range(self):
        """The lowest and highest value each channel can take in the preprocessed space (black and white
        images through ``preprocess``), as two ``(1, C, 1, 1)`` tensors."""
        shape = self.shape
        dtype = self.cache.dtype if self.cache is not None else torch.uint8
        black, white = (torch.full(shape, v, dtype=dtype) for v in (0, 255))
        out = self.preprocess(dict(inputs=[black, white]), False)['inputs'][:, :, :1, :1]
        return out.min(0, keepdim=True)[0], out.max(0, keepdim=True)[0]

    def _load(self, idx: np.ndarray) -> torch.Tensor:
        if self.cache is not None:
            raw = list(self.cache[torch.from_numpy(idx)])
        else:
            raw = [self.dataset[int(i)]['inputs'] for i in idx]
        return self.preprocess(dict(inputs=raw), False)['inputs']

    @torch.no_grad()
    def typical(self, c: int, n: int, batch_size: int = 256) -> torch.Tensor:
        """``n`` faces of class ``c`` chosen by herding (Welling, ICML 2009) in ``embed``'s feature space:
        each pick brings the mean feature of the faces picked so far closest to the class's mean feature."""
        if self.embed is None:
            raise ValueError('RealFaces.typical needs an embed function')
        pool = self.by_class[c]
        feats = torch.cat([self.embed(self._load(pool[i:i + batch_size])).flatten(1).float().cpu()
                           for i in range(0, pool.size, batch_size)])
        target, total, picked = feats.mean(0), torch.zeros(feats.shape[1]), []
        for k in range(min(n, pool.size)):
            gap = (target - (total + feats) / (k + 1)).pow(2).sum(1)
            gap[picked] = float('inf')
            picked.append(int(gap.argmin()))
            total += feats[picked[-1]]
        return self._load(pool[np.resize(picked, n)])  # fewer faces than n: each repeated in turn


def siamese_augment(generator: torch.Generator, *batches: torch.Tensor) -> List[torch.Tensor]:
    """One random flip / translation / colour jitter drawn once and applied to every batch.

    Differentiable (DSA-style): the synthetic images receive gradients through it.
    """
    h = batches[0].shape[-1]
    flip = bool(torch.rand(1, generator=generator) < 0.5)
    margin = max(1, h // 8)
    dx, dy = (int(v) for v in torch.randint(0, 2 * margin + 1, (2, ), generator=generator))
    scale = 0.8 + 0.4 * float(torch.rand(1, generator=generator))
    shift = 0.4 * float(torch.rand(1, generator=generator)) - 0.2
    out = []
    for x in batches:
        if flip:
            x = x.flip(-1)
        x = F.pad(x, (margin, ) * 4)[..., dy:dy + h, dx:dx + h]
        out.append(x * scale + shift)
    return out


def chunked(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net(x)`` computed :data:`CPU_CHUNK` faces at a time on the CPU (whole on other devices); for
    networks that treat each sample alone (instance norm, no batch statistics)."""
    if x.device.type != 'cpu' or len(x) <= CPU_CHUNK:
        return net(x)
    return torch.cat([net(part) for part in x.split(CPU_CHUNK)])


def convnet(width: int, depth: int, img_size: int, num_classes: Optional[int] = None) -> nn.Sequential:
    """The dataset-distillation ConvNet: ``depth`` x (conv 3x3, instance norm, ReLU, avg-pool 2)."""
    layers, channels = [], 3
    for _ in range(depth):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.GroupNorm(width, width, affine=True),
                   nn.ReLU(inplace=True), nn.AvgPool2d(2)]
        channels = width
    layers.append(nn.Flatten())
    if num_classes:
        layers.append(nn.Linear(width * (img_size // 2**depth)**2, num_classes))
    return nn.Sequential(*layers)


class BaseDistiller:
    """Optimises ``ipc`` synthetic images per class; subclasses define one :meth:`step`.

    Every iteration draws its randomness (network initialisation, real batches, augmentation)
    from a generator seeded by ``(seed, iteration)``, and the images and their optimiser are
    saved every ``save_interval`` iterations, so a run killed and resumed ends with the same
    images as an uninterrupted one.

    Args:
        ipc: synthetic images per class.
        iterations: optimisation steps (one freshly initialised network each).
        lr: SGD learning rate of the images (normalised pixel space).
        momentum: SGD momentum.
        batch_real: real faces per class per step.
        width, depth: the ConvNet's channels and number of blocks.
        augment: apply :func:`siamese_augment` to real and synthetic batches.
        init: ``'real'`` (start from random mined faces of the class), ``'typical'`` (from the faces
            :meth:`RealFaces.typical` picks by herding in the primitive model's feature space) or ``'noise'``.
        factor: IDC's multi-formation (Kim et al., ICML 2022), IDM's partitioning and expansion: each stored
            image is a ``factor x factor`` mosaic of faces at ``1 / factor`` of the size, and the networks see
            them one by one, upsampled (:meth:`decode`), so ``ipc`` stored images give ``ipc * factor**2``
            training faces per class for the same pixels. 1: one face per image (DM).
        clip: keep every pixel inside what an 8-bit image can hold (the preprocessed values of 0 and 255)
            after each step, so the images written as PNG are the images distilled.
        seed: seed of the whole optimisation.
        save_interval: iterations between saved states.

    After :meth:`run`, ``losses`` holds the matching loss of every iteration (kept across resumes).
    A saved state records :meth:`settings`; resuming it with other settings, or with fewer
    ``iterations`` than it holds, raises an error naming the file instead of returning images that
    another run made.
    """

    def __init__(self, ipc: int = 10, iterations: int = 1000, lr: float = 1.0, momentum: float = 0.5,
                 batch_real: int = 64, width: int = 64, depth: int = 3, augment: bool = True,
                 init: str = 'real', factor: int = 1, clip: bool = True, seed: int = 0, save_interval: int = 100):
        if init not in ('real', 'typical', 'noise'):
            raise ValueError(f"init must be 'real', 'typical' or 'noise', got {init!r}")
        if factor < 1:
            raise ValueError(f'factor must be at least 1, got {factor}')
        self.ipc, self.iterations, self.lr, self.momentum = ipc, iterations, lr, momentum
        self.batch_real, self.width, self.depth, self.augment = batch_real, width, depth, augment
        self.init, self.factor, self.clip, self.seed, self.save_interval = init, factor, clip, seed, save_interval

    @property
    def faces_per_class(self) -> int:
        """Training faces per class that the ``ipc`` stored images decode into."""
        return self.ipc * self.factor**2

    def decode(self, images: torch.Tensor) -> torch.Tensor:
        """Stored images ``(N, C, H, W)`` -> the faces they hold, ``(N * factor**2, C, H, W)``: each image's
        ``factor x factor`` tiles in row order, upsampled (bilinear) to ``H x W``; the identity for factor 1."""
        f = self.factor
        if f == 1:
            return images
        n, c, h, w = images.shape
        if h % f or w % f:
            raise ValueError(f'factor {f} does not divide the image size {h}x{w}')
        tiles = images.reshape(n, c, f, h // f, f, w // f).permute(0, 2, 4, 1, 3, 5)
        tiles = tiles.reshape(n * f * f, c, h // f, w // f)
        return F.interpolate(tiles, size=(h, w), mode='bilinear', align_corners=False)

    def encode(self, faces: torch.Tensor) -> torch.Tensor:
        """Faces ``(N * factor**2, C, H, W)`` -> ``N`` stored mosaics (downsampled, antialiased): the inverse
        of :meth:`decode` up to the resolution lost."""
        f = self.factor
        if f == 1:
            return faces
        m, c, h, w = faces.shape
        small = F.interpolate(faces, size=(h // f, w // f), mode='bilinear', antialias=True, align_corners=False)
        return small.reshape(m // (f * f), f, f, c, h // f, w // f).permute(0, 3, 1, 4, 2, 5).reshape(-1, c, h, w)

    def _class_faces(self, syn: torch.Tensor, c: int) -> torch.Tensor:
        """The training faces of class ``c`` (decoded from its ``ipc`` stored images)."""
        return self.decode(syn[c * self.ipc:(c + 1) * self.ipc])

    def _generator(self, iteration: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + iteration + 1)

    def _net(self, generator: torch.Generator, img_size: int, num_classes: Optional[int] = None,
             device: Optional[torch.device] = None) -> nn.Module:
        """A freshly initialised ConvNet (drawn on the CPU from ``generator``, so every device starts from
        the same weights), on ``device``."""
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(2**31 - 1, (1, ), generator=generator)))
            return convnet(self.width, self.depth, img_size, num_classes).to(device)

    def _views(self, generator: torch.Generator, real: torch.Tensor, syn: torch.Tensor):
        return siamese_augment(generator, real, syn) if self.augment else [real, syn]

    def step(self, syn: torch.Tensor, real: RealFaces, labels: torch.Tensor, optimizer: torch.optim.Optimizer,
             generator: torch.Generator) -> float:
        """One optimisation step of ``syn``; returns the matching loss."""
        raise NotImplementedError

    def run(self, real: RealFaces, state_file: Optional[str] = None) -> torch.Tensor:
        """Distil ``real`` into ``(num_classes * faces_per_class, 3, H, W)`` training faces (normalised,
        class-major; the ``ipc`` stored images per class, decoded).

        Everything runs on the device of ``real``'s preprocessor (the primitive model's: the runner's
        GPU under ``tools/train.py``); random draws stay on the CPU generator, so runs are reproducible.
        """
        num_classes = len(real.by_class)
        init = self._generator(-1)
        n = self.faces_per_class
        if self.init == 'real':
            syn = self.encode(torch.cat([real.sample(c, n, init) for c in range(num_classes)]))
        elif self.init == 'typical':
            syn = self.encode(torch.cat([real.typical(c, n) for c in range(num_classes)]))
        else:
            syn = torch.randn((num_classes * self.ipc, ) + real.shape, generator=init).to(real.device)
        labels = torch.arange(num_classes, device=syn.device).repeat_interleave(n)
        low, high = real.pixel_range()
        low, high = low.to(syn.device), high.to(syn.device)
        syn = syn.detach().clone().requires_grad_(True)
        optimizer = torch.optim.SGD([syn], lr=self.lr, momentum=self.momentum)
        start, self.losses = 0, []
        if state_file and osp.exists(state_file):
            state = self.check_state(state_file)
            with torch.no_grad():
                syn.copy_(state['images'])
            optimizer.load_state_dict(state['optimizer'])
            start, self.losses = state['iteration'], list(state.get('losses', []))
            self.load_extra_state(state.get('extra', {}), syn.device)
            print_log(f'{type(self).__name__}: resuming at iteration {start} from {state_file}', 'current')
        todo = range(start, self.iterations)
        for it in track_iter_progress(todo, file=sys.stdout) if todo else todo:
            self.loss = self.step(syn, real, labels, optimizer, self._generator(it))
            if self.clip:
                with torch.no_grad():
                    syn.clamp_(low, high)
            self.losses.append(self.loss)
            done = it + 1
            if state_file and (done % self.save_interval == 0 or done == self.iterations):
                with atomic_open(state_file, 'wb') as f:
                    torch.save(dict(images=syn.detach(), optimizer=optimizer.state_dict(), iteration=done,
                                    losses=self.losses, extra=self.extra_state(), settings=self.settings()), f)
        return self.decode(syn.detach())

    def settings(self) -> dict:
        """The constructor arguments that shape the images (all but ``iterations`` and ``save_interval``)."""
        names = {name for klass in type(self).__mro__ if '__init__' in vars(klass)
                 for name in inspect.signature(klass.__init__).parameters}
        return {k: getattr(self, k) for k in sorted(names - {'self', 'kwargs', 'iterations', 'save_interval'})
                if hasattr(self, k)}

    def check_state(self, state_file: str) -> dict:
        """Load a saved state, refusing one written with other settings or longer than this run."""
        state = torch.load(state_file, map_location='cpu')
        saved, now = state.get('settings'), self.settings()
        if saved is not None and saved != now:
            diff = ', '.join(f'{k}: {saved.get(k)!r} there, {now.get(k)!r} here' for k in sorted(set(saved) | set(now))
                             if saved.get(k) != now.get(k))
            raise ValueError(f'{state_file} was distilled with other settings ({diff}); delete it to distil afresh')
        if state['iteration'] > self.iterations:
            raise ValueError(f"{state_file} holds {state['iteration']} iterations, more than the {self.iterations} "
                             'asked; delete it to distil afresh')
        return state

    def extra_state(self) -> dict:
        """What a subclass carries from one iteration to the next besides the images (saved with them)."""
        return {}

    def load_extra_state(self, state: dict, device: torch.device) -> None:
        """Restore :meth:`extra_state` on resume."""


def write_distilled(images: torch.Tensor, ipc: int, classes, preprocess, out_dir: str) -> np.ndarray:
    """Write distilled images (class-major, in ``preprocess``'s output space) as PNG files that load back,
    through ``LoadFaceImage`` and ``preprocess``, to the same tensors up to 8-bit rounding; list them in
    ``distilled.txt`` and draw ``grid.png`` (a row per class). Returns the grid (BGR)."""
    images = images.cpu()
    if getattr(preprocess, '_enable_normalize', False):  # back to 0-255
        images = images * preprocess.std.cpu() + preprocess.mean.cpu()
    pixels = images.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    # mmpretrain's ClsDataPreprocessor says `to_rgb`, mmengine's ImgDataPreprocessor `_channel_conversion`
    if getattr(preprocess, 'to_rgb', False) or getattr(preprocess, '_channel_conversion', False):
        pixels = pixels[..., ::-1]  # RGB back to the BGR files were read as
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    lines, rows = [], []
    for c, name in enumerate(classes):
        row = []
        for k in range(ipc):
            slug = ''.join(ch if ch.isalnum() else '_' for ch in name.lower())
            rel = osp.join('images', f'{c}_{slug}_{k:03d}.png')
            cv2.imwrite(osp.join(out_dir, rel), np.ascontiguousarray(pixels[c * ipc + k]))
            lines.append(f'{rel}\t{c}\n')
            row.append(pixels[c * ipc + k])
        rows.append(row)
    grid = class_rows_grid(classes, rows)
    cv2.imwrite(osp.join(out_dir, 'grid.png'), grid)
    write_atomic(osp.join(out_dir, DISTILLED_FILE), ''.join(lines))
    return grid
