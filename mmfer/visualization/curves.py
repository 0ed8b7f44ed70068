"""Training and distillation curves as PNG pictures."""
import matplotlib
import numpy as np

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(series: dict, keys: list, out: str, smooth: int = 1, title: str = '') -> None:
    """One panel per key of ``series`` (``key -> (steps, values)``), smoothed by a moving average of
    ``smooth`` points, written to the PNG ``out``. A key not in ``series`` is left out and said; none
    there is an error listing what is."""
    missing = [k for k in keys if k not in series]
    keys = [k for k in keys if k in series]
    if not keys:
        raise SystemExit(f'not logged: {missing}; logged keys: {sorted(series)}')
    if missing:  # e.g. unsup_pseudo_acc is logged only once some pseudo-label passes the threshold
        print(f'not logged, left out: {missing}')
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        steps, values = series[key]
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode='valid')
            steps = steps[smooth - 1:]
        ax.plot(steps, values, marker='.' if len(values) < 30 else None)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
