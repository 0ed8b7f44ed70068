from .curves import plot_curves
from .grids import class_rows_grid, facial_mixup_grid, mae_reconstruction_grid

__all__ = ['class_rows_grid', 'facial_mixup_grid', 'mae_reconstruction_grid', 'plot_curves']
