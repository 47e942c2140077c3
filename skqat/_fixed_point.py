"""Requantization arithmetic: TFLite/gemmlowp fixed point, and onnxruntime's float32 form (numpy only).

A real multiplier ``M > 0`` is stored as an int32 ``M0`` in ``[2**30, 2**31)``
and a power of two, ``M = M0 * 2**(shift - 31)`` (TFLite's
``QuantizeMultiplier``). ``x * M`` is then computed on integers only, as
TFLite's ``MultiplyByQuantizedMultiplier`` (:class:`FixedPointMultiplier`
states the steps; :func:`multiply_by_quantized_multiplier` is it for any
int64 input).

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
    "FixedPointMultiplier",
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


def multiply_by_quantized_multiplier(x, fixed_multiplier, shift) -> np.ndarray:
    """``x * M0 * 2**(shift - 31)`` rounded as TFLite's ``MultiplyByQuantizedMultiplier`` (int64 out).

    ``fixed_multiplier`` and ``shift`` broadcast against ``x`` (per channel
    along the last axis). :class:`FixedPointMultiplier` for any int64 ``x``.

    Examples
    --------
    >>> m0, shift = quantize_multiplier(0.25)
    >>> multiply_by_quantized_multiplier(np.array([6, -6, 1000, -1001, 5]), m0, shift)
    array([   2,   -2,  250, -250,    2])

    The last value is gemmlowp's double rounding: ``5 * 0.25 = 1.25`` is
    first rounded to ``2.5 -> 3`` halves, then ``1.5 -> 2``.
    """
    return FixedPointMultiplier(fixed_multiplier, shift)(x)


class FixedPointMultiplier:
    """TFLite's ``MultiplyByQuantizedMultiplier`` for one set of multipliers, prepared once.

    ``predict`` requantizes every hidden layer of every row, so the form
    matters. On int64, exactly:

    1. ``x << max(shift, 0)``, saturated to int32 (TFLite leaves an overflow
       undefined; saturating gives the code the clamp would give anyway);
    2. ``SaturatingRoundingDoublingHighMul(x, M0)`` is ``(x * M0 + 2**30) >> 31``
       for either sign of ``x * M0`` (gemmlowp's nudge ``1 - 2**30`` for a
       negative product, then C's division truncating toward zero, is the
       same floor);
    3. ``RoundingDivideByPOT(h, r)`` is ``(h + 2**(r-1) - (h < 0)) >> r`` for
       ``r >= 1``.

    When every accumulator lies within ``bound``, ``x << left`` cannot leave
    int32 and the saturation is skipped.

    Parameters
    ----------
    fixed_multiplier, shift : array-like of int
        ``M0`` and ``shift`` (:func:`quantize_multiplier`), a scalar or one
        per output channel (the last axis).
    bound : int or None, default=None
        The largest ``|x|`` the multiplier will see (None: any int64).

    Examples
    --------
    >>> m0, shift = quantize_multiplier(0.25)
    >>> FixedPointMultiplier(m0, shift, bound=2000)(np.array([6, -6, 1000, -1001, 5]))
    array([   2,   -2,  250, -250,    2])
    """

    def __init__(self, fixed_multiplier, shift, bound: int | None = None):
        m0: np.ndarray | int = np.asarray(fixed_multiplier, np.int64).reshape(-1)
        shifts: np.ndarray | int = np.asarray(shift, np.int64).reshape(-1)
        assert isinstance(m0, np.ndarray) and isinstance(shifts, np.ndarray)
        if np.all(m0 == m0[0]) and np.all(shifts == shifts[0]):
            # One multiplier: Python ints broadcast fastest.
            m0, shifts = int(m0[0]), int(shifts[0])
        self.fixed_multiplier = m0
        self.shift = shifts
        left = np.maximum(shifts, 0)
        right = np.maximum(-shifts, 0)
        self.saturates = bound is None or bool(np.any(bound > (INT32_MAX >> left)))
        self._left_all = left
        self._left = left if np.any(left) else None
        self._right = right if np.any(right) else None
        self._half = (np.int64(1) << right) >> 1
        # Channels with r = 0 take no rounding term.
        self._rounds = None if np.all(right > 0) else right > 0

    def __call__(self, x) -> np.ndarray:
        """``x * M0 * 2**(shift - 31)``, rounded as TFLite (int64 in, int64 out; ``x`` may be consumed)."""
        x = np.asarray(x, dtype=np.int64)
        left = self._left_all
        if self.saturates:
            # Saturate before shifting, so no int64 ever wraps: x << left is within int32 exactly
            # when x is within [INT32_MIN >> left, INT32_MAX >> left].
            x = np.where(
                x > (INT32_MAX >> left), INT32_MAX, np.where(x < (INT32_MIN >> left), INT32_MIN, x << left)
            )
        elif self._left is not None:
            x = x << self._left
        product = np.multiply(x, self.fixed_multiplier, out=x if x.flags.writeable else None)
        product += 1 << 30
        product >>= 31
        if self._right is None:
            return product
        negative = product < 0
        if self._rounds is not None:
            negative &= self._rounds
        product += self._half
        product -= negative
        product >>= self._right
        return product


def requantize_float32(x, float32_multiplier) -> np.ndarray:
    """``rint(float32(x) * multiplier)`` in float32, rounded half to even (int64 out).

    Examples
    --------
    >>> requantize_float32(np.array([5, 6, -6, 7]), np.float32(0.25))
    array([ 1,  2, -2,  2])
    """
    product = np.asarray(x).astype(np.float32) * np.asarray(float32_multiplier, dtype=np.float32)
    return np.clip(np.rint(product), INT32_MIN, INT32_MAX).astype(np.int64)
