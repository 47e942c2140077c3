"""Freeze a trained ``QuantMLP`` into a :class:`~skqat._frozen.FrozenNetwork` (the one torch reader).

Called at the end of ``fit`` and ``partial_fit``. Everything a reader of the
fitted model needs is computed here once: codes, scales, zero points (ONNX
convention), the int32 biases on ``s_in * s_w``, the calibrated grids of an
integer deployment, and the requantization multipliers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ._activations import get_activation
from ._fixed_point import INT32_MAX, INT32_MIN, quantize_multiplier
from ._frozen import (
    CALIBRATED_BITS,
    FrozenGrid,
    FrozenLayer,
    FrozenNetwork,
    Requantization,
    accumulator_scale,
    quantize_codes,
)
from ._functional import grid_limits
from ._input_widths import InputWidthsQuantizer
from ._quantizers import Quantizer, grid_for_range

__all__ = ["calibrated_grid", "freeze", "FINE_STEPS"]

#: Fine pre-activation steps per output step for table activations.
FINE_STEPS = 256


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _quantizer_grid(quantizer: Quantizer, per_channel: bool, axis: int = 0) -> FrozenGrid:
    """A trained quantizer's grid; a per-feature input grid (``axis=-1``) keeps its shape for one feature."""
    scale = _numpy(quantizer.effective_scale())
    keep = per_channel and (scale.size > 1 or axis != 0)
    scale = scale.reshape(-1) if keep else scale.reshape(())
    zero = quantizer.effective_zero_point()
    zero_point = (
        np.zeros(scale.shape, np.int32)
        if zero is None
        else _numpy(zero).astype(np.int32).reshape(scale.shape)
    )
    window = None
    if isinstance(quantizer, InputWidthsQuantizer) and quantizer.allocated:
        window = tuple(_numpy(w).reshape(-1).astype(np.int32) for w in quantizer.window())
    return FrozenGrid(
        quantizer.bits,
        quantizer.qmin,
        quantizer.qmax,
        scale,
        zero_point,
        symmetric=zero is None,
        axis=axis,
        window=window,
    )


def calibrated_grid(low: float, high: float, dtype) -> FrozenGrid:
    """The 8-bit asymmetric grid spanning ``[min(low, 0), max(high, 0)]`` (min-max calibration)."""
    qmin, qmax = grid_limits(CALIBRATED_BITS, False)
    torch_dtype = torch.from_numpy(np.zeros(0, dtype)).dtype
    bottom = torch.tensor(min(float(low), 0.0), dtype=torch_dtype)
    top = torch.tensor(max(float(high), 0.0), dtype=torch_dtype)
    # The min-max rule of the quantizers' own grids (an empty range gets a unit one, as MinMaxQuantizer).
    scale, zero_point = grid_for_range(bottom, top, 1.0, qmin, qmax)
    if not top > bottom:
        scale, zero_point = torch.tensor(1.0 / qmax, dtype=torch_dtype), torch.zeros((), dtype=torch_dtype)
    return FrozenGrid(
        CALIBRATED_BITS,
        qmin,
        qmax,
        _numpy(scale).astype(dtype),
        _numpy(zero_point.clamp(qmin, qmax)).astype(np.int32),
        symmetric=False,
        calibrated=True,
    )


@torch.no_grad()
def _activation_ranges(module, X: torch.Tensor) -> list[tuple[float, float]]:
    """``(min, max)`` of each hidden layer's activated output over ``X``, as inference computes it."""
    was_training = module.training
    module.eval()
    x = X if module.input_quantizer is None else module.input_quantizer(X)
    scales = module.input_scales()
    ranges = []
    *hidden, _ = module.layers
    for i, layer in enumerate(hidden):
        x = module._activation_fn(layer(x, scales[i] if layer.bias_bits else None, True))
        ranges.append((float(x.min()), float(x.max())) if x.numel() else (0.0, 1.0))
        quantizer = module.activation_quantizers[i]
        if isinstance(quantizer, Quantizer):
            x = quantizer(x)
    module.train(was_training)
    return ranges


def _bias_codes(bias: np.ndarray, product: np.ndarray) -> np.ndarray:
    """``round(b / (s_in * s_w))`` as int32 (saturating)."""
    return np.clip(np.round(bias.astype(np.float64) / product), INT32_MIN, INT32_MAX).astype(np.int32)


def _requantization(product: np.ndarray, out_scale: float, thresholds=None) -> Requantization:
    pairs = [quantize_multiplier(float(m)) for m in product / out_scale]
    # onnxruntime's kernels form their multiplier in float32 as (s_in * s_w) / s_out.
    float32 = (product.astype(np.float32) / np.float32(out_scale)).astype(np.float32)
    return Requantization(
        fixed_multiplier=np.array([p[0] for p in pairs], np.int32),
        shift=np.array([p[1] for p in pairs], np.int32),
        float32_multiplier=float32.reshape(-1),
        thresholds=thresholds,
    )


