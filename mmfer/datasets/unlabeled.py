"""Unlabeled face pools of any size: image folders, file lists and RecordIO pairs."""
import csv
import os
import os.path as osp
from array import array
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset, pseudo_collate
from mmengine.logging import print_log

from mmfer.registry import DATASETS, FUNCTIONS, TRANSFORMS
from . import recordio
from .base import AnnotationError, SkipCounter, iter_text

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


class PathTable:
    """Many relative paths in two flat arrays: one byte buffer and its offsets.

    A Python list of millions of strings costs ~100 bytes per path plus per-object
    overhead and is touched (copy-on-write) by every forked loader worker; this holds
    only the bytes and one int64 per path.
    """

    def __init__(self, paths: Sequence[str] = ()):
        self._buf = bytearray()  # grows in place while listing: no per-path Python objects kept
        self._ends = array('q')
        for p in paths:
            self.append(p)
        self.freeze()

    def append(self, path: str) -> None:
        self._buf += path.encode('utf-8')
        self._ends.append(len(self._buf))

    def freeze(self) -> 'PathTable':
        self.buffer = np.frombuffer(bytes(self._buf), dtype=np.uint8)
        self.ends = np.frombuffer(self._ends, dtype=np.int64).copy()
        self._buf, self._ends = bytearray(), array('q')
        return self

    def __len__(self) -> int:
        return int(self.ends.size)

    def __getitem__(self, i: int) -> str:
        start = int(self.ends[i - 1]) if i > 0 else 0
        return self.buffer[start:int(self.ends[i])].tobytes().decode('utf-8')

    def take(self, indices: np.ndarray) -> 'PathTable':
        table = PathTable()
        for i in indices:
            table.append(self[int(i)])
        return table.freeze()


def walk_images(root: str, extensions: Sequence[str] = IMG_EXTENSIONS) -> Tuple[PathTable, List[str]]:
    """Image files under ``root`` (relative paths), in a deterministic order, and the folders skipped.

    Each directory's entries are sorted and walked depth first, so the order is stable without
    ever sorting (or holding) the whole listing as Python strings. Symbolic links are followed,
    but a directory already walked (a link loop, or a second link to one folder) is skipped, and
    so is one that cannot be read; both are returned as ``"<path>: <why>"`` lines.
    """
    table, skipped, seen = PathTable(), [], set()
    exts = tuple(e.lower() for e in extensions)

    def walk(rel: str):
        path = osp.join(root, rel)
        try:
            st = os.stat(path)
            if (st.st_dev, st.st_ino) in seen:
                skipped.append(f'{path}: already walked (a symbolic link loop or a second link to it)')
                return
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            skipped.append(f'{path}: {e.strerror or e}')
            return
        for e in entries:
            sub = osp.join(rel, e.name) if rel else e.name
            try:
                is_dir = e.is_dir(follow_symlinks=True)
            except OSError as err:
                skipped.append(f'{osp.join(root, sub)}: {err.strerror or err}')
                continue
            if is_dir:
                walk(sub)
            elif e.name.lower().endswith(exts):
                table.append(sub)

    walk('')
    return table.freeze(), skipped


