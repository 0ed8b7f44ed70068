"""insightface/MXNet RecordIO (``train.rec`` + ``train.idx``), read and written without mxnet.

A record is ``magic (u32) | lrec (u32: 3-bit flag, 29-bit length) | payload | pad to 4``.
An image payload is an ``IRHeader`` — ``flag (u32), label (f32), id (u64), id2 (u64)`` —
followed by ``flag`` extra float labels when ``flag > 0``, then the JPEG bytes. In
insightface face sets, record 0 is a header whose label holds the image-key range
``[1, label[0])``; records past it describe identities.
"""
import struct
from typing import BinaryIO, Iterable, Optional, Tuple

import numpy as np

MAGIC = 0xced7230a
_HEADER = struct.Struct('<IfQQ')


def read_index(idx_path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Keys and byte offsets from a ``.idx`` file (``key<TAB>offset`` lines), sorted by key.

    A line repeated exactly is dropped (so no record is read twice); one key with two offsets,
    or a malformed line, is a ``ValueError`` naming ``file:line``.
    """
    try:
        data = np.loadtxt(idx_path, dtype=np.int64, ndmin=2)
    except ValueError as e:
        raise ValueError(f'{idx_path}: not a RecordIO index of "key<TAB>offset" lines ({e})') from None
    if data.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if data.shape[1] != 2:
        raise ValueError(f'{idx_path}: expected 2 columns (key, offset), got {data.shape[1]}')
    order = np.argsort(data[:, 0], kind='stable')
    keys, offsets = data[order, 0], data[order, 1]
    repeat = np.flatnonzero(keys[1:] == keys[:-1]) + 1
    clash = repeat[offsets[repeat] != offsets[repeat - 1]]
    if clash.size:
        key = keys[clash[0]]
        lines = np.flatnonzero(data[:, 0] == key)[:2] + 1
        raise ValueError(f'{idx_path}:{lines[1]}: key {key} is listed with two offsets (first at line {lines[0]})')
    keep = np.ones(keys.size, bool)
    keep[repeat] = False
    return keys[keep], offsets[keep]


def read_record(f: BinaryIO, offset: int) -> bytes:
    """The payload of the record at ``offset``; ``ValueError`` naming the file and offset if it is not one."""
    where = f'{getattr(f, "name", "RecordIO file")} at offset {int(offset)}'
    f.seek(int(offset))
    head = f.read(8)
    if len(head) < 8:
        raise ValueError(f'{where}: no record (end of file)')
    magic, lrec = struct.unpack('<II', head)
    if magic != MAGIC:
        raise ValueError(f'{where}: bad RecordIO magic 0x{magic:08x}')
    if lrec >> 29:
        raise ValueError(f'{where}: multi-part record is not supported')
    length = lrec & ((1 << 29) - 1)
    payload = f.read(length)
    if len(payload) < length:
        raise ValueError(f'{where}: record is truncated ({len(payload)} of {length} bytes)')
    return payload


def unpack(payload: bytes) -> Tuple[np.ndarray, bytes]:
    """Split a payload into its label(s) and the image bytes."""
    if len(payload) < _HEADER.size:
        raise ValueError('record shorter than its header')
    flag, label, _, _ = _HEADER.unpack_from(payload)
    body = payload[_HEADER.size:]
    if flag > 0:
        labels = np.frombuffer(body[:4 * flag], dtype=np.float32).copy()
        return labels, body[4 * flag:]
    return np.array([label], np.float32), body


def image_keys(rec_path: str, keys: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Indices (into ``keys``) of the image records.

    With an insightface header record (key 0, two labels) that is keys ``1 .. label[0]-1``;
    without one, every record.
    """
    if keys.size and keys[0] == 0:
        with open(rec_path, 'rb') as f:
            try:
                labels, _ = unpack(read_record(f, offsets[0]))
            except ValueError as e:
                raise ValueError(f'{rec_path}: unreadable header record ({e})') from None
        if labels.size >= 2 and labels[0] > 0:
            return np.flatnonzero((keys >= 1) & (keys < int(labels[0])))
    return np.arange(keys.size)


def write_recordio(rec_path: str, idx_path: str, images: Iterable[bytes],
                   labels: Optional[Iterable[float]] = None, insightface_header: bool = True) -> int:
    """Write images as a RecordIO pair (used for tests and to pack a pool); returns the count."""
    images = list(images)
    labels = list(labels) if labels is not None else [0.0] * len(images)
    lines = []
    with open(rec_path, 'wb') as f:

        def put(key: int, payload: bytes):
            lines.append(f'{key}\t{f.tell()}')
            f.write(struct.pack('<II', MAGIC, len(payload)))
            f.write(payload)
            f.write(b'\0' * (-len(payload) % 4))

        first = 0
        if insightface_header:
            n = len(images) + 1
            put(0, _HEADER.pack(2, 0.0, 0, 0) + np.array([n, n], np.float32).tobytes())
            first = 1
        for k, (img, label) in enumerate(zip(images, labels)):
            put(first + k, _HEADER.pack(0, float(label), first + k, 0) + img)
    with open(idx_path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(images)
