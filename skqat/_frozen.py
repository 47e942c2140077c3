"""The frozen network: one numpy record of a fitted model, written once at the end of ``fit``.

Every reader of a fitted skqat model reads this record and nothing else:
``predict`` (through :mod:`skqat._inference`), ``quantization_report()``,
the plots' model sizes, ``export_integer()`` (:class:`~skqat.export.IntegerMLP`),
the C header, the ONNX graphs and QONNX. It is numpy only, so it pickles
without torch objects and loads where torch cannot be imported; nothing in it
is recomputed on load.

The grid convention
-------------------
One convention, the one ONNX ``QuantizeLinear``, ``torch.ao`` and TFLite use.
A tensor on a grid with scale ``s > 0`` and integer zero point ``zp`` has
integer *codes*

.. math::

    q(x) = \\operatorname{clamp}(\\operatorname{round}(x \\cdot (1/s) + zp),\\; q_{min}, q_{max}),
    \\qquad \\hat x = s \\, (q - zp)

with rounding half to even and ``1/s`` rounded once in the tensor's float
type, exactly as training's fake quantization computes it. (ONNX's
``QuantizeLinear`` rounds ``x / s`` before adding ``zp``; the two differ only
where ``x / s`` is exactly half-way and ``zp`` is odd, so every skqat target
restates this form with explicit operators rather than ``QuantizeLinear``.) Symmetric grids
have ``zp = 0``; zero is always on the grid (``q_min <= zp <= q_max``).
:func:`quantize_codes` is the one numpy implementation; the graph exports
restate it as operators.

Training (:mod:`skqat._functional`, the fused kernels, the quantizers)
learns ``zp`` in this same convention.

Sizes
-----
:func:`tensor_nbytes` is the one byte count: values packed at their bit width,
plus 4 bytes per scale and per stored zero point. :meth:`FrozenNetwork.nbytes`
sums it over what the deployed integer model stores, and the report and the
plots use the same function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._head import LabelHead

__all__ = [
    "FrozenGrid",
    "FrozenLayer",
    "FrozenNetwork",
    "Requantization",
    "accumulator_scale",
    "code_unit",
    "weight_from_codes",
    "codes_from_inverse",
    "window_codes",
    "levels_bits",
    "GridParams",
    "float_codes",
    "quantize_codes",
    "smallest_int_dtype",
    "tensor_nbytes",
    "weight_matrix_nbytes",
    "network_nbytes",
    "PARAM_BYTES",
    "CALIBRATED_BITS",
    "AUTO_INPUT_BITS",
    "AUTO_BIAS_BITS",
    "resolve_auto_bits",
]

#: Bytes of one stored scale or zero point (float32 / int32).
PARAM_BYTES = 4

#: Bits of the asymmetric grids calibrated at the end of ``fit`` for integer
#: deployment (the input without ``input_bits``, activations without
#: ``activation_bits``).
CALIBRATED_BITS = 8

#: What ``input_bits="auto"`` and ``bias_bits="auto"`` become in a network
#: whose weights and hidden activations are all quantized.
AUTO_INPUT_BITS = 8
AUTO_BIAS_BITS = 32


def resolve_auto_bits(input_bits, bias_bits, layer_bits, activation_bits, n_hidden: int) -> tuple:
    """``(input_bits, bias_bits)`` with ``"auto"`` resolved.

    ``"auto"`` gives an integer-only network (every layer's weights quantized,
    ``"learned"`` widths included, and ``activation_bits`` set or no hidden
    layer) an 8-bit input grid and int32 biases, so it trains on the grids it
    deploys on and ``predict`` runs the integer model; any other network
    keeps float inputs and biases (None).

    Examples
    --------
    >>> resolve_auto_bits("auto", "auto", [4, 4], 8, 1)
    (8, 32)
    >>> resolve_auto_bits("auto", "auto", [None, None], None, 1)
    (None, None)
    >>> resolve_auto_bits(6, "auto", [4, None], 8, 1)
    (6, None)
    """
    integer = all(bits is not None for bits in layer_bits) and (activation_bits is not None or n_hidden == 0)
    if input_bits == "auto":
        input_bits = AUTO_INPUT_BITS if integer else None
    if bias_bits == "auto":
        bias_bits = AUTO_BIAS_BITS if integer else None
    return input_bits, bias_bits


def smallest_int_dtype(low: int, high: int) -> np.dtype:
    """The smallest numpy integer dtype holding ``[low, high]``.

    Examples
    --------
    >>> smallest_int_dtype(-8, 7), smallest_int_dtype(0, 255), smallest_int_dtype(-1, 200)
    (dtype('int8'), dtype('uint8'), dtype('int16'))
    """
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    raise ValueError(f"no integer dtype holds [{low}, {high}]")


def tensor_nbytes(n_values: int, bits: int, n_scales: int = 0, asymmetric: bool = False) -> int:
    """Packed bytes of a tensor: ``ceil(n_values * bits / 8)`` plus its scales and zero points.

    Parameters
    ----------
    n_values : int
        Values stored (0 for a grid that is applied, not stored: inputs and
        activations).
    bits : int
        Bits per value.
    n_scales : int, default=0
        Scales stored with it (1 per tensor, one per channel).
    asymmetric : bool, default=False
        Whether a zero point is stored with each scale.

    Examples
    --------
    >>> tensor_nbytes(30, 4, n_scales=1)
    19
    >>> tensor_nbytes(0, 8, n_scales=1, asymmetric=True)
    8
    """
    return math.ceil(n_values * bits / 8) + PARAM_BYTES * n_scales * (2 if asymmetric else 1)


def weight_matrix_nbytes(
    n_in: int, n_out: int, bits, per_channel: bool = False, asymmetric: bool = False
) -> int:
    """:func:`tensor_nbytes` of an ``n_out x n_in`` weight matrix at ``bits`` (None: float32)."""
    if bits is None:
        return tensor_nbytes(n_in * n_out, 32)
    return tensor_nbytes(n_in * n_out, bits, n_out if per_channel else 1, asymmetric)


def network_nbytes(
    layer_sizes,
    layer_bits,
    *,
    per_channel: bool = False,
    asymmetric: bool = False,
    bias_bits=None,
    input_bits=None,
    activation_bits=None,
    per_feature_input: bool = False,
) -> int:
    """Packed bytes of a network before it is trained: what :meth:`FrozenNetwork.nbytes` will count.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden, n_outputs]``.
    layer_bits : sequence of int or None
        Each layer's weight bits (None: float32).
    per_channel, asymmetric : bool
        Weight grid granularity and zero points.
    bias_bits, input_bits, activation_bits : int or None
        As the estimators' parameters. An all-integer network without
        ``input_bits`` (or ``activation_bits``) stores the 8-bit grid
        calibrated at the end of fit instead.
    per_feature_input : bool, default=False
        One input scale (and zero point) per feature (``input_granularity``).

    Returns
    -------
    int

    Examples
    --------
    >>> network_nbytes([4, 8, 3], [4, 4], activation_bits=8)
    92
    """
    total = 0
    for n_in, n_out, bits in zip(layer_sizes[:-1], layer_sizes[1:], layer_bits):
        total += weight_matrix_nbytes(n_in, n_out, bits, per_channel, asymmetric)
        total += tensor_nbytes(n_out, bias_bits or 32)
    integer = all(b is not None for b in layer_bits)
    scales = [layer_sizes[0] if per_feature_input and input_bits is not None else 1]
    scales += [1] * (len(layer_sizes) - 2)
    for grid_bits, n_scales in zip([input_bits] + [activation_bits] * (len(layer_sizes) - 2), scales):
        if grid_bits is not None:
            total += tensor_nbytes(0, grid_bits, n_scales, asymmetric)
        elif integer:
            total += tensor_nbytes(0, CALIBRATED_BITS, 1, True)
    return total


def code_unit(bits: int) -> float:
    """``k = 2**(bits - 3)``: the spread, in codes, a per-feature input grid gives a constant column.

    A grid initialised from a column's range puts about four standard
    deviations at ``q_max ~ 2**(bits - 1)``, so ``k`` codes are about one
    standard deviation. The folded first layer divides each column's
    centered codes by its measured spread (``skqat._modules.input_spreads``);
    a constant column has none, and gets this. Models saved before the
    spreads were measured divided every column by it.

    Examples
    --------
    >>> code_unit(8), code_unit(2)
    (32.0, 0.5)
    """
    return 2.0 ** (int(bits) - 3)


def codes_from_inverse(
    x: np.ndarray, inverse, zero_point, qmin: int, qmax: int, out=None, window=None
) -> np.ndarray:
    """The grid formula ``clamp(round(x * inverse + zp), q_min, q_max)``, as floats of ``x``'s type.

    The one implementation of it (:func:`float_codes` prepares its arguments
    from a grid; ``predict`` calls it with arguments prepared once).
    ``inverse`` is ``1/s`` already in ``x``'s type and broadcastable to it;
    ``zero_point`` is None for a zero point of 0; ``out`` may be ``x``.
    ``window``: ``(low, step, levels)`` of learned input widths, in ``x``'s
    type (:func:`window_codes` then replaces the rounding and clamping).
    """
    u = np.multiply(x, inverse, out=out)
    if zero_point is not None:
        # Added before rounding, as training does: the two orders differ only at exact ties.
        u += zero_point
    if window is not None:
        return window_codes(u, *window)
    np.round(u, out=u)
    # Two ufuncs: np.clip's Python wrapper costs more than the work on a one-row predict.
    np.maximum(u, qmin, out=u)
    return np.minimum(u, qmax, out=u)


def window_codes(u, low, step, levels):
    """Container codes ``low + step * clamp(round((u - low) / step), 0, levels - 1)`` of code units ``u``.

    The one rule of a learned-width feature's codes: training computes it in
    torch, and the integer model, the C header and the ONNX graph in the
    same operations (``u`` is ``x * (1/s) + zp`` as for every grid), so all
    give the same codes. Works on torch tensors and numpy arrays; ``u`` is
    overwritten.
    """
    if not isinstance(u, np.ndarray):  # a torch tensor (this module does not import torch)
        u.sub_(low).div_(step).round_()
        return u.clamp_(levels * 0, levels - 1).mul_(step).add_(low)
    np.subtract(u, low, out=u)
    np.divide(u, step, out=u)
    np.round(u, out=u)
    np.maximum(u, 0, out=u)
    np.minimum(u, levels - 1, out=u)
    np.multiply(u, step, out=u)
    return np.add(u, low, out=u)


def levels_bits(levels) -> np.ndarray:
    """Bits of a window of ``levels`` codes: ``ceil(log2(levels))``, 0 for a single code.

    Examples
    --------
    >>> levels_bits(np.array([1, 2, 4, 5, 256]))
    array([0, 1, 2, 3, 8])
    """
    levels = np.asarray(levels, dtype=np.int64)
    return np.ceil(np.log2(np.maximum(levels, 1))).astype(np.int64)


@dataclass(frozen=True)
class GridParams:
    """A frozen input or activation grid prepared for numpy: ``1 / s`` rounded once, in one dtype.

    :meth:`levels` gives ``q(x) - zp`` (what the integer model multiplies),
    calling it ``s * (q(x) - zp)`` (predict's fake quantization), both through
    :func:`codes_from_inverse`. Grids of 2 bits or more (inputs and
    activations are never binary).
    """

    scale: np.ndarray
    inverse: np.ndarray
    zero: np.ndarray | None
    qmin: int
    qmax: int
    window: tuple | None = None

    @classmethod
    def prepared(cls, grid: FrozenGrid, dtype) -> GridParams:
        """``grid`` in ``dtype`` (per feature for a per-feature input grid: arrays along the features)."""
        scale = np.asarray(grid.scale, dtype=dtype)
        zero = np.asarray(grid.zero_point, dtype=dtype) if grid.nonzero_zero_point else None
        window = None if grid.window is None else tuple(np.asarray(w, dtype=dtype) for w in grid.window)
        return cls(scale, np.reciprocal(scale), zero, grid.qmin, grid.qmax, window)

    def select(self, features) -> GridParams:
        """The grids of some features (an index or index array) of a per-feature grid; a per-tensor
        grid is the same for every feature."""
        if np.ndim(self.scale) == 0:
            return self
        zero = None if self.zero is None else self.zero[features]
        window = None if self.window is None else tuple(w[features] for w in self.window)
        return GridParams(self.scale[features], self.inverse[features], zero, self.qmin, self.qmax, window)

    @classmethod
    def of(cls, grid: FrozenGrid | None, dtype) -> GridParams | None:
        """The grid the float ``predict`` applies, or None (no grid, or one calibrated for deployment)."""
        if grid is None or grid.calibrated:
            return None
        return cls.prepared(grid, dtype)

    def levels(self, x: np.ndarray, out=None) -> np.ndarray:
        """``q(x) - zp`` as floats of ``x``'s type (``out`` may be ``x``)."""
        codes = codes_from_inverse(
            x, self.inverse, self.zero, self.qmin, self.qmax, out=out, window=self.window
        )
        if self.zero is not None:
            codes -= self.zero
        return codes

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``s * (q(x) - zp)``, written over ``x``."""
        return np.multiply(self.levels(x, out=x), self.scale, out=x)


def float_codes(x: np.ndarray, grid: FrozenGrid, out=None) -> np.ndarray:
    """The codes of ``x`` on ``grid`` (:func:`codes_from_inverse`), as values of ``x``'s float type."""
    if grid.binary:
        return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)
    inverse = grid.broadcast(np.reciprocal(np.asarray(grid.scale, dtype=x.dtype)), x.ndim)
    zero_point = grid.broadcast(grid.zero_point, x.ndim) if grid.nonzero_zero_point else None
    window = None if grid.window is None else tuple(np.asarray(w, dtype=x.dtype) for w in grid.window)
    return codes_from_inverse(x, inverse, zero_point, grid.qmin, grid.qmax, out, window=window)


