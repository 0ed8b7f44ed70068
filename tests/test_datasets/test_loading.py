import cv2
import numpy as np
import pytest

from mmfer.datasets import LoadFaceImage
from mmfer.datasets.transforms import decode_image


def _jpeg(value=90):
    return cv2.imencode('.jpg', np.full((8, 10, 3), value, np.uint8))[1].tobytes()


def test_sources_file_bytes_array(tmp_path):
    path = tmp_path / 'a.jpg'
    path.write_bytes(_jpeg(90))
    load = LoadFaceImage()
    from_file = load(dict(img_path=str(path)))['img']
    from_bytes = load(dict(img_path='rec@0', img_bytes=_jpeg(90)))['img']
    assert from_file.shape == from_bytes.shape == (8, 10, 3)
    np.testing.assert_array_equal(from_file, from_bytes)
    grey = load(dict(img=np.arange(12, dtype=np.uint8).reshape(3, 4)))
    assert grey['img'].shape == (3, 4, 3) and grey['ori_shape'] == (3, 4)
    assert (grey['img'][..., 0] == grey['img'][..., 2]).all()


@pytest.mark.parametrize('data, why', [(b'', 'empty'), (b'\xff\xd8garbage', 'undecodable'),
                                       (b'GIF89a-nonsense', 'undecodable')])
def test_bad_bytes(data, why):
    with pytest.raises(ValueError, match=why):
        decode_image(data)
    assert LoadFaceImage(ignore_empty=True)(dict(img_path='x', img_bytes=data)) is None


def test_truncated_jpeg_is_refused():
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = cv2.imencode('.jpg', noise)[1].tobytes()
    cut = data[:int(len(data) * 0.7)]
    for backend in ('cv2', 'pillow'):
        with pytest.raises(ValueError, match='undecodable'):
            decode_image(cut, backend=backend)
    assert decode_image(data).shape == (64, 64, 3)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(IOError, match='cannot read image .*nothing.jpg'):
        LoadFaceImage()(dict(img_path=str(tmp_path / 'nothing.jpg')))
