"""Image loading that survives the files a large face pool really holds."""
import re
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio

from mmfer.registry import TRANSFORMS
from .. import recordio

_RECORD_ADDRESS = re.compile(r'^(.+\.rec)@(\d+)$')


def decode_image(img_bytes: bytes, color_type: str = 'color', backend: str = 'cv2') -> np.ndarray:
    """Decode image bytes; raise ``ValueError`` for empty, undecodable or truncated data."""
    if not img_bytes:
        raise ValueError('empty file')
    try:
        img = mmcv.imfrombytes(img_bytes, flag=color_type, backend=backend)
    except OSError as e:  # pillow: "image file is truncated"
        raise ValueError(f'undecodable image data ({e})') from None
    if img is None:
        raise ValueError('undecodable image data')
    return img


@TRANSFORMS.register_module()
class LoadFaceImage(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` for face data, with three sources and strict checks.

    The image comes from, in order: an already decoded ``results['img']`` (FERPlus
    pixels; grey is expanded to 3 channels), ``results['img_bytes']`` (a RecordIO
    record), or the file at ``results['img_path']`` — where a path ``<file>.rec@<offset>`` (how
    ``UnlabeledFaces`` names a RecordIO image, and so how a set mined from one lists it) reads that
    record. Images are BGR, as mmcv loads them.

    Args:
        ignore_empty: on an unreadable, truncated or missing image return ``None``
            (mmengine then fetches another sample in training; mmfer's pool dataset
            counts it) instead of raising ``IOError`` naming the file.
        **kwargs: ``LoadImageFromFile`` arguments.
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            img = results.get('img')
            if img is None:
                img_bytes = results.pop('img_bytes', None)
                if img_bytes is None:
                    img_bytes = self._read(results['img_path'])
                img = decode_image(img_bytes, self.color_type, self.imdecode_backend)
        except Exception as e:
            if self.ignore_empty:
                return None
            raise IOError(f"cannot read image {results.get('img_path')}: {e}") from e
        if img.ndim == 2 and self.color_type == 'color':
            img = np.repeat(img[..., None], 3, axis=2)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _read(self, path: str) -> bytes:
        record = _RECORD_ADDRESS.match(path)
        if record is None:
            return fileio.get(path, backend_args=self.backend_args)
        with open(record.group(1), 'rb') as f:
            return recordio.unpack(recordio.read_record(f, int(record.group(2))))[1]
