"""Checks of a frozen record read from outside: a saved integer model, a skops or pickle file (numpy only).

A record that travels between machines is checked before anything is built
from it: every array's type and shape, bit widths and code ranges, finite
positive scales, zero points on their grids, layer shapes that chain, and a
head that matches the last layer. :func:`check_network` raises one
:class:`ValueError` naming the source and the field.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np

from ._activations import ACTIVATIONS
from ._frozen import FrozenGrid, FrozenLayer, FrozenNetwork
from ._head import LabelHead

__all__ = ["RecordError", "check_network", "grid_range"]

#: Widest grid of any tensor (weights and activations go to 16 bits, biases to 32).
MAX_BITS = 32


class RecordError(ValueError):
    """A saved model whose field ``field`` is not what skqat writes."""

    def __init__(self, source, field: str, problem: str):
        self.field = field
        super().__init__(
            f"{source} is not a valid skqat model: {field} {problem}. "
            "The file is damaged or was not written by skqat; export the model again."
        )


def fail(source, field: str, problem: str) -> NoReturn:
    raise RecordError(source, field, problem)


def grid_range(bits: int) -> tuple[tuple[int, int], ...]:
    """The code ranges a ``bits``-bit grid may have: signed, unsigned, or binary ``(-1, 1)``."""
    ranges = ((-(2 ** (bits - 1)), 2 ** (bits - 1) - 1), (0, 2**bits - 1))
    return ((-1, 1), *ranges) if bits == 1 else ranges


def _check_grid(source, field: str, grid: FrozenGrid, dtype, n_channels: int | None, max_bits: int = 16):
    if not isinstance(grid, FrozenGrid):
        fail(source, field, f"is a {type(grid).__name__}, not a grid")
    if not 1 <= grid.bits <= max_bits:
        fail(source, f"{field} bits", f"is {grid.bits}, outside [1, {max_bits}]")
    if (grid.qmin, grid.qmax) not in grid_range(grid.bits):
        fail(source, f"{field} code range", f"[{grid.qmin}, {grid.qmax}] is not a {grid.bits}-bit range")
    scale, zero = np.asarray(grid.scale), np.asarray(grid.zero_point)
    shapes = [()] if n_channels is None else [(), (n_channels,)]
    if scale.dtype != dtype or scale.shape not in shapes:
        fail(source, f"{field} scale", f"has type {scale.dtype} and shape {scale.shape}")
    if not np.all(np.isfinite(scale) & (scale > 0)):
        fail(source, f"{field} scale", "is not finite and positive")
    if zero.dtype.kind not in "iu" or zero.shape != scale.shape:
        fail(source, f"{field} zero point", f"has type {zero.dtype} and shape {zero.shape}")
    if np.any(zero < grid.qmin) or np.any(zero > grid.qmax) or (grid.symmetric and np.any(zero)):
        fail(source, f"{field} zero point", f"lies outside the grid [{grid.qmin}, {grid.qmax}]")
    if grid.window is not None:
        _check_window(source, field, grid)


def _check_window(source, field: str, grid: FrozenGrid) -> None:
    """Learned input widths: per-feature ``(low, step, levels)``, ``2**b`` levels, inside the container."""
    try:
        low, step, levels = (np.asarray(w) for w in grid.window or ())
    except (TypeError, ValueError):
        fail(source, f"{field} window", "is not three arrays (low, step, levels)")
    n = np.size(grid.scale)
    if not all(w.dtype.kind in "iu" and w.shape == (n,) for w in (low, step, levels)):
        fail(source, f"{field} window", f"is not three integer arrays of {n} features")
    if not grid.per_feature or np.any(step < 1) or np.any(levels < 1) or np.any(levels & (levels - 1)):
        fail(source, f"{field} window", "needs a per-feature grid, steps >= 1 and a power of 2 of levels")
    top = low.astype(np.int64) + step.astype(np.int64) * (levels.astype(np.int64) - 1)
    if np.any(low < grid.qmin) or np.any(top > grid.qmax):
        fail(source, f"{field} window", f"reaches outside the grid [{grid.qmin}, {grid.qmax}]")


def _check_vector(source, field: str, values, kinds: str, length: int, finite: bool = False):
    values = np.asarray(values)
    if values.dtype.kind not in kinds or values.shape not in ((), (length,)):
        fail(source, field, f"has type {values.dtype} and shape {values.shape}")
    if finite and not np.all(np.isfinite(values)):
        fail(source, field, "is not finite")


def _check_float_parts(source, field: str, layer: FrozenLayer, n_in: int, dtype) -> int:
    """The weight, bias and bias width ``predict`` uses; returns the number of outputs."""
    if not isinstance(layer, FrozenLayer):
        fail(source, field, f"is a {type(layer).__name__}, not a layer")
    weight, bias = np.asarray(layer.weight), np.asarray(layer.bias)
    if weight.dtype != dtype or weight.ndim != 2 or weight.shape[1] != n_in or weight.shape[0] < 1:
        expected = f"expected (n, {n_in}) of {dtype}"
        fail(source, f"{field} weight", f"has type {weight.dtype} and shape {weight.shape}; {expected}")
    n_out = weight.shape[0]
    if not np.all(np.isfinite(weight)):
        fail(source, f"{field} weight", "is not finite")
    if bias.dtype != dtype or bias.shape != (n_out,) or not np.all(np.isfinite(bias)):
        fail(source, f"{field} bias", f"has type {bias.dtype} and shape {bias.shape}, or is not finite")
    if layer.bias_bits is not None and not 2 <= layer.bias_bits <= MAX_BITS:
        fail(source, f"{field} bias bits", f"is {layer.bias_bits}, outside [2, {MAX_BITS}]")
    return n_out


def _check_weight_codes(source, field: str, layer: FrozenLayer, n_out: int, dtype) -> None:
    grid = layer.weight_grid
    assert grid is not None
    _check_grid(source, f"{field} weight grid", grid, dtype, n_out)
    if grid.axis != 0:
        fail(source, f"{field} weight grid", "runs along the features; a weight grid runs along the rows")
    codes = layer.weight_codes
    if codes is None or np.shape(codes) != np.shape(layer.weight) or np.asarray(codes).dtype.kind not in "iu":
        fail(source, f"{field} weight codes", "are missing or do not match the weight's shape")
    if codes.size and (codes.min() < grid.qmin or codes.max() > grid.qmax):
        fail(source, f"{field} weight codes", f"lie outside the grid [{grid.qmin}, {grid.qmax}]")


def _check_requantization(source, field: str, layer: FrozenLayer, n_out: int, thresholds_expected: bool):
    requant = layer.requantization
    assert requant is not None
    _check_vector(source, f"{field} fixed multiplier", requant.fixed_multiplier, "i", n_out)
    multiplier = np.asarray(requant.fixed_multiplier, np.int64)
    if np.any((multiplier != 0) & ((multiplier < 2**30) | (multiplier >= 2**31))):
        fail(source, f"{field} fixed multiplier", "lies outside [2**30, 2**31), the normalised range")
    _check_vector(source, f"{field} shift", requant.shift, "i", n_out)
    if np.any(np.abs(np.asarray(requant.shift, np.int64)) > 62):
        fail(source, f"{field} shift", "is beyond 62 bits")
    _check_vector(source, f"{field} float32 multiplier", requant.float32_multiplier, "f", n_out, finite=True)
    thresholds = requant.thresholds
    if thresholds_expected != (thresholds is not None):
        fail(source, f"{field} thresholds", "do not match the hidden activation")
    if thresholds is not None:
        thresholds = np.asarray(thresholds)
        if thresholds.dtype.kind != "i" or thresholds.ndim != 1 or np.any(np.diff(thresholds) < 0):
            fail(source, f"{field} thresholds", "are not a sorted integer table")


def _check_layer(
    source, i: int, layer: FrozenLayer, n_in: int, dtype, integer: bool, table: bool | None
) -> int:
    """Check layer ``i`` with ``n_in`` inputs; return its outputs.

    ``table``: for a hidden layer, whether its activation is a threshold
    table; None for the last layer.
    """
    field = f"layer {i}"
    n_out = _check_float_parts(source, field, layer, n_in, dtype)
    if layer.weight_grid is None:
        if integer:
            fail(source, f"{field} weight grid", "is missing in an integer model")
        return n_out
    _check_weight_codes(source, field, layer, n_out, dtype)
    if not integer:
        return n_out
    if layer.bias_codes is None or np.shape(layer.bias_codes) != (n_out,):
        fail(source, f"{field} bias codes", f"are missing or not of shape ({n_out},)")
    _check_vector(source, f"{field} bias codes", layer.bias_codes, "i", n_out)
    if layer.requantization is not None:
        _check_requantization(source, field, layer, n_out, bool(table))
    elif table is not None:
        fail(source, f"{field} requantization", "is missing for a hidden layer")
    return n_out


def check_network(network: FrozenNetwork, source="the model") -> FrozenNetwork:
    """Raise :class:`RecordError` (a ValueError) unless ``network`` is a record skqat could have written.

    Parameters
    ----------
    network : FrozenNetwork
    source : str or Path
        Named in the error (a file name, or "the model").

    Returns
    -------
    FrozenNetwork
        ``network``, unchanged.
    """
    dtype = _check_structure(network, source)
    integer = network.logit_scale is not None
    for i, grid in enumerate(network.grids()):
        field = "input grid" if i == 0 else f"activation grid {i - 1}"
        if grid is not None:
            # Only the input grid may be per feature (one scale per column).
            per_feature = i == 0 and grid.axis != 0
            _check_grid(source, field, grid, dtype, network.n_features if per_feature else None, max_bits=16)
        elif integer:
            fail(source, field, "is missing in an integer model")
    table = ACTIVATIONS[network.activation].integer == "table"
    layers = network.layers
    n_in = network.n_features
    for i, layer in enumerate(layers):
        n_in = _check_layer(source, i, layer, n_in, dtype, integer, table if i < len(layers) - 1 else None)
    _check_head(network, n_in, source)
    return network


def _check_structure(network: FrozenNetwork, source) -> np.dtype:
    """The record's types, activation, layer count and logit scale; returns the training dtype."""
    if not isinstance(network, FrozenNetwork):
        fail(source, "the network", f"is a {type(network).__name__}")
    if network.activation not in ACTIVATIONS:
        fail(source, "activation", f"{network.activation!r} is not one of {sorted(ACTIVATIONS)}")
    layers = network.layers
    if not isinstance(layers, tuple) or not layers or not isinstance(layers[0], FrozenLayer):
        fail(source, "layers", "are missing")
    weight = np.asarray(layers[0].weight)
    if (
        weight.dtype not in (np.dtype(np.float32), np.dtype(np.float64))
        or weight.ndim != 2
        or not weight.size
    ):
        fail(source, "layer 0 weight", f"has type {weight.dtype} and shape {weight.shape}")
    if len(network.activation_grids) != len(layers) - 1:
        fail(source, "activation grids", f"number {len(network.activation_grids)} for {len(layers)} layers")
    scale = network.logit_scale
    if scale is not None and not (isinstance(scale, float | int) and np.isfinite(scale) and scale > 0):
        fail(source, "logit scale", f"is {scale!r}, not finite and positive")
    return weight.dtype


def _check_head(network: FrozenNetwork, n_outputs: int, source) -> None:
    head = network.head
    if not isinstance(head, LabelHead):
        fail(source, "head", f"is a {type(head).__name__}")
    expected = head.n_outputs()
    if expected is not None and expected != n_outputs:
        fail(source, "head", f"{head.kind!r} needs {expected} outputs; the last layer has {n_outputs}")
    if head.feature_names is not None and len(head.feature_names) != network.n_features:
        fail(source, "feature names", f"number {len(head.feature_names)} for {network.n_features} features")