def quantize_codes(x: np.ndarray, grid: FrozenGrid) -> np.ndarray:
    """Integer codes ``clamp(round(x * (1/s) + zp), q_min, q_max)`` of ``x`` on ``grid``.

    Computed in ``x``'s float type with the grid's scale cast to it, as
    training computes it (:func:`float_codes`); returned in the smallest
    integer dtype that holds the grid. The binary grid (``bits=1``) gives
    ``-1`` and ``+1`` (``sign(0) = +1``).

    Examples
    --------
    >>> grid = FrozenGrid(4, -8, 7, np.array(2.0), np.array(0, np.int32))
    >>> quantize_codes(np.array([7.8, -0.4, 100.0]), grid)
    array([4, 0, 7], dtype=int8)
    >>> asym = FrozenGrid(4, 0, 15, np.array(0.5), np.array(3, np.int32), symmetric=False)
    >>> quantize_codes(np.array([-1.5, 0.0, 1.0]), asym)
    array([0, 3, 5], dtype=int8)
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return float_codes(x, grid).astype(smallest_int_dtype(grid.qmin, grid.qmax))


@dataclass(frozen=True)
class FrozenGrid:
    """A uniform grid: ``bits``, code range, scale and zero point (ONNX convention).

    Parameters
    ----------
    bits : int
    qmin, qmax : int
        Inclusive code range.
    scale : ndarray
        ``()`` per tensor or ``(n,)`` per channel, in the training float type:
        one per output unit of a weight matrix (``axis=0``), or one per input
        feature (``axis=-1``, a per-feature input grid).
    zero_point : ndarray of int32
        Same shape as ``scale``; 0 for symmetric grids.
    symmetric : bool, default=True
        Whether the zero point is fixed at 0 (an asymmetric grid stores it).
    calibrated : bool, default=False
        True for a grid measured on the training data at the end of ``fit``
        for integer deployment (the input without ``input_bits``, hidden
        activations without ``activation_bits``); ``predict`` does not apply
        those.
    axis : {0, -1}, default=0
        The axis per-channel values run along: the rows of a weight matrix
        (0), or the features of an input (-1).
    window : tuple of three int32 ndarrays or None, default=None
        Learned input widths (``input_bits="learned"``): ``(low, step,
        levels)`` per feature. Feature ``j`` then takes the codes ``low[j] +
        step[j] * k``, ``k`` in ``[0, levels[j] - 1]`` (:func:`window_codes`;
        ``levels[j] = 2**b_j``, 1 for a dropped feature), within the
        container's ``[qmin, qmax]``.
    """

    bits: int
    qmin: int
    qmax: int
    scale: np.ndarray
    zero_point: np.ndarray
    symmetric: bool = True
    calibrated: bool = False
    axis: int = 0
    window: tuple | None = None

    @property
    def feature_bits(self) -> np.ndarray | None:
        """Bits of each feature's codes for a per-feature grid (the window's, or ``bits`` for all)."""
        if self.window is not None:
            return levels_bits(self.window[2])
        return np.full(self.n_scales, self.bits, dtype=np.int64) if self.per_feature else None

    @property
    def binary(self) -> bool:
        return self.bits == 1 and self.qmin == -1 and self.qmax == 1

    @property
    def nonzero_zero_point(self) -> bool:
        return bool(np.any(self.zero_point))

    @property
    def per_channel(self) -> bool:
        return np.ndim(self.scale) > 0

    @property
    def per_feature(self) -> bool:
        """A per-feature input grid: its scales fold into the first layer's weights, which multiply codes."""
        return self.axis != 0 and self.per_channel

    @property
    def n_scales(self) -> int:
        return int(np.size(self.scale))

    def broadcast(self, values: np.ndarray, ndim: int) -> np.ndarray:
        """Per-channel ``values`` shaped to broadcast along this grid's axis of an ``ndim``-d tensor.

        Along the rows of a 2-d ``(n, ...)`` weight matrix (``axis=0``), or
        along the last axis, the features (``axis=-1``: as they are).
        """
        values = np.asarray(values)
        if values.ndim == 0 or ndim < 2 or self.axis != 0:
            return values
        return values.reshape(-1, *([1] * (ndim - 1)))

    def dequantize(self, codes: np.ndarray, dtype) -> np.ndarray:
        """``s * (q - zp)`` in ``dtype``."""
        levels = codes.astype(dtype) - self.broadcast(self.zero_point, codes.ndim).astype(dtype)
        return levels * self.broadcast(np.asarray(self.scale, dtype), codes.ndim)

    def stored_nbytes(self, n_values: int = 0) -> int:
        """:func:`tensor_nbytes` of ``n_values`` codes on this grid, plus 3 values per feature of a window."""
        window = 0 if self.window is None else 3 * PARAM_BYTES * self.n_scales
        return tensor_nbytes(n_values, self.bits, self.n_scales, not self.symmetric) + window


