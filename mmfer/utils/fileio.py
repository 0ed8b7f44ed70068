"""Files that are whole or absent: what every writer of mmfer uses, so no reader sees half a file."""
import contextlib
import os
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w') -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it over ``path`` when the block ends.

    Readers see the old file or the whole new one, never a part; a block that raises leaves
    ``path`` untouched and removes the temporary file.
    """
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, mode, **({} if 'b' in mode else dict(encoding='utf-8'))) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` with :func:`atomic_open`."""
    with atomic_open(path) as f:
        f.write(text)
