"""mmfer.utils.setup_env: the thread count a parent process hands over."""
import io
import signal
import time

import torch

from mmfer.utils import follow_thread_count


def test_follow_thread_count_applies_each_integer_line_in_the_main_thread():
    before, handler = torch.get_num_threads(), signal.getsignal(signal.SIGUSR1)
    try:
        torch.set_num_threads(1)
        follow_thread_count(io.StringIO('not a number\n0\n3\n')).join(5)
        start = time.time()
        while torch.get_num_threads() == 1 and time.time() - start < 5:  # the handler runs between bytecodes
            time.sleep(0.01)
        assert torch.get_num_threads() == 3  # '0' and text are ignored, 3 is applied
    finally:
        torch.set_num_threads(before)
        signal.signal(signal.SIGUSR1, handler)
