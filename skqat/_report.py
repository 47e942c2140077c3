"""The per-tensor quantization report of a fitted network, read from its frozen record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frozen import FrozenGrid, FrozenNetwork, accumulator_scale, quantize_codes

__all__ = ["input_grid_report", "quantization_report"]


def _as_cell(values) -> float | np.ndarray:
    """A number for per-tensor values, the array for per-channel ones."""
    values = np.asarray(values).ravel()
    return values.item() if values.size == 1 else values


def _row(layer, tensor, shape, bits, nbytes, *, grid=None, levels_used=np.nan, stored=True, sparsity=np.nan):
    size = int(np.prod(shape))
    return {
        "layer": layer,
        "tensor": tensor,
        "shape": tuple(shape),
        "bits": bits,
        "scale": np.nan if grid is None else _as_cell(grid.scale),
        "zero_point": 0 if grid is None else _as_cell(grid.zero_point),
        "calibrated": False if grid is None else grid.calibrated,
        "levels_used": levels_used,
        "sparsity": sparsity,
        "bytes": nbytes,
        "float32_bytes": 4 * size if stored else 0,
    }


def _grid_row(index, tensor, grid: FrozenGrid, width: int) -> dict:
    return _row(index, tensor, (width,), grid.bits, grid.stored_nbytes(), grid=grid, stored=False)


def quantization_report(network: FrozenNetwork) -> pd.DataFrame:
    """Build the report documented in ``BaseQuantizedMLP.quantization_report``."""
    rows = []
    if network.input_grid is not None:
        rows.append(_grid_row(0, "input", network.input_grid, network.n_features))
    grids = network.grids()
    for index, layer in enumerate(network.layers):
        coef_shape = layer.shape[::-1]
        sparsity = float(np.mean(layer.weight == 0))
        grid = layer.weight_grid
        if grid is None:
            levels = len(np.unique(layer.weight))
            rows.append(
                _row(
                    index,
                    "weight",
                    coef_shape,
                    32,
                    layer.weight_nbytes(),
                    levels_used=levels,
                    sparsity=sparsity,
                )
            )
        else:
            levels = len(np.unique(layer.weight_codes))
            rows.append(
                _row(
                    index,
                    "weight",
                    coef_shape,
                    grid.bits,
                    layer.weight_nbytes(),
                    grid=grid,
                    levels_used=levels,
                    sparsity=sparsity,
                )
            )
        bias_row = _row(index, "bias", layer.bias.shape, layer.bias_bits or 32, layer.bias_nbytes())
        if layer.bias_bits is not None and layer.bias_codes is not None:
            # The bias grid's scale s_in * s_w is derived from the others, not stored.
            scale = accumulator_scale(grid, grids[index])
            bias_row.update(scale=_as_cell(scale), levels_used=len(np.unique(layer.bias_codes)))
        rows.append(bias_row)
        if index < len(network.activation_grids) and network.activation_grids[index] is not None:
            rows.append(_grid_row(index, "activation", network.activation_grids[index], layer.shape[0]))
    report = pd.DataFrame(rows)
    stored = report["float32_bytes"] > 0
    report["compression"] = (report["float32_bytes"] / report["bytes"]).where(stored)
    return report


def input_grid_report(network: FrozenNetwork, X=None) -> pd.DataFrame:
    """Build the table documented in ``BaseQuantizedMLP.input_grid_report``."""
    grid = network.input_grid
    n = network.n_features
    names = network.head.feature_names or [f"x{j}" for j in range(n)]
    if grid is None:
        return pd.DataFrame(index=pd.Index(names, name="feature"))
    qmin, qmax = np.full(n, grid.qmin, np.int64), np.full(n, grid.qmax, np.int64)
    if grid.window is not None:
        # Learned widths: each feature's codes run over its window of the container.
        low, step, levels = (np.asarray(w, np.int64) for w in grid.window)
        qmin, qmax = low, low + step * (levels - 1)
    bits = grid.feature_bits
    table = pd.DataFrame(
        {
            "bits": np.full(n, grid.bits) if bits is None else bits,
            "scale": np.broadcast_to(np.asarray(grid.scale, np.float64), (n,)),
            "zero_point": np.broadcast_to(np.asarray(grid.zero_point, np.int64), (n,)),
            "qmin": qmin,
            "qmax": qmax,
            "per_feature": grid.per_feature,
            "calibrated": grid.calibrated,
        },
        index=pd.Index(names, name="feature"),
    )
    if grid.window is not None:
        table["step"] = np.asarray(grid.window[1], np.int64)
        table["dropped"] = bits == 0
    if X is not None:
        codes = quantize_codes(np.asarray(X, dtype=network.dtype), grid)
        table["codes_used"] = [len(np.unique(codes[:, j])) for j in range(n)]
        table["distinct_values"] = [len(np.unique(np.asarray(X)[:, j])) for j in range(n)]
    return table