def _thresholds(activation: str, grid: FrozenGrid, fine_scale: float) -> np.ndarray:
    """Fine pre-activation values where the activation's output code steps up, one per code above ``q_min``.

    Code ``q`` is reached where ``act(y) / s + zp >= q - 1/2``; on the fine
    grid that is ``y_fine >= ceil(act^-1((q - 1/2 - zp) * s) / fine_scale)``.
    Steps the activation never reaches are ``INT32_MAX``; steps below its
    range are ``INT32_MIN + 1``.
    """
    table = get_activation(activation)
    assert table.inverse is not None and table.output_range is not None, "a table activation"
    low, high = table.output_range
    boundaries = (np.arange(grid.qmin + 1, grid.qmax + 1) - 0.5 - int(grid.zero_point)) * float(grid.scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        pre = table.inverse(np.clip(boundaries, low, high))
    fine = np.ceil(pre / fine_scale)
    fine = np.where(boundaries <= low, -np.inf, np.where(boundaries >= high, np.inf, fine))
    return np.clip(fine, INT32_MIN + 1, INT32_MAX).astype(np.int32)


def _deployable_layers(layers, grids, activation) -> tuple[list, float | None]:
    """Layers with int32 biases and requantization, and the logit scale."""
    out = []
    *hidden, last = layers
    for i, layer in enumerate(layers):
        product = accumulator_scale(layer.weight_grid, grids[i]).reshape(-1)
        product = np.broadcast_to(product, (layer.weight.shape[0],)).copy()
        requant = None
        if i < len(hidden):
            grid = grids[i + 1]
            if get_activation(activation).integer == "table":
                fine_scale = float(grid.scale) / FINE_STEPS
                requant = _requantization(product, fine_scale, _thresholds(activation, grid, fine_scale))
            else:
                requant = _requantization(product, float(grid.scale))
            logit_scale = None
        elif layer.weight_grid.per_channel:
            # One scale for every logit, so argmax and thresholds compare like with like.
            logit_scale = float(product.max())
            requant = _requantization(product, logit_scale)
        else:
            logit_scale = float(product[0])
        out.append(
            dataclasses.replace(layer, bias_codes=_bias_codes(layer.bias, product), requantization=requant)
        )
    return out, logit_scale


def freeze(module, coefs, intercepts, head, *, input_range=None, calibration=None) -> FrozenNetwork:
    """The frozen record of a fitted ``QuantMLP``.

    Parameters
    ----------
    module : QuantMLP
        In evaluation mode.
    coefs, intercepts : list of ndarray
        The estimator's ``coefs_`` and ``intercepts_`` (what the module's
        inference pass uses).
    head : LabelHead
        What the outputs mean (:mod:`skqat._head`): the estimator's output
        kind, classes and feature names.
    input_range : (float, float) or None
        Range of the training features, for the calibrated input grid of a
        model trained without ``input_bits``.
    calibration : torch.Tensor or None
        Training rows whose hidden activations calibrate the grids of a model
        trained without ``activation_bits``.
    """
    dtype = coefs[0].dtype
    per_channel = [len(getattr(layer.weight_quantizer, "param_shape", ())) > 0 for layer in module.layers]
    input_grid = None
    if isinstance(module.input_quantizer, Quantizer):
        folded = module.folds_input
        input_grid = _quantizer_grid(module.input_quantizer, folded, axis=-1 if folded else 0)
    layers = []
    for i, (layer, coef, intercept, channel) in enumerate(zip(module.layers, coefs, intercepts, per_channel)):
        weight = np.ascontiguousarray(coef.T)
        quantizer = layer.weight_quantizer
        grid = codes = None
        if quantizer is not None:
            grid = _quantizer_grid(quantizer, channel)
            on_grid = weight
            if i == 0 and input_grid is not None and input_grid.per_feature:
                # The folded layer's codes multiply the input codes (QuantLinear.fold_input_scales):
                # its weight on the dequantized input is q(V g) / s, so times s it is on its grid.
                on_grid = weight * input_grid.scale
            codes = quantize_codes(on_grid, grid)
        layers.append(FrozenLayer(weight, np.asarray(intercept), grid, codes, None, layer.bias_bits))
    grids = [
        _quantizer_grid(q, False) if isinstance(q, Quantizer) else None for q in module.activation_quantizers
    ]
    integer = all(layer.weight_grid is not None for layer in layers)
    logit_scale = None
    if integer:
        if input_grid is None and input_range is not None:
            input_grid = calibrated_grid(input_range[0], input_range[1], dtype)
        if any(g is None for g in grids) and calibration is not None:
            ranges = _activation_ranges(module, calibration)
            grids = [
                g if g is not None else calibrated_grid(r[0], r[1], dtype) for g, r in zip(grids, ranges)
            ]
        if input_grid is not None and all(g is not None for g in grids):
            layers, logit_scale = _deployable_layers(layers, [input_grid, *grids], module.activation)
    return FrozenNetwork(
        tuple(layers),
        module.activation,
        head,
        input_grid,
        tuple(grids),
        logit_scale,
    )
