import _thread
import signal
import sys
import threading
import warnings
from typing import Optional, TextIO

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmfer's (and mmpretrain's) modules so their parts are registered.

    Args:
        init_default_scope: also make ``'mmfer'`` the default scope, so plain type
            names resolve to mmfer first and then to mmpretrain and mmengine.
    """
    import mmpretrain.utils
    mmpretrain.utils.register_all_modules(init_default_scope=False)
    import mmfer.datasets  # noqa: F401
    import mmfer.engine  # noqa: F401
    import mmfer.models  # noqa: F401
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmfer', scope_name='mmfer')
    elif current.scope_name != 'mmfer':
        warnings.warn(f'default scope {current.scope_name!r} is replaced by "mmfer"')
        DefaultScope.get_instance(f'mmfer-{id(current)}', scope_name='mmfer')


def follow_thread_count(stream: Optional[TextIO] = None) -> threading.Thread:
    """Let the process that started this one change its number of compute threads while it runs.

    A daemon thread reads ``stream`` (default: standard input); each line holding an integer ``n`` becomes
    ``torch.set_num_threads(n)`` in the main thread (where the training computes; OpenMP's thread count is a
    per-thread setting), applied between two of its Python steps. ``tools/run_pipeline.py`` starts stages that
    run side by side at one thread each and hands the machine's threads to the one left running.
    """
    import torch
    stream = sys.stdin if stream is None else stream
    wanted = []
    signal.signal(signal.SIGUSR1, lambda *_: torch.set_num_threads(wanted[-1]))

    def listen():
        for line in stream:
            if line.strip().isdigit() and int(line) > 0:
                wanted.append(int(line))
                _thread.interrupt_main(signal.SIGUSR1)  # runs the handler above in the main thread

    listener = threading.Thread(target=listen, name='follow_thread_count', daemon=True)
    listener.start()
    return listener
