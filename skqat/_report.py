"""The per-tensor quantization report of a fitted network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ._functional import grid_limits, integer_codes
from ._quantizers import Quantizer

__all__ = ["quantization_report"]

_PARAM_BYTES = 4  # each scale and zero point is stored as a 32-bit value


def _as_cell(values: np.ndarray):
    """A float for per-tensor values, the array for per-channel ones."""
    values = values.ravel()
    return values.item() if values.size == 1 else values


def _grid_cells(quantizer: Quantizer) -> tuple:
    scale = quantizer.effective_scale().cpu().numpy()
    zero_point = quantizer.effective_zero_point()
    zero = (
        np.zeros_like(scale, dtype=np.int64)
        if zero_point is None
        else zero_point.cpu().numpy().astype(np.int64)
    )
    n_params = scale.size * (1 if zero_point is None else 2)
    return _as_cell(scale), _as_cell(zero), n_params


def _row(
    layer,
    tensor,
    shape,
    bits,
    scale=np.nan,
    zero_point=0,
    levels_used=np.nan,
    nbytes=None,
    stored=True,
    sparsity=np.nan,
) -> dict:
    size = int(np.prod(shape))
    return {
        "layer": layer,
        "tensor": tensor,
        "shape": tuple(shape),
        "bits": bits,
        "scale": scale,
        "zero_point": zero_point,
        "levels_used": levels_used,
        "sparsity": sparsity,
        "bytes": 4 * size if nbytes is None else nbytes,
        "float32_bytes": 4 * size if stored else 0,
    }


def _weight_row(index, layer, coef: np.ndarray) -> dict:
    sparsity = float(np.mean(coef == 0))
    quantizer = layer.weight_quantizer
    if quantizer is None:
        return _row(index, "weight", coef.shape, 32, levels_used=len(np.unique(coef)), sparsity=sparsity)
    scale, zero, n_params = _grid_cells(quantizer)
    values = torch.as_tensor(coef.T, device=layer.weight.device)
    codes = quantizer.codes(values).cpu().numpy()
    packed = int(np.ceil(coef.size * quantizer.bits / 8))
    return _row(
        index,
        "weight",
        coef.shape,
        quantizer.bits,
        scale,
        zero,
        len(np.unique(codes)),
        packed + _PARAM_BYTES * n_params,
        sparsity=sparsity,
    )


def _bias_row(index, layer, intercept: np.ndarray, input_quantizer) -> dict:
    if layer.bias_bits is None or layer.weight_quantizer is None:
        return _row(index, "bias", intercept.shape, 32)
    input_scale = None if input_quantizer is None else input_quantizer.effective_scale()
    scale = layer.bias_scale(input_scale)
    qmin, qmax = grid_limits(layer.bias_bits, True)
    codes = integer_codes(torch.as_tensor(intercept, device=scale.device), scale, None, qmin, qmax)
    return _row(
        index,
        "bias",
        intercept.shape,
        layer.bias_bits,
        _as_cell(scale.cpu().numpy()),
        0,
        len(np.unique(codes.cpu().numpy())),
        int(np.ceil(intercept.size * layer.bias_bits / 8)),
    )


def _grid_row(index, tensor, quantizer, width) -> dict:
    scale, zero, n_params = _grid_cells(quantizer)
    return _row(
        index, tensor, (width,), quantizer.bits, scale, zero, nbytes=_PARAM_BYTES * n_params, stored=False
    )


def quantization_report(module, coefs, intercepts) -> pd.DataFrame:
    """Build the report documented in ``BaseQuantizedMLP.quantization_report``."""
    rows = []
    if module.input_quantizer is not None:
        rows.append(_grid_row(0, "input", module.input_quantizer, module.layers[0].in_features))
    input_quantizer = module.input_quantizer
    for index, layer in enumerate(module.layers):
        rows.append(_weight_row(index, layer, coefs[index]))
        rows.append(_bias_row(index, layer, intercepts[index], input_quantizer))
        input_quantizer = None
        if index < len(module.activation_quantizers):
            quantizer = module.activation_quantizers[index]
            if isinstance(quantizer, Quantizer):
                rows.append(_grid_row(index, "activation", quantizer, layer.out_features))
                input_quantizer = quantizer
    report = pd.DataFrame(rows)
    stored = report["float32_bytes"] > 0
    report["compression"] = (report["float32_bytes"] / report["bytes"]).where(stored)
    return report
