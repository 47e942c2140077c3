"""The integer ONNX graph: ``export_integer(requantize="float32")`` on onnxruntime's integer kernels.

See :mod:`skqat.export._onnx` for what the graph computes and why each form
was chosen; this module builds it from the frozen record.
"""

from __future__ import annotations

import numpy as np

from .._fixed_point import INT32_MAX, INT32_MIN
from .._frozen import FrozenGrid, FrozenLayer, FrozenNetwork, quantize_codes
from .._integer_codes import accumulator_bits, level_bound, output_bounds, weight_levels
from ._onnx_graph import MS_DOMAIN, GraphBuilder, cast, count_at_most, grid_codes, onnx_type, window_ops

__all__ = ["build_integer_network", "check_integer", "input_codes", "integer_layers", "MAX_TABLE"]

#: Largest lookup table of a tanh/logistic layer (entries, one byte each);
#: wider threshold ranges take the binary search.
MAX_TABLE = 1 << 22


def _code_shift(grid: FrozenGrid) -> int:
    """What a grid's codes are shifted by to lie in uint8 (``-q_min`` for a signed grid)."""
    return max(-grid.qmin, 0)


def check_integer(network: FrozenNetwork) -> None:
    """Raise ValueError unless onnxruntime's 8-bit integer kernels compute the network exactly."""
    if not network.integer:
        raise ValueError(
            "integer_ops=True needs an integer-only network: every layer with quantized weights "
            "(weight_bits set) and every input and hidden activation on a grid."
        )
    grids = network.grids()
    assert all(grid is not None for grid in grids), "an integer network has every grid"
    named = [("input", network.input_grid)]
    named += [(f"hidden layer {i} activation", grid) for i, grid in enumerate(network.activation_grids)]
    for what, grid in named:
        assert grid is not None
        if grid.qmax - grid.qmin > 255:
            raise ValueError(
                f"integer_ops=True: the {what} grid has {grid.bits} bits; onnxruntime's integer kernels take "
                "8-bit activations. Refit with activation_bits (and input_bits) of 8 or less, or export the "
                "float graph (integer_ops=False)."
            )
    for i, layer in enumerate(network.layers):
        grid = layer.weight_grid
        assert grid is not None, "an integer network has quantized weights"
        if grid.qmax - grid.qmin > 255:
            raise ValueError(
                f"integer_ops=True: layer {i} has {grid.bits}-bit weights; onnxruntime's integer kernels "
                "take 8-bit weights. Refit with weight_bits of 8 or less, or export the float graph "
                "(integer_ops=False)."
            )
        if accumulator_bits(layer, grids[i]) != 32:
            raise ValueError(
                f"integer_ops=True: layer {i}'s accumulator can overflow int32, which onnxruntime's integer "
                "kernels use; export the float graph (integer_ops=False)."
            )


#: Largest int16: onnxruntime's ``uint8 x int8`` kernels on x86 without VNNI
#: (``VPMADDUBSW``) add each pair of products in saturating int16.
INT16_MAX = 2**15 - 1


def _signed_weights_exact(layer: FrozenLayer, input_grid: FrozenGrid) -> bool:
    """Whether ``uint8 x int8`` is exact for the layer on every onnxruntime CPU kernel.

    The kernels multiply the raw uint8 codes (``q_max + shift`` at most) by
    the raw int8 weights (``-2**(b-1)`` at most in magnitude). Without VNNI
    two such products are added in saturating int16, so the pair must fit:
    ``2 * a_max * 2**(b-1) <= 32767``. 7-bit weights with 8-bit inputs fit
    (32,640); 8-bit weights with 8-bit inputs do not (65,280).
    """
    grid = layer.weight_grid
    assert grid is not None, "an integer layer"
    return 2 * (input_grid.qmax + _code_shift(input_grid)) * 2 ** (grid.bits - 1) <= INT16_MAX


