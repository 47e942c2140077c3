"""Requantization arithmetic: TFLite/gemmlowp fixed point, and onnxruntime's float32 form (numpy only).

A real multiplier ``M > 0`` is stored as an int32 ``M0`` in ``[2**30, 2**31)``
and a power of two, ``M = M0 * 2**(shift - 31)`` (TFLite's
``QuantizeMultiplier``). ``x * M`` is then computed on integers only, as
TFLite's ``MultiplyByQuantizedMultiplier``:

1. ``x << max(shift, 0)``, saturated to int32 (TFLite leaves an overflow
   undefined; saturating gives the code the clamp would give anyway);
2. ``SaturatingRoundingDoublingHighMul(x, M0)``: the high 32 bits of
   ``2 * x * M0``, rounded half away from zero;
3. ``RoundingDivideByPOT(., max(-shift, 0))``: an arithmetic right shift,
   rounded half away from zero.

onnxruntime's integer kernels instead multiply ``float32(acc)`` by a float32
multiplier and round half to even; :func:`requantize_float32` is that form.
The C header restates :func:`multiply_by_quantized_multiplier` line for line.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "quantize_multiplier",
    "multiply_by_quantized_multiplier",
    "requantize_float32",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(multiplier: float) -> tuple[int, int]:
    """``(M0, shift)`` with ``multiplier ~= M0 * 2**(shift - 31)`` and ``2**30 <= M0 < 2**31``.

    Zero, NaN and multipliers below ``2**-32`` (which round every int32 to 0
    or +-1) give ``(0, 0)``. Multipliers of ``2**31`` or more, infinity
    included (a grid whose scale collapsed), saturate at ``shift = 31``.

    Examples
    --------
    >>> quantize_multiplier(0.5)
    (1073741824, 0)
    >>> quantize_multiplier(3.0)
    (1610612736, 2)
    """
    if not multiplier > 0:
        return 0, 0
    if not math.isfinite(multiplier):
        return INT32_MAX, 31
    fraction, shift = math.frexp(multiplier)
    m0 = round(fraction * 2**31)
    if m0 == 2**31:
        m0 //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 31:
        return INT32_MAX, 31
    return int(m0), int(shift)


def _truncating_shift31(v: np.ndarray) -> np.ndarray:
    """``v / 2**31`` rounded toward zero, as C's integer division."""
    return np.where(v >= 0, v >> 31, -((-v) >> 31))


def multiply_by_quantized_multiplier(x, fixed_multiplier, shift) -> np.ndarray:
    """``x * M0 * 2**(shift - 31)`` rounded as TFLite's ``MultiplyByQuantizedMultiplier`` (int64 out).

    ``fixed_multiplier`` and ``shift`` broadcast against ``x`` (per channel
    along the last axis).

    Examples
    --------
    >>> m0, shift = quantize_multiplier(0.25)
    >>> multiply_by_quantized_multiplier(np.array([6, -6, 1000, -1001, 5]), m0, shift)
    array([   2,   -2,  250, -250,    2])

    The last value is gemmlowp's double rounding: ``5 * 0.25 = 1.25`` is
    first rounded to ``2.5 -> 3`` halves, then ``1.5 -> 2``.
    """
    x = np.asarray(x, dtype=np.int64)
    m0 = np.asarray(fixed_multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # Saturate before shifting, so no int64 ever wraps: x << left is within int32 exactly when
    # x is within [INT32_MIN >> left, INT32_MAX >> left].
    x = np.where(x > (INT32_MAX >> left), INT32_MAX, np.where(x < (INT32_MIN >> left), INT32_MIN, x << left))
    product = x * m0
    nudge = np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = _truncating_shift31(product + nudge)
    mask = (np.int64(1) << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (remainder > threshold)


def requantize_float32(x, float32_multiplier) -> np.ndarray:
    """``rint(float32(x) * multiplier)`` in float32, rounded half to even (int64 out).

    Examples
    --------
    >>> requantize_float32(np.array([5, 6, -6, 7]), np.float32(0.25))
    array([ 1,  2, -2,  2])
    """
    product = np.asarray(x).astype(np.float32) * np.asarray(float32_multiplier, dtype=np.float32)
    return np.clip(np.rint(product), INT32_MIN, INT32_MAX).astype(np.int64)
