"""Integer helpers of the frozen record: packed codes, weight levels and bounds (numpy only).

A leaf below :mod:`skqat._freeze` and :mod:`skqat.export`: the integer model,
the C header and the ONNX and QONNX graphs all bound and pack codes with
these functions.
"""

from __future__ import annotations

import numpy as np

from ._activations import get_activation
from ._fixed_point import INT32_MAX
from ._frozen import FrozenGrid, FrozenLayer, smallest_int_dtype

__all__ = [
    "accumulator_bits",
    "level_bound",
    "level_range",
    "output_bounds",
    "pack_codes",
    "unpack_codes",
    "weight_levels",
]


def pack_codes(codes: np.ndarray, bits: int, qmin: int) -> np.ndarray:
    """Pack integer codes at ``bits`` bits each into a uint8 array (little-endian bit order).

    Each code is stored as ``code - q_min``; binary (``bits=1``, codes
    ``-1``/``+1``) stores one bit per code.

    Examples
    --------
    >>> packed = pack_codes(np.array([-8, 7, 0, -1]), bits=4, qmin=-8)
    >>> packed.nbytes
    2
    >>> unpack_codes(packed, 4, bits=4, qmin=-8)
    array([-8,  7,  0, -1], dtype=int8)
    """
    codes = np.asarray(codes).ravel().astype(np.int64)
    unsigned = (codes > 0).astype(np.int64) if bits == 1 else codes - qmin
    planes = (unsigned[:, None] >> np.arange(bits)) & 1
    return np.packbits(planes.astype(np.uint8).ravel(), bitorder="little")


def unpack_codes(packed: np.ndarray, count: int, bits: int, qmin: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``count`` codes in the smallest integer dtype."""
    planes = np.unpackbits(packed, count=count * bits, bitorder="little").reshape(count, bits)
    unsigned = planes.astype(np.int64) @ (1 << np.arange(bits, dtype=np.int64))
    if bits == 1:
        return (2 * unsigned - 1).astype(np.int8)
    codes = unsigned + qmin
    return codes.astype(smallest_int_dtype(qmin, qmin + 2**bits - 1))


def weight_levels(layer: FrozenLayer) -> np.ndarray:
    """``q_w - zp_w`` as int32, shape ``(n_out, n_in)``."""
    grid = layer.weight_grid
    assert grid is not None and layer.weight_codes is not None, "a float layer has no integer weights"
    return layer.weight_codes.astype(np.int32) - grid.broadcast(grid.zero_point, 2).astype(np.int32)


def level_range(low: int, high: int, zero) -> np.ndarray:
    """The largest ``|q - zp|`` for codes in ``[low, high]`` (per feature for a vector ``zero``)."""
    zero = np.asarray(zero, np.int64)
    return np.maximum(np.abs(low - zero), np.abs(high - zero))


def level_bound(grid: FrozenGrid) -> int:
    """The largest ``|q - zp|`` on a grid: what an input level can reach (over every feature)."""
    return int(np.max(level_range(grid.qmin, grid.qmax, grid.zero_point)))


def accumulator_bits(layer: FrozenLayer, input_grid: FrozenGrid) -> int:
    """32, or 64 when the largest possible ``|acc|`` of the layer exceeds int32."""
    x_bound = level_bound(input_grid)
    w_bound = int(np.abs(weight_levels(layer)).max(initial=0))
    assert layer.bias_codes is not None, "an integer layer has int32 bias codes"
    b_bound = int(np.abs(layer.bias_codes.astype(np.int64)).max(initial=0))
    return 32 if layer.shape[1] * x_bound * w_bound + b_bound <= INT32_MAX else 64


def output_bounds(activation: str, grid: FrozenGrid) -> tuple[int, int]:
    """Clamp bounds of a hidden layer's output codes; a non-negative activation clamps at the zero point."""
    nonnegative = get_activation(activation).nonnegative
    low = max(grid.qmin, int(grid.zero_point)) if nonnegative else grid.qmin
    return low, grid.qmax