def _gemm_weight(layer: FrozenLayer, input_grid: FrozenGrid) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, zero_point)``: the (n_in, n_out) weight codes and per-column zero points for QGemm.

    int8, shifted into ``[-2**(b-1), 2**(b-1))``, where ``uint8 x int8`` is
    exact on every CPU (:func:`_signed_weights_exact`): the fast kernels
    (``VPDPBUSD`` with VNNI). Otherwise uint8, shifted into ``[0, 2**b)``:
    onnxruntime's ``uint8 x uint8`` kernels widen both to int16 and add pairs
    in int32 (``VPMADDWD``, ``VPDPWSSD``, ARM's ``UDOT``), exact on every CPU.
    ``q - zp`` is unchanged by either shift, so the products are.
    """
    grid = layer.weight_grid
    assert grid is not None and layer.weight_codes is not None, "an integer layer"
    if _signed_weights_exact(layer, input_grid):
        shift, dtype = grid.qmin + 2 ** (grid.bits - 1), np.int8  # 0 for signed and binary grids
    else:
        shift, dtype = grid.qmin, np.uint8
    codes = (layer.weight_codes.astype(np.int16) - shift).T
    zero = np.broadcast_to(np.asarray(grid.zero_point, np.int16) - shift, (layer.shape[0],))
    return np.ascontiguousarray(codes, dtype=dtype), zero.astype(dtype)


def _column_params(*values: np.ndarray) -> list[np.ndarray]:
    """Per-column parameters, as scalars when every column has the same (the faster per-tensor kernels)."""
    if any(np.any(v != v[0]) for v in values):
        return list(values)
    return [v[:1].reshape(()) for v in values]


def _input_zero(grid: FrozenGrid) -> int:
    """The uint8 zero point of a grid's shifted codes."""
    return int(grid.zero_point) + _code_shift(grid)


def _zero_and_bias(layer: FrozenLayer, input_grid: FrozenGrid) -> tuple[int, np.ndarray]:
    """The kernel's scalar uint8 input zero point and the layer's int32 bias (``C``).

    The kernels take one input zero point. A per-feature input grid's zero
    points (shifted into uint8 like the codes) move into the bias instead:
    ``sum_j (a_j - z_j) w_ij + b_i = sum_j a_j w_ij + (b_i - sum_j z_j w_ij)``,
    the same integers, with ``w`` the weight levels ``q_w - zp_w``.
    """
    assert layer.bias_codes is not None, "an integer layer has int32 bias codes"
    bias = layer.bias_codes.astype(np.int64)
    if not input_grid.per_feature:
        return _input_zero(input_grid), bias.astype(np.int32)
    zeros = np.asarray(input_grid.zero_point, np.int64) + _code_shift(input_grid)
    bias = bias - weight_levels(layer).astype(np.int64) @ zeros
    if np.any(np.abs(bias) > INT32_MAX):
        raise ValueError(
            "integer_ops=True: the first layer's bias with the per-feature input zero points folded in "
            "overflows int32, which onnxruntime's integer kernels use; export the float graph "
            "(integer_ops=False)."
        )
    return 0, bias.astype(np.int32)


def _qgemm(
    g: GraphBuilder,
    codes: str,
    input_grid: FrozenGrid,
    layer: FrozenLayer,
    multiplier,
    hint: str,
    out_zero=None,
    extra: str | None = None,
) -> str:
    """QGemm of uint8 codes (on ``input_grid``) by the layer's weights with its int32 bias codes as ``C``.

    Float32 output ``float32(acc) * multiplier`` (``out_zero`` None), or uint8
    ``saturate(rint(float32(acc) * multiplier) + out_zero)``. With ``a_scale``
    and ``y_scale`` 1, QGemm's multiplier (``alpha * a_scale * b_scale``, divided
    by ``y_scale``, in float32) is ``b_scale = multiplier`` exactly. ``extra``:
    int32 accumulators ``(n, n_out)`` added to ``C`` (QGemm reads ``C`` per row).
    """
    weight, weight_zero = _gemm_weight(layer, input_grid)
    multiplier = np.broadcast_to(np.asarray(multiplier, np.float32), weight_zero.shape)
    multiplier, weight_zero = _column_params(multiplier, weight_zero)
    one = g.constant(f"{hint}_one", np.float32(1.0))
    zero, bias = _zero_and_bias(layer, input_grid)
    inputs = [
        codes,
        one,
        g.constant(f"{hint}_xzp", np.uint8(zero)),
        g.constant(f"{hint}_w", weight),
        g.constant(f"{hint}_m", multiplier),
        g.constant(f"{hint}_wzp", weight_zero),
        _with_extra(g, g.constant(f"{hint}_bias", bias), extra, hint),
    ]
    if out_zero is not None:
        inputs += [one, g.constant(f"{hint}_yzp", np.uint8(out_zero))]
    return g.node("QGemm", inputs, f"{hint}_q", domain=MS_DOMAIN)


def _with_extra(g: GraphBuilder, acc: str, extra: str | None, hint: str) -> str:
    """``acc + extra`` in int32 (``acc`` alone without ``extra``)."""
    return acc if extra is None else g.node("Add", [acc, extra], f"{hint}_rows")


def _float32_exact(layer: FrozenLayer, grid: FrozenGrid) -> bool:
    """Whether every accumulator of the layer is below ``2**24`` in magnitude (so exact in float32)."""
    columns = level_bound(grid) * np.abs(weight_levels(layer).astype(np.int64)).sum(axis=1)
    assert layer.bias_codes is not None, "an integer layer has int32 bias codes"
    return bool(np.all(columns + np.abs(layer.bias_codes.astype(np.int64)) < 2**24))


def _ceil_float32(values: np.ndarray) -> np.ndarray:
    """The smallest float32 at or above each integer: ``t <= y`` iff ``ceil32(t) <= y`` for float32 ``y``."""
    rounded = values.astype(np.float32)
    below = rounded.astype(np.float64) < values
    return np.where(below, np.nextafter(rounded, np.float32(np.inf)), rounded).astype(np.float32)


def _table_codes(g: GraphBuilder, y: str, thresholds: np.ndarray, grid: FrozenGrid, hint: str) -> str:
    """IntegerMLP's table: uint8 ``q_min + shift + count(thresholds <= y)``.

    ``y`` is float32 and integer-valued, clamped to ``INT32_MIN + 1``,
    ``INT32_MAX - 1`` by the reference. Thresholds at ``INT32_MIN + 1`` are
    reached by every ``y`` after that clamp and those at ``INT32_MAX`` by
    none; the others are compared exactly.
    """
    thresholds = np.asarray(thresholds, np.int64)
    always, never = thresholds == INT32_MIN + 1, thresholds == INT32_MAX
    finite = np.sort(thresholds[~always & ~never])
    base = grid.qmin + _code_shift(grid) + int(always.sum())
    low = int(finite[0]) - 1 if finite.size else 0
    high = int(finite[-1]) if finite.size else 0
    if not finite.size or (high - low < MAX_TABLE and max(abs(low), abs(high)) <= 2**24):
        # A lookup on [low, high]: below it no finite threshold is reached, above it all are.
        table = base + np.searchsorted(finite, np.arange(low, high + 1), side="right")
        bounds = [g.constant(f"{hint}_lo", np.float32(low)), g.constant(f"{hint}_hi", np.float32(high))]
        index = g.node("Sub", [g.node("Clip", [y, *bounds], f"{hint}_clip"), bounds[0]], f"{hint}_j")
        index = g.node("Cast", [index], f"{hint}_idx", to=onnx_type(np.int32))
        return g.node("Gather", [g.constant(f"{hint}_table", table.astype(np.uint8)), index], f"{hint}_codes")
    # Binary search: pos counts the thresholds <= y (y integer-valued, so ceil(t) <= y iff t <= y).
    pos = count_at_most(g, y, _ceil_float32(finite), hint)
    codes = g.node("Add", [pos, g.constant(f"{hint}_base", np.int32(base))], f"{hint}_code")
    return g.node("Cast", [codes], f"{hint}_codes", to=onnx_type(np.uint8))


def _hidden_layer(
    g: GraphBuilder,
    codes: str,
    input_grid: FrozenGrid,
    layer: FrozenLayer,
    grid: FrozenGrid,
    activation: str,
    hint: str,
    extra: str | None = None,
) -> str:
    """uint8 codes (shifted) of the next grid from a hidden layer's uint8 input codes.

    ``extra``: :func:`_qgemm`.
    """
    requant = layer.requantization
    assert requant is not None, "a hidden integer layer requantizes"
    shift = _code_shift(grid)
    if requant.thresholds is not None:
        y = g.node(
            "Round",
            [_qgemm(g, codes, input_grid, layer, requant.float32_multiplier, hint, extra=extra)],
            f"{hint}_y",
        )
        return _table_codes(g, y, requant.thresholds, grid, hint)
    out = _qgemm(
        g, codes, input_grid, layer, requant.float32_multiplier, hint, out_zero=_input_zero(grid), extra=extra
    )
    low, high = (bound + shift for bound in output_bounds(activation, grid))
    if (low, high) == (0, 255):  # QGemm's uint8 saturation is the clamp
        return out
    bounds = [g.constant(f"{hint}_lo", np.uint8(low)), g.constant(f"{hint}_hi", np.uint8(high))]
    return g.node("Clip", [out, *bounds], f"{hint}_codes")


def _last_layer(
    g: GraphBuilder,
    codes: str,
    input_grid: FrozenGrid,
    layer: FrozenLayer,
    hint: str,
    float32_exact: bool,
    extra: str | None = None,
):
    """``(name, dtype)`` of the logits: int32, or float32 holding them exactly (``float32_exact``).

    ``extra``: :func:`_qgemm`.
    """
    requant = layer.requantization
    if requant is not None:
        y = g.node(
            "Round",
            [_qgemm(g, codes, input_grid, layer, requant.float32_multiplier, hint, extra=extra)],
            f"{hint}_y",
        )
        # requantize_float32's clip to int32, in int64 (float32 holds no INT32_MAX).
        wide = g.node("Cast", [y], f"{hint}_i64", to=onnx_type(np.int64))
        bounds = [g.constant(f"{hint}_{k}", np.int64(v)) for k, v in (("min", INT32_MIN), ("max", INT32_MAX))]
        clipped = g.node("Clip", [wide, *bounds], f"{hint}_clip")
        return g.node("Cast", [clipped], f"{hint}_logits", to=onnx_type(np.int32)), np.dtype(np.int32)
    if float32_exact:
        return _qgemm(g, codes, input_grid, layer, 1.0, hint, extra=extra), np.dtype(np.float32)
    weight, weight_zero = _gemm_weight(layer, input_grid)
    (weight_zero,) = _column_params(weight_zero)
    zero_point, bias_codes = _zero_and_bias(layer, input_grid)
    zero = g.constant(f"{hint}_xzp", np.uint8(zero_point))
    inputs = [codes, g.constant(f"{hint}_w", weight), zero]
    acc = g.node("MatMulInteger", [*inputs, g.constant(f"{hint}_wzp", weight_zero)], f"{hint}_mm")
    acc = g.node("Add", [acc, g.constant(f"{hint}_bias", bias_codes)], f"{hint}_logits")
    return _with_extra(g, acc, extra, f"{hint}_logits"), np.dtype(np.int32)


def _input_bounds(grid: FrozenGrid, x_dtype, dtype) -> np.ndarray | None:
    """Inputs (of ``x_dtype``) whose codes are ``q_min`` and ``q_max``: the middles of the end steps.

    None for a per-feature grid (ONNX's ``Clip`` takes scalar bounds): its
    codes are clipped after rounding instead.
    """
    if grid.per_feature:
        return None
    middles = ((np.array([grid.qmin, grid.qmax]) - int(grid.zero_point)) * float(grid.scale)).astype(x_dtype)
    codes = quantize_codes(middles.astype(dtype), grid)
    return middles if codes.tolist() == [grid.qmin, grid.qmax] else None


def _float32_input_codes(g: GraphBuilder, x: str, x_dtype, grid: FrozenGrid, shift: int) -> str:
    """uint8 input codes of a float32 model: ``Mul(1/s)``, ``Add(zp)``, then one ``QuantizeLinear``.

    ``QuantizeLinear`` with scale 1 rounds half to even, adds its zero point
    (the uint8 ``shift``, an integer added after rounding, as the reference
    adds it) and saturates to uint8 in one kernel; ``zp`` is added in float
    before it, where training adds it. A ``Clip`` follows only for grids
    narrower than uint8. Learned input widths (``grid.window``) take
    :func:`~skqat.export._onnx_graph.window_ops` instead, their codes shifted
    into uint8 before a ``Cast``.
    """
    u = cast(g, x, x_dtype, np.float32, "input_cast")
    inverse = np.reciprocal(np.asarray(grid.scale, np.float32))
    u = g.node("Mul", [u, g.constant("input_inv", inverse)], "input_u")
    if grid.nonzero_zero_point:
        u = g.node("Add", [u, g.constant("input_zp", np.asarray(grid.zero_point, np.float32))], "input_shift")
    if grid.window is not None:
        # Learned widths: the window's codes, shifted into uint8, are exact integers in float32.
        codes = window_ops(g, u, grid.window, "input", np.float32, offset=shift)
        return g.node("Cast", [codes], "input_codes", to=onnx_type(np.uint8))
    one, offset = g.constant("input_unit", np.float32(1.0)), g.constant("input_u8", np.uint8(shift))
    codes = g.node("QuantizeLinear", [u, one, offset], "input_codes")
    low, high = grid.qmin + shift, grid.qmax + shift
    if (low, high) != (0, 255):
        bounds = (g.constant(f"input_{k}", np.uint8(v)) for k, v in (("low", low), ("high", high)))
        codes = g.node("Clip", [codes, *bounds], "input_clip")
    return codes


def input_codes(g: GraphBuilder, grid: FrozenGrid, dtype, x: str, x_dtype) -> str:
    """uint8 codes (shifted by :func:`_code_shift`) of ``x`` (of ``x_dtype``) on ``grid``, in ``dtype``."""
    shift = _code_shift(grid)
    if dtype == np.float32:
        return _float32_input_codes(g, x, x_dtype, grid, shift)
    bounds = _input_bounds(grid, x_dtype, dtype)
    if bounds is not None:
        # Codes are monotone in x: clipping x to inputs of codes q_min and q_max changes none and
        # leaves nothing to clip after rounding; done in the input's type, before any cast up.
        low, high = (g.constant(f"input_{k}", v) for k, v in zip(("low", "high"), bounds))
        x = g.node("Clip", [x, low, high], "input_clip")
    u = cast(g, x, x_dtype, dtype, "input_cast")
    # quantize_codes in the training dtype, then into uint8.
    u = grid_codes(g, u, grid, "input", dtype, clip=bounds is None)
    if shift:
        u = g.node("Add", [u, g.constant("input_u8", np.asarray(shift, dtype))], "input_u8")
    return g.node("Cast", [u], "input_codes", to=onnx_type(np.uint8))


def integer_layers(g: GraphBuilder, network: FrozenNetwork, codes: str, first: tuple | None = None):
    """Nodes from uint8 input codes to the logits, as :func:`build_integer_network` returns them.

    ``first``: ``(layer, grid, extra)`` in place of the first layer and its
    input grid (a folded pipeline's numeric columns of them), with int32
    accumulators ``extra`` added to the first layer's. Call
    :func:`check_integer` first.
    """
    grids = network.grids()
    # Of the whole last layer: a first layer that is also the last sums extra within that bound.
    float32_exact = _float32_exact(network.layers[-1], grids[-1])
    layers, extra = list(network.layers), None
    if first is not None:
        layers[0], grids[0], extra = first
    *hidden, last = layers
    for i, layer in enumerate(hidden):
        step = extra if i == 0 else None
        codes = _hidden_layer(g, codes, grids[i], layer, grids[i + 1], network.activation, f"layer{i}", step)
    return _last_layer(
        g, codes, grids[-1], last, f"layer{len(hidden)}", float32_exact, extra if not hidden else None
    )


def build_integer_network(g: GraphBuilder, network: FrozenNetwork, x: str, x_dtype):
    """Nodes from the input ``x`` (of float type ``x_dtype``) to the logits.

    Returns
    -------
    name : str
    dtype : numpy dtype
        int32, or float32 where every logit is below ``2**24`` in magnitude
        and so exact in float32 (which the heads read faster).

    Raises
    ------
    ValueError
        If a grid is wider than 8 bits, or an accumulator could overflow int32.
    """
    check_integer(network)
    grid = network.input_grid
    assert grid is not None, "an integer network has an input grid"
    return integer_layers(g, network, input_codes(g, grid, network.dtype, x, x_dtype))
