"""The integer model's arithmetic, fast enough for ``predict`` (numpy only).

:class:`IntegerPlan` computes what :class:`~skqat.export.IntegerMLP`
specifies (the module docstring of :mod:`skqat.export._integer`): input codes,
integer accumulation with int32 bias codes, fixed-point requantization, int32
logits. Both ``IntegerMLP`` and the estimators' ``predict`` run it, so they
agree by construction; the C header and the ONNX integer graph are checked
against it.

Why float GEMMs: numpy has no integer GEMM (its integer ``matmul`` is a plain
loop, 10-50x slower than BLAS). A float GEMM of integer-valued matrices is
exact when every partial sum is an integer the float type holds: below
``2**24`` in magnitude in float32 and ``2**53`` in float64, in any summation
order, with or without FMA. Each layer bounds its accumulators by
``max_j sum_i max|x_i| |w_ij| + |b_j|`` from its weights and its input grid,
and multiplies in float32 when the bound allows it, in float64 when that does,
and in int64 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._fixed_point import INT32_MAX, INT32_MIN, FixedPointMultiplier, requantize_float32
from ._frozen import FrozenNetwork, GridParams
from ._integer_codes import level_range, output_bounds, weight_levels

__all__ = ["IntegerPlan", "PreparedLayer", "REQUANTIZE_MODES", "gemm_dtype"]

REQUANTIZE_MODES = ("fixed_point", "float32")

#: Largest accumulator magnitude each float type sums exactly.
_EXACT = ((np.float32, 2**24), (np.float64, 2**53))

# Rows per block: bounds memory on large inputs and keeps a block's
# accumulators in cache between the GEMM and the requantization.
_CHUNK = 4096


def gemm_dtype(bound: int) -> np.dtype:
    """The narrowest of float32, float64 and int64 that sums integers up to ``bound`` exactly.

    Examples
    --------
    >>> gemm_dtype(2**24), gemm_dtype(2**24 + 1), gemm_dtype(2**60)
    (dtype('float32'), dtype('float64'), dtype('int64'))
    """
    for dtype, limit in _EXACT:
        if bound <= limit:
            return np.dtype(dtype)
    return np.dtype(np.int64)


@dataclass(frozen=True)
class PreparedLayer:
    """One layer prepared for inference: weights and bias codes in the GEMM's type, and what follows."""

    weights: np.ndarray  # (n_in, n_out) levels q_w - zp_w
    bias: np.ndarray  # (n_out,) int32 bias codes
    bound: int  # the largest |accumulator|
    requantize: Callable[[np.ndarray], np.ndarray] | None  # int64 -> int64
    thresholds: np.ndarray | None  # table activations: the sorted fine-grid steps
    low: int  # output levels q - zp of a hidden layer lie in [low, high]
    high: int
    next_qmin_level: int  # q_min - zp of the next grid (table activations)

    def accumulate(self, levels: np.ndarray) -> np.ndarray:
        """``levels @ W + b`` as exact integers, in int64."""
        acc = levels.astype(self.weights.dtype, copy=False) @ self.weights
        acc += self.bias
        return acc if acc.dtype == np.int64 else acc.astype(np.int64)


