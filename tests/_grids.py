"""Test helper: a layer's ``coefs_`` in the units of its weight grid."""

import numpy as np


def grid_coefs(estimator, layer: int) -> np.ndarray:
    """``coefs_[layer]``, with the first layer's rows times their input scales under a per-feature input grid.

    ``coefs_`` multiply the dequantized input. A per-feature input's scales
    live in the first layer, whose codes multiply the input codes, so each
    feature's row of ``coefs_`` is its grid values divided by that feature's
    input scale.
    """
    coef = estimator.coefs_[layer]
    grid = estimator._frozen.input_grid
    if layer == 0 and grid is not None and grid.per_feature:
        coef = coef * grid.scale[:, None]
    return coef
