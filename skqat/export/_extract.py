"""Read a fitted estimator's network into an :class:`~skqat.export.IntegerMLP` (uses torch)."""

from __future__ import annotations

import numpy as np
import torch

from .._functional import grid_limits, integer_codes
from .._quantizers import Quantizer
from ._integer import Grid, IntegerLayer, IntegerMLP, smallest_int_dtype

__all__ = ["export_integer"]


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _grid(quantizer: Quantizer | None) -> Grid | None:
    if not isinstance(quantizer, Quantizer):
        return None
    scale = _numpy(quantizer.effective_scale()).astype(np.float32).reshape(())
    zero_point = quantizer.effective_zero_point()
    zero = np.zeros((), np.int32) if zero_point is None else _numpy(zero_point).astype(np.int32).reshape(())
    return Grid(quantizer.bits, quantizer.qmin, quantizer.qmax, scale, zero)


def _layer(layer, weight: torch.Tensor, bias: torch.Tensor, input_scale) -> IntegerLayer:
    quantizer = layer.weight_quantizer
    if quantizer is None:
        raise ValueError(
            "export_integer needs quantized weights in every layer; this model has a float layer "
            "(weight_bits=None somewhere). Refit with integer weight_bits."
        )
    scale: np.ndarray = _numpy(quantizer.effective_scale()).astype(np.float32).reshape(-1)
    zero_point = quantizer.effective_zero_point()
    zero: np.ndarray = (
        np.zeros_like(scale, np.int32)
        if zero_point is None
        else _numpy(zero_point).astype(np.int32).reshape(-1)
    )
    if scale.size == 1:
        scale, zero = scale.reshape(()), zero.reshape(())
    # Codes of the weights inference uses (pruned weights are zeros, on the grid).
    codes = _numpy(quantizer.codes(weight)).astype(np.int64)
    codes = codes.astype(smallest_int_dtype(quantizer.qmin, quantizer.qmax))
    if input_scale is None:
        bias_out = _numpy(bias).astype(np.float32)
    else:
        product = torch.as_tensor(scale, dtype=bias.dtype).reshape(-1) * float(input_scale)
        qmin, qmax = grid_limits(32, True)
        bias_out = _numpy(integer_codes(bias, product.expand_as(bias), None, qmin, qmax)).astype(np.int32)
    return IntegerLayer(codes, quantizer.bits, quantizer.qmin, quantizer.qmax, scale, zero, bias_out)


def export_integer(estimator) -> IntegerMLP:
    """Build the integer model of a fitted skqat estimator (see ``export_integer`` on the estimators)."""
    module = estimator._module
    params = module.dequantized_parameters()
    grids = [_grid(q) for q in module.activation_quantizers]
    input_grid = _grid(module.input_quantizer)
    input_scales = [None if input_grid is None else float(input_grid.scale)]
    input_scales += [None if g is None else float(g.scale) for g in grids]
    layers = [
        _layer(layer, weight, bias, scale)
        for layer, (weight, bias), scale in zip(module.layers, params, input_scales)
    ]
    is_classifier = hasattr(estimator, "classes_")
    multilabel = is_classifier and estimator._label_binarizer.y_type_.startswith("multilabel")
    feature_names = getattr(estimator, "feature_names_in_", None)
    return IntegerMLP(
        layers,
        module.activation,
        estimator.out_activation_,
        input_grid=input_grid,
        activation_grids=grids,
        classes=estimator.classes_ if is_classifier else None,
        multilabel=multilabel,
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
    )