def weight_from_codes(codes: np.ndarray, grid: FrozenGrid, dtype, folded_input: FrozenGrid | None = None):
    """The weight ``predict`` multiplies by, from a layer's codes: ``s_w * (q - zp)`` in ``dtype``.

    ``folded_input``: the per-feature input grid of a first layer whose codes
    multiply input codes; the weight is then divided by its scales. Exactly
    the trained weight: the folded grid is training's.
    """
    weight = grid.dequantize(codes, dtype)
    if folded_input is not None:
        weight = weight / np.asarray(folded_input.scale, dtype)
    return weight


def accumulator_scale(weight_grid: FrozenGrid, input_grid: FrozenGrid | None) -> np.ndarray:
    """``s_in * s_w`` in float64: the scale of a layer's accumulator and of its int32 bias.

    ``s_w`` alone for a float input (``input_grid`` None) and for a
    per-feature input grid, whose scales live in the first layer's weights
    (the weights multiply the input codes). Per tensor (``()``) or per output
    unit, as ``weight_grid.scale``.
    """
    scale = np.asarray(weight_grid.scale, np.float64)
    if input_grid is None or input_grid.per_feature:
        return scale
    return scale * float(input_grid.scale)


@dataclass(frozen=True)
class Requantization:
    """From a layer's int32 accumulator (scale ``s_in * s_w``) to its output's integers.

    The real factor per output unit is ``M = s_in * s_w / s_out`` (``s_out``
    the next grid's scale, or the fine pre-activation scale of a table
    activation, or the common logit scale). ``fixed_multiplier`` and
    ``shift`` are its int32 fixed-point form (TFLite's ``QuantizeMultiplier``),
    ``float32_multiplier`` the float32 form onnxruntime's integer kernels use,
    ``fl32(fl32(s_in * s_w) / s_out)``.

    ``thresholds`` (tanh and logistic) is the sorted int32 table of the
    pre-activation values, on the fine scale, at which the output code steps
    up: code ``q_min + count(thresholds <= y)``. ``None`` for relu and
    identity, which clamp.
    """

    fixed_multiplier: np.ndarray
    shift: np.ndarray
    float32_multiplier: np.ndarray
    thresholds: np.ndarray | None = None


