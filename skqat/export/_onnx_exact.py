"""The integer model in float64 operators: the default ONNX graph of a model whose ``predict`` is integer.

A model trained integer-only predicts with the integer model
(:class:`~skqat._integer_inference.IntegerPlan`, TFLite's fixed-point
requantization). onnxruntime's integer kernels requantize in float32
instead (the ``integer_ops=True`` graph), so this graph restates the
fixed-point arithmetic with standard float64 operators, exactly:

- input levels ``q - zp``: :func:`~skqat.export._onnx_graph.grid_codes` in
  the training dtype, as ``predict`` computes them (learned input widths'
  windows included), then cast to float64;
- each layer: ``MatMul`` of the levels by the weight levels and ``Add`` of
  the int32 bias codes, all float64 holding integers below ``2**53`` (the
  plan's accumulator bound), so exact in any summation order;
- TFLite's ``MultiplyByQuantizedMultiplier`` on those integers. The product
  ``acc * M0`` reaches ``2**62``, beyond float64's integers, so ``M0`` is
  split as ``M_hi * 2**16 + M_lo`` (``M_hi < 2**15``) and, with every
  product below ``2**47``,

  ``floor((acc * M0 + 2**30) / 2**31)
  = floor((acc * M_hi + floor((acc * M_lo + 2**30) / 2**16)) / 2**15)``

  (nested floor division); then ``RoundingDivideByPOT`` as
  ``floor((h + 2**(r-1) - (h < 0)) / 2**r)``, and a left shift as a
  multiplication by ``2**left`` (saturated to int32 where the bound says an
  accumulator could leave it). Multiplying by a power of two and ``Floor``
  are exact;
- relu and identity hidden layers clamp the levels; tanh and logistic count
  the thresholds at or below the fine value (a binary search);
- the logits, integer-valued float64, clamped to int32.

Labels come from those logits and probabilities from
``logits * logit_scale`` in float64, as the estimator's ``predict``.
"""

from __future__ import annotations

import numpy as np

from .._fixed_point import INT32_MAX, INT32_MIN, FixedPointMultiplier
from .._frozen import FrozenGrid, FrozenNetwork, smallest_int_dtype
from .._integer_inference import IntegerPlan
from ._onnx_graph import GraphBuilder, cast, count_at_most, grid_codes, onnx_type

__all__ = [
    "accumulate",
    "build_exact_network",
    "exact_layers",
    "exact_plan",
    "input_levels",
    "stored_integers",
]

_F64 = np.dtype(np.float64)


def _f64(g: GraphBuilder, hint: str, value) -> str:
    return g.constant(hint, np.asarray(value, np.float64))


def stored_integers(g: GraphBuilder, values: np.ndarray, hint: str, dtype=_F64) -> str:
    """Integer-valued ``values`` in the smallest integer type, cast to ``dtype`` (onnxruntime folds it)."""
    values = np.asarray(values)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    stored = g.constant(f"{hint}_int", values.astype(smallest_int_dtype(low, high)))
    return g.node("Cast", [stored], hint, to=onnx_type(dtype))