class IntegerPlan:
    """The integer model of a frozen network, prepared once for every call.

    Parameters
    ----------
    network : FrozenNetwork
        An integer network (``network.integer``).
    requantize : {"fixed_point", "float32"}, default="fixed_point"
        TFLite's fixed-point requantization, or onnxruntime's float32 form
        (:mod:`skqat._fixed_point`).
    """

    #: Which arithmetic ``predict`` runs (the float ``InferencePlan`` says ``"float"``).
    arithmetic = "integer"

    def __init__(self, network: FrozenNetwork, requantize: str = "fixed_point"):
        if requantize not in REQUANTIZE_MODES:
            raise ValueError(f"requantize must be one of {REQUANTIZE_MODES}, got {requantize!r}.")
        if not network.integer:
            raise ValueError(
                "This network is not integer-only: every layer needs quantized weights (weight_bits set) "
                "and every input and hidden activation a grid."
            )
        self.network = network
        self.head = network.head
        self.dtype = network.dtype
        self.logit_scale = float(network.logit_scale)  # type: ignore[arg-type]
        grid = network.input_grid
        assert grid is not None
        # The input's levels q - zp, as quantize_codes computes the codes.
        self._input = GridParams.prepared(grid, network.dtype).levels
        layers = []
        in_bound = level_range(grid.qmin, grid.qmax, grid.zero_point)
        grids = network.grids()
        n_hidden = len(network.layers) - 1
        for i, layer in enumerate(network.layers):
            weights = weight_levels(layer).astype(np.int64)
            assert layer.bias_codes is not None, "an integer layer has int32 bias codes"
            bias = layer.bias_codes.astype(np.int64)
            bound = int((np.abs(weights) @ np.broadcast_to(in_bound, weights.shape[1]) + np.abs(bias)).max())
            dtype = gemm_dtype(bound)
            requant = layer.requantization
            low = high = next_qmin = 0
            thresholds = None
            if i < n_hidden:
                out = grids[i + 1]
                zero = int(out.zero_point)
                thresholds = requant.thresholds
                if thresholds is None:
                    lo, hi = output_bounds(network.activation, out)
                else:
                    lo, hi = out.qmin, out.qmax
                low, high, next_qmin = lo - zero, hi - zero, out.qmin - zero
                in_bound = level_range(lo, hi, zero)
            layers.append(
                PreparedLayer(
                    np.ascontiguousarray(weights.T, dtype=dtype),
                    bias.astype(dtype),
                    bound,
                    None if requant is None else _requantizer(requant, bound, requantize),
                    thresholds,
                    low,
                    high,
                    next_qmin,
                )
            )
        self._layers = tuple(layers)

    # ------------------------------------------------------------------
    # Integer logits
    # ------------------------------------------------------------------
    @property
    def layers(self) -> tuple:
        """Each layer as prepared: weight levels and bias codes in the GEMM's type, requantization, bounds."""
        return self._layers

    @property
    def gemm_dtypes(self) -> tuple:
        """The type each layer's GEMM runs in (float32, float64 or int64)."""
        return tuple(layer.weights.dtype for layer in self._layers)

    def levels(self, X: np.ndarray) -> np.ndarray:
        """``q(x) - zp`` of features already in the network's float type, as floats of that type."""
        return self._input(X)

    def logits_from_levels(self, levels: np.ndarray) -> np.ndarray:
        """int32 logits from input levels ``q - zp`` (any numeric type holding them exactly)."""
        if len(levels) <= _CHUNK:
            return self._logits(levels)
        return np.concatenate([self._logits(levels[i : i + _CHUNK]) for i in range(0, len(levels), _CHUNK)])

    def logits(self, X: np.ndarray) -> np.ndarray:
        """int32 logits of features already in the network's float type."""
        if len(X) <= _CHUNK:
            return self._logits(self._input(X))
        return np.concatenate(
            [self._logits(self._input(X[i : i + _CHUNK])) for i in range(0, len(X), _CHUNK)]
        )

    def _logits(self, x: np.ndarray) -> np.ndarray:
        return self.logits_from_accumulator(self._layers[0].accumulate(x))

    def logits_from_accumulator(self, acc: np.ndarray) -> np.ndarray:
        """int32 logits from the first layer's int64 accumulators ``levels @ W + b``.

        Where a folded pipeline (:class:`~skqat.export.IntegerPipeline`) enters:
        it adds one stored row of accumulators per categorical column instead
        of multiplying one-hot levels.
        """
        layers = self._layers
        for i, layer in enumerate(layers[:-1]):
            assert layer.requantize is not None, "a hidden layer requantizes"
            y = layer.requantize(acc)
            # Ufuncs rather than np.clip, whose Python wrapper dominates a one-row predict.
            if layer.thresholds is None:
                x = np.minimum(np.maximum(y, layer.low, out=y), layer.high, out=y)
            else:
                np.minimum(np.maximum(y, INT32_MIN + 1, out=y), INT32_MAX - 1, out=y)
                x = np.searchsorted(layer.thresholds, y, side="right") + layer.next_qmin_level
            acc = layers[i + 1].accumulate(x)
        last = layers[-1]
        if last.requantize is not None:
            acc = last.requantize(acc)
        return np.minimum(np.maximum(acc, INT32_MIN, out=acc), INT32_MAX, out=acc).astype(np.int32)

    # ------------------------------------------------------------------
    # What predict returns
    # ------------------------------------------------------------------
    def outputs(self, X: np.ndarray) -> np.ndarray:
        """The head's output activation of the real logits ``logits * logit_scale``, in the training dtype.

        Computed in float64 and returned in the training float type, as the
        float network's ``predict_proba`` (scikit-learn's dtype rule).
        """
        return self.head.outputs(self.logits(X) * self.logit_scale).astype(self.dtype, copy=False)

    def labels(self, X: np.ndarray) -> np.ndarray:
        """A classifier's labels from the integer logits (ties and thresholds on integers)."""
        return self.head.labels(self.logits(X), logits=True)


def _requantizer(requant, bound: int, mode: str):
    if mode == "float32":
        multiplier = requant.float32_multiplier
        return lambda acc: requantize_float32(acc, multiplier)
    return FixedPointMultiplier(requant.fixed_multiplier, requant.shift, bound)