@dataclass(frozen=True)
class FrozenLayer:
    """One layer as inference uses it.

    Parameters
    ----------
    weight : ndarray of shape (n_out, n_in)
        The weight ``predict`` multiplies by: ``s * (q - zp)`` in the training
        float type (the latent float weight for a float layer).
    bias : ndarray of shape (n_out,)
        The bias ``predict`` adds (on its grid when ``bias_bits`` is set).
    weight_grid : FrozenGrid or None
        None for a float layer.
    weight_codes : ndarray of shape (n_out, n_in) or None
        Integer codes, smallest integer dtype.
    bias_codes : ndarray of int32 or None
        ``round(b / (s_in * s_w))`` on the deployed input grid's scale.
    bias_bits : int or None
        Bit width the bias was trained on (None: stored as int32 for
        deployment, float for ``predict``).
    requantization : Requantization or None
        To the next grid (hidden layers) or to the common logit scale (the
        last layer, only when its weight scales differ per channel).
    """

    weight: np.ndarray
    bias: np.ndarray
    weight_grid: FrozenGrid | None = None
    weight_codes: np.ndarray | None = None
    bias_codes: np.ndarray | None = None
    bias_bits: int | None = None
    requantization: Requantization | None = None

    @property
    def shape(self) -> tuple[int, int]:
        n_out, n_in = self.weight.shape
        return int(n_out), int(n_in)

    def weight_nbytes(self) -> int:
        if self.weight_grid is None:
            return tensor_nbytes(self.weight.size, 32)
        return self.weight_grid.stored_nbytes(self.weight.size)

    def bias_nbytes(self) -> int:
        return tensor_nbytes(self.bias.size, self.bias_bits or 32)