@DATASETS.register_module()
class UnlabeledFaces(SkipCounter, BaseDataset):
    """A pool of unlabeled face images, streamed from disk.

    Sources (``source='auto'`` picks by ``ann_file``: ``*.rec`` → RecordIO, another
    file → list, empty → folder):

    - ``'folder'``: every image under ``data_root/data_prefix`` (VGGFace2's
      ``<identity>/<image>.jpg`` included), walked once in a fixed order;
    - ``'list'``: ``ann_file`` with one path per line, relative to ``data_prefix``
      (extra whitespace-separated fields are ignored);
    - ``'recordio'``: insightface's ``train.rec`` with its ``train.idx`` beside it.

    Per image only its path (in a :class:`PathTable`) or record offset is kept. An
    image that cannot be read or decoded is skipped and counted in
    :attr:`num_skipped` (summed over data-loader workers): in training mmengine
    fetches another sample; in ``test_mode`` the item is ``None`` and
    :func:`skip_none_collate` drops it from the batch. Folders a walk cannot enter (link loops,
    no permission) are skipped, counted in :attr:`num_skipped_dirs` and logged. Loading happens in the
    pipeline: start it with ``LoadFaceImage``, which reads the file, or the record's
    bytes for RecordIO.

    Args:
        data_root: pool root.
        ann_file: a file list or a ``.rec`` file, relative to ``data_root``; ``''`` for a folder.
        data_prefix: image folder relative to ``data_root`` (folder and list sources).
        source: ``'auto'``, ``'folder'``, ``'list'`` or ``'recordio'``.
        extensions: image suffixes a folder walk keeps.
        pipeline: transforms, starting with ``LoadFaceImage``.
        indices: keep only these indices (or the first ``n``).
        metainfo: e.g. ``dict(classes=...)`` for the classes a model will predict.
        test_mode: return ``None`` for unreadable items instead of fetching another.
        lazy_init: defer listing until first use.
        max_refetch: tries to find a readable image in training.
        hidden_truth: a CSV with ``filename`` and ``label`` columns (SynthFER's
            ``pool/hidden_truth.csv``), filenames as in the list; each sample then
            carries ``gt_label`` for evaluation only (pseudo-label and mining precision).
    """

    def __init__(self, data_root: str = '', ann_file: str = '', data_prefix: Union[str, dict] = '',
                 source: str = 'auto', extensions: Sequence[str] = IMG_EXTENSIONS,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None, metainfo: Optional[dict] = None,
                 test_mode: bool = False, lazy_init: bool = False, max_refetch: int = 1000,
                 hidden_truth: Optional[str] = None):
        if source == 'auto':
            source = 'folder' if not ann_file else 'recordio' if ann_file.endswith('.rec') else 'list'
        if source not in ('folder', 'list', 'recordio'):
            raise ValueError(f"source must be 'auto', 'folder', 'list' or 'recordio', got {source!r}")
        self.source = source
        self.extensions = tuple(extensions)
        self.hidden_truth = hidden_truth
        self._truth = None
        self.num_skipped_dirs = 0
        self._init_skip_counter()
        self._rec_file = None
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix,
                         indices=indices, serialize_data=False, pipeline=pipeline, test_mode=test_mode,
                         lazy_init=lazy_init, max_refetch=max_refetch)

    # listing -------------------------------------------------------------------------
    def full_init(self) -> None:
        if self._fully_initialized:
            return
        prefix = self.data_prefix['img_path']
        if self.source == 'folder':
            if not osp.isdir(prefix):
                raise FileNotFoundError(f'UnlabeledFaces: image folder not found: {prefix}')
            self._paths, skipped = walk_images(prefix, self.extensions)
            self.num_skipped_dirs = len(skipped)
            if skipped:
                print_log(f'UnlabeledFaces: skipped {len(skipped)} folders under {prefix}: '
                          + '; '.join(skipped[:5]) + (' ...' if len(skipped) > 5 else ''), 'current', level=30)
        elif self.source == 'list':
            if not osp.exists(self.ann_file):
                raise FileNotFoundError(f'UnlabeledFaces: file list not found: {self.ann_file}')
            self._paths = PathTable()
            for line in iter_text(self.ann_file):
                line = line.strip()
                if line and not line.startswith('#'):
                    self._paths.append(line.split()[0])
            self._paths.freeze()
        else:
            idx_path = osp.splitext(self.ann_file)[0] + '.idx'
            for p in (self.ann_file, idx_path):
                if not osp.exists(p):
                    raise FileNotFoundError(f'UnlabeledFaces: RecordIO file not found: {p}')
            keys, offsets = recordio.read_index(idx_path)
            self._offsets = offsets[recordio.image_keys(self.ann_file, keys, offsets)]
        if self._indices is not None:
            n = self._num_all()
            keep = np.arange(min(self._indices, n)) if isinstance(self._indices, int) \
                else np.asarray(self._indices, dtype=np.int64)
            if self.source == 'recordio':
                self._offsets = self._offsets[keep]
            else:
                self._paths = self._paths.take(keep)
        if self.hidden_truth is not None:
            self._truth = self._load_truth()
        if self._num_all() == 0:
            print_log(f'UnlabeledFaces: the pool at {prefix or self.ann_file} holds no images', 'current',
                      level=30)
        self._fully_initialized = True

    def _load_truth(self) -> np.ndarray:
        if self.source == 'recordio':
            raise ValueError('hidden_truth is supported for folder and list pools')
        path = osp.join(self.data_root, self.hidden_truth) if not osp.isabs(self.hidden_truth) else self.hidden_truth
        reader = csv.DictReader(iter_text(path))
        if not {'filename', 'label'} <= set(reader.fieldnames or ()):
            raise AnnotationError(path, 1, f"expected a 'filename,label' header, got {reader.fieldnames}")
        by_name = {}
        for row in reader:
            try:
                by_name[row['filename']] = int(row['label'])
            except (TypeError, ValueError):
                raise AnnotationError(path, reader.line_num, f'malformed row {row}') from None
        try:
            return np.array([by_name[self._paths[i]] for i in range(len(self._paths))], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f'{path}: no hidden label for pool image {e}') from None

    def _num_all(self) -> int:
        return int(self._offsets.size) if self.source == 'recordio' else len(self._paths)

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return self._num_all()

    def get_data_info(self, idx: int) -> dict:
        if self.source == 'recordio':
            return dict(img_path=f'{self.ann_file}@{int(self._offsets[idx])}', sample_idx=idx)
        info = dict(img_path=osp.join(self.data_prefix['img_path'], self._paths[idx]), sample_idx=idx)
        if self._truth is not None:
            info['gt_label'] = int(self._truth[idx])
        return info

    # loading -------------------------------------------------------------------------
    def _read_record(self, idx: int) -> bytes:
        if self._rec_file is None:  # opened lazily, once per loader worker
            self._rec_file = open(self.ann_file, 'rb')
        return recordio.unpack(recordio.read_record(self._rec_file, self._offsets[idx]))[1]

    def prepare_data(self, idx: int) -> Optional[dict]:
        info = self.get_data_info(idx)
        why = 'unreadable or undecodable image'
        try:
            if self.source == 'recordio':
                info['img_bytes'] = self._read_record(idx)
            data = self.pipeline(info)
        except (OSError, ValueError) as e:  # torn record, or a strict loader
            data, why = None, str(e)
        if data is None:
            self.count_skip(info['img_path'], why)
        return data

    def __getitem__(self, idx: int) -> Optional[dict]:
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode:
            return self.prepare_data(idx)
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            idx = self._rand_another()
        raise RuntimeError(f'UnlabeledFaces: no readable image found in {self.max_refetch} tries')

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_rec_file'] = None  # file handles do not cross processes
        return state


@FUNCTIONS.register_module()
def skip_none_collate(data_batch: Sequence) -> Union[dict, list]:
    """mmengine's ``pseudo_collate`` after dropping the ``None`` items of unreadable images.

    A batch of unreadable images only becomes an empty dict.
    """
    kept = [d for d in data_batch if d is not None]
    return pseudo_collate(kept) if kept else {}