def _fixed_point(g: GraphBuilder, acc: str, multiplier: FixedPointMultiplier, hint: str) -> str:
    """``multiplier(acc)`` on integer-valued float64 (module docstring)."""
    m0 = np.asarray(multiplier.fixed_multiplier, np.int64)
    shift = np.asarray(multiplier.shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    if multiplier.saturates:
        shifted = g.node("Mul", [acc, _f64(g, f"{hint}_pow", 2.0**left)], f"{hint}_shl")
        high = g.node("Greater", [acc, _f64(g, f"{hint}_sat_hi", INT32_MAX >> left)], f"{hint}_above")
        low = g.node("Less", [acc, _f64(g, f"{hint}_sat_lo", INT32_MIN >> left)], f"{hint}_below")
        floor = g.node("Where", [low, _f64(g, f"{hint}_min", INT32_MIN), shifted], f"{hint}_sat_low")
        acc = g.node("Where", [high, _f64(g, f"{hint}_max", INT32_MAX), floor], f"{hint}_sat")
    elif np.any(left):
        acc = g.node("Mul", [acc, _f64(g, f"{hint}_pow", 2.0**left)], f"{hint}_shl")
    low_part = g.node("Mul", [acc, _f64(g, f"{hint}_mlo", m0 & 0xFFFF)], f"{hint}_alo")
    low_part = g.node("Add", [low_part, _f64(g, f"{hint}_nudge", 2.0**30)], f"{hint}_nudged")
    carry = g.node(
        "Floor", [g.node("Mul", [low_part, _f64(g, f"{hint}_2m16", 2.0**-16)], f"{hint}_c")], f"{hint}_fc"
    )
    high_part = g.node("Mul", [acc, _f64(g, f"{hint}_mhi", m0 >> 16)], f"{hint}_ahi")
    summed = g.node("Add", [high_part, carry], f"{hint}_sum")
    h = g.node(
        "Floor", [g.node("Mul", [summed, _f64(g, f"{hint}_2m15", 2.0**-15)], f"{hint}_h")], f"{hint}_srdhm"
    )
    if not np.any(right):
        return h
    negative = g.node(
        "Cast",
        [g.node("Less", [h, _f64(g, f"{hint}_zero", 0.0)], f"{hint}_lt")],
        f"{hint}_neg",
        to=onnx_type(_F64),
    )
    if not np.all(right > 0):
        negative = g.node("Mul", [negative, _f64(g, f"{hint}_rounds", right > 0)], f"{hint}_negr")
    half = (np.int64(1) << right) >> 1
    h = g.node(
        "Sub", [g.node("Add", [h, _f64(g, f"{hint}_half", half)], f"{hint}_plus"), negative], f"{hint}_rd"
    )
    scaled = g.node("Mul", [h, _f64(g, f"{hint}_pot", 2.0 ** (-right.astype(np.float64)))], f"{hint}_div")
    return g.node("Floor", [scaled], f"{hint}_rdbpot")


def exact_plan(network: FrozenNetwork) -> IntegerPlan:
    """The network's fixed-point plan, checked to hold every accumulator exactly in float64."""
    plan = IntegerPlan(network)
    if any(layer.bound > 2**53 for layer in plan.layers):
        raise ValueError(
            "An accumulator of this network could exceed 2**53, which float64 operators do not hold "
            "exactly; export it with integer_ops=True or compute it with export_integer()."
        )
    return plan


def input_levels(g: GraphBuilder, grid: FrozenGrid, dtype, x: str, x_dtype) -> str:
    """Input levels ``q - zp`` in float64 of ``x`` (of ``x_dtype``) on ``grid``, computed in ``dtype``."""
    levels = grid_codes(g, cast(g, x, x_dtype, dtype, "input_cast"), grid, "input", dtype)
    if grid.nonzero_zero_point:
        levels = g.node(
            "Sub", [levels, g.constant("input_zp", np.asarray(grid.zero_point, dtype))], "input_lv"
        )
    return cast(g, levels, dtype, _F64, "input_levels")


def accumulate(
    g: GraphBuilder,
    levels: str | None,
    weights: np.ndarray,
    bias: np.ndarray,
    hint: str,
    extra: str | None = None,
) -> str:
    """``levels @ weights + (bias + extra)`` in float64, integers all (no ``MatMul`` for ``levels`` None).

    ``extra``: float64 accumulators added to the bias (a folded pipeline's gathered rows).
    """
    product = None
    if levels is not None:
        product = g.node("MatMul", [levels, stored_integers(g, weights, f"{hint}_w")], f"{hint}_mm")
    acc = stored_integers(g, bias, f"{hint}_bias")
    if extra is not None:
        acc = g.node("Add", [acc, extra], f"{hint}_rows")
    return acc if product is None else g.node("Add", [product, acc], f"{hint}_acc")


def exact_layers(g: GraphBuilder, plan: IntegerPlan, acc: str) -> tuple[str, np.dtype]:
    """Nodes from the first layer's float64 accumulators ``acc`` to the logits: ``(name, float64)``."""
    n_hidden = len(plan.layers) - 1
    levels = None
    for i, layer in enumerate(plan.layers):
        hint = f"layer{i}"
        if i:
            assert levels is not None, "a hidden layer's output levels"
            acc = accumulate(g, levels, layer.weights, layer.bias, hint)
        if layer.requantize is not None:
            assert isinstance(layer.requantize, FixedPointMultiplier), "the fixed-point plan"
            acc = _fixed_point(g, acc, layer.requantize, hint)
        if i == n_hidden:
            bounds = [_f64(g, f"{hint}_{k}", v) for k, v in (("min", INT32_MIN), ("max", INT32_MAX))]
            return g.node("Clip", [acc, *bounds], "logits_exact"), _F64
        if layer.thresholds is None:
            bounds = [_f64(g, f"{hint}_lo", layer.low), _f64(g, f"{hint}_hi", layer.high)]
            levels = g.node("Clip", [acc, *bounds], f"{hint}_levels")
            continue
        bounds = [_f64(g, f"{hint}_{k}", v) for k, v in (("cmin", INT32_MIN + 1), ("cmax", INT32_MAX - 1))]
        y = g.node("Clip", [acc, *bounds], f"{hint}_y")
        count = count_at_most(g, y, np.asarray(layer.thresholds, np.float64), hint)
        count = g.node("Cast", [count], f"{hint}_count", to=onnx_type(_F64))
        levels = g.node("Add", [count, _f64(g, f"{hint}_base", layer.next_qmin_level)], f"{hint}_levels")
    raise AssertionError("a network has a last layer")


def build_exact_network(g: GraphBuilder, network: FrozenNetwork, x: str, x_dtype) -> tuple[str, np.dtype]:
    """Nodes from the input ``x`` (of ``x_dtype``) to the integer logits in float64: ``(name, float64)``."""
    plan = exact_plan(network)
    grid = network.input_grid
    assert grid is not None, "an integer network has an input grid"
    levels = input_levels(g, grid, network.dtype, x, x_dtype)
    first = plan.layers[0]
    return exact_layers(g, plan, accumulate(g, levels, first.weights, first.bias, "layer0"))