@dataclass(frozen=True)
class FrozenNetwork:
    """A fitted network as one record; see the module docstring.

    Parameters
    ----------
    layers : tuple of FrozenLayer
    activation : str
        Hidden activation.
    head : LabelHead
        What the outputs mean: the output kind (and so the output
        activation), the classes and the feature names (:mod:`skqat._head`).
    input_grid : FrozenGrid or None
        The input features' grid (trained with ``input_bits``, or calibrated).
    activation_grids : tuple of (FrozenGrid or None)
        Each hidden layer's output grid (trained or calibrated).
    logit_scale : float or None
        Real value of one unit of the integer logits (None when not
        integer-deployable).
    """

    layers: tuple
    activation: str
    head: LabelHead
    input_grid: FrozenGrid | None = None
    activation_grids: tuple = ()
    logit_scale: float | None = None

    @property
    def out_activation(self) -> str:
        """``"softmax"``, ``"logistic"``, ``"identity"`` or ``"exp"``: the head's output activation."""
        return self.head.out_activation

    @property
    def dtype(self) -> np.dtype:
        """The float type ``predict`` computes in (the training dtype)."""
        return self.layers[0].weight.dtype

    @property
    def integer(self) -> bool:
        """Whether every layer is on integers from input codes to logits."""
        return self.logit_scale is not None

    @property
    def integer_predict(self) -> bool:
        """Whether ``predict`` runs the integer model: integer-only, every grid trained (none calibrated)."""
        return self.integer and not any(grid.calibrated for grid in self.grids())

    @property
    def n_features(self) -> int:
        return int(self.layers[0].weight.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.layers[-1].weight.shape[0])

    def grids(self) -> list:
        """Input grid, then each hidden activation grid (None where absent)."""
        return [self.input_grid, *self.activation_grids]

    def nbytes(self) -> int:
        """Packed bytes of the deployed model: weights, biases, and the input and activation grids."""
        total = sum(layer.weight_nbytes() + layer.bias_nbytes() for layer in self.layers)
        return total + sum(grid.stored_nbytes() for grid in self.grids() if grid is not None)

    def float32_nbytes(self) -> int:
        """The same network's weights and biases in float32."""
        return sum(4 * (layer.weight.size + layer.bias.size) for layer in self.layers)
