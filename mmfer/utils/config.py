"""Command-line config overrides that cannot go astray."""
import difflib
import inspect
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

# what mmengine's Runner reads from a config besides the config's own keys (experiment_name, ...)
_RUNNER_KEYS = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> Config:
    """``cfg.merge_from_dict(options)`` after checking each option's top-level key exists in the
    config or is one mmengine's ``Runner`` reads (``experiment_name``, ``load_from`` ...).

    mmengine adds an unknown key (``test_dataloder.dataset.data_root=...``) as a new, unused
    entry, so a typo silently runs on the original settings; here it is a ``ValueError`` naming
    the key and the closest existing ones.
    """
    if not options:
        return cfg
    unknown = sorted({k.split('.')[0] for k in options} - set(cfg.keys()) - _RUNNER_KEYS)
    if unknown:
        known = sorted(set(cfg.keys()) | _RUNNER_KEYS)
        hints = [f'{k} (did you mean {", ".join(m)}?)' if (m := difflib.get_close_matches(k, known, 2)) else k
                 for k in unknown]
        raise ValueError(f'--cfg-options sets keys the config does not have: {"; ".join(hints)}')
    cfg.merge_from_dict(options)
    return cfg
