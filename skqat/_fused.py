"""Fused fake-quantize kernels for contiguous CPU tensors, when the C extension is built.

:func:`skqat._functional.fake_quantize_forward` and
:func:`~skqat._functional.fake_quantize_backward` cost about a dozen torch
kernels each; on the small tensors skqat trains, their dispatch, not the
arithmetic, is the cost. The extension ``skqat._fused_quant`` (built from
``skqat/_fused_quant.c`` at install time, no torch headers) does each
direction in one pass. This module checks what the kernels accept and calls
them; :mod:`skqat._functional` falls back to torch kernels for anything else
(other devices or dtypes, other scale shapes) and wherever the extension did
not build.

The forward pass gives the same values as the torch kernels (the same
operations in the same precision; only a zero's sign may differ); the scale
and zero-point gradients are summed in another order (each span in the
values' precision, the spans in double), so they agree with the torch
kernels' to rounding.
"""

from __future__ import annotations

import os

import torch

try:
    from . import _fused_quant as _kernels
except ImportError:  # no C compiler at install time: the torch kernels serve
    _kernels = None

__all__ = ["available", "enabled", "threads", "handles_scale", "scales", "layout", "forward", "backward"]

#: Whether the C extension is importable.
available = _kernels is not None

#: Switch for tests and benchmarks: False sends every call to the torch kernels.
enabled = available


def _shares_torch_threads() -> bool:
    """Whether the kernels' OpenMP runtime is the one torch ships and uses.

    Then their threads are torch's: one pool, and ``torch.set_num_threads``
    (which skqat lowers under ``n_jobs`` and Dask) bounds both. torch's Linux
    wheels carry ``torch/lib/libgomp.so.1`` and the extension links that
    name, so the loader gives it torch's copy. Any other runtime would bring
    a second pool of spinning threads, so the kernels then keep to the
    calling thread.
    """
    runtime = _kernels.openmp_runtime() if _kernels is not None else None
    if runtime is None:
        return False
    torch_dir = os.path.realpath(os.path.dirname(torch.__file__))
    return os.path.realpath(runtime).startswith(torch_dir + os.sep)


#: Whether large tensors are split over torch's OpenMP threads, as many as
#: ``torch.get_num_threads()`` (results do not depend on it: the kernels sum
#: in a fixed order).
threads = _shares_torch_threads()

_FLOAT_DTYPES = (torch.float32, torch.float64)
_MAX_CODE = 2**21

# backward's ``ste`` codes: which values pass their gradient to x.
_STE_ALL, _STE_CLIPPED, _STE_RELU = 0, 1, 2
# backward's ``scale_rule`` codes.
_NO_PARAMETER_GRADIENTS, _LSQ, _PACT = 0, 1, 2
# The kernels' per_row value for one grid per column (PER_COLUMN in _fused_quant.c).
_PER_COLUMN = 2


def handles_scale(log_scale: torch.Tensor) -> bool:
    """Whether :func:`scales` (and so the kernels) compute the step sizes for ``log_scale``."""
    return (
        enabled
        and log_scale.device.type == "cpu"
        and log_scale.dtype in _FLOAT_DTYPES
        and log_scale.is_contiguous()
    )


def scales(log_scale: torch.Tensor) -> torch.Tensor:
    """``max(exp(log_scale), MIN_SCALE)`` as the kernels compute it (libm's ``exp``).

    torch's ``exp`` differs from libm's in the last bit for about one value
    in a hundred; wherever the kernels quantize, every other user of the
    scale (inference, export) takes it from here, so all agree to the bit.
    ``log_scale`` must pass :func:`handles_scale`.
    """
    out = torch.empty(log_scale.shape, dtype=log_scale.dtype)
    _kernels.scales(log_scale.dtype == torch.float64, log_scale.data_ptr(), out.data_ptr(), out.numel())
    return out


def layout(
    x: torch.Tensor, log_scale: torch.Tensor, zero_point: torch.Tensor | None, qmin: int, qmax: int
) -> tuple | None:
    """How the kernels see ``x`` on this grid, or None where they do not apply.

    They need contiguous CPU float32 or float64 tensors of one dtype, a scale
    per tensor, per row of a matrix (per-channel weights) or per column of a
    batch (per-feature input grids), and codes within ``+-2**21`` (their
    rounding is exact there in float32).

    Returns
    -------
    tuple ``(is_double, rows, cols, per_row)`` or None
        ``per_row`` is 0 (a per-tensor grid sees all values as one row), 1
        (per row) or 2 (per column).
    """
    if not enabled or x.device.type != "cpu" or not x.is_contiguous() or x.dtype not in _FLOAT_DTYPES:
        return None
    if qmin < -_MAX_CODE or qmax > _MAX_CODE:
        return None
    if log_scale.dtype != x.dtype or not log_scale.is_contiguous():
        return None
    if zero_point is not None and (
        zero_point.dtype != x.dtype or zero_point.shape != log_scale.shape or not zero_point.is_contiguous()
    ):
        return None
    is_double = x.dtype == torch.float64
    if log_scale.dim() == 0:
        return is_double, 1, x.numel(), 0
    if x.dim() == 2 and log_scale.shape == (x.shape[0], 1):
        return is_double, x.shape[0], x.shape[1], 1
    if x.dim() == 2 and log_scale.shape == (1, x.shape[1]):
        return is_double, x.shape[0], x.shape[1], _PER_COLUMN
    return None


def _address(t: torch.Tensor | None) -> int:
    """The data pointer the kernels take; 0 for an absent tensor."""
    return 0 if t is None else t.data_ptr()


def _thread_count() -> int:
    """How many threads a large tensor may use: torch's setting, when the runtime is shared."""
    return torch.get_num_threads() if threads else 1


def forward(
    x: torch.Tensor,
    log_scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    plan: tuple,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``s * (clamp(round(x / s + zp), q_min, q_max) - zp)`` in one pass; ``zp`` rounded and clamped.

    ``plan`` is :func:`layout`'s answer for these tensors. The kernel
    computes ``s`` from ``log_scale`` as :func:`scales` does and rounds
    ``zero_point`` (the raw parameter), keeping it within ``[q_min, q_max]``.
    The result is written into ``out`` when it is a contiguous tensor of
    ``x``'s shape and dtype, else into a new tensor.
    """
    if out is None or out.shape != x.shape or out.dtype != x.dtype or not out.is_contiguous():
        out = torch.empty_like(x)
    is_double, rows, cols, per_row = plan
    _kernels.forward(
        is_double,
        x.data_ptr(),
        out.data_ptr(),
        rows,
        cols,
        log_scale.data_ptr(),
        per_row,
        _address(zero_point),
        qmin,
        qmax,
        _thread_count(),
    )
    return out


def backward(
    grad_out: torch.Tensor,
    x: torch.Tensor,
    log_scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    plan: tuple,
    qmin: int,
    qmax: int,
    grad_scale: float,
    clipped: bool,
    pact: bool,
    relu: bool,
    param_grads: bool,
    overwrite_grad: bool = False,
):
    """Gradients of :func:`forward` for ``x``, ``log_scale`` and ``zero_point`` in one pass.

    The rules are :func:`skqat._functional.fake_quantize_backward`'s: the
    clipped or identity straight-through estimator for ``x`` (with ``relu``
    fused, values at or below zero get none), LSQ's or PACT's scale gradient
    times ``grad_scale``, and ``s`` outside the range for the zero point.
    With ``overwrite_grad``, the gradient for ``x`` is written over
    ``grad_out`` (when contiguous), which saves an allocation and stays in
    cache; only callers that own ``grad_out`` may ask for it.

    Returns
    -------
    grad_x, grad_log_scale, grad_zero_point : torch.Tensor or None
    """
    if not grad_out.is_contiguous():
        grad_out, overwrite_grad = grad_out.contiguous(), True  # a copy of our own
    if clipped:
        ste = _STE_CLIPPED
    elif relu:
        ste = _STE_RELU
    else:
        ste = _STE_ALL
    grad_x = grad_out if overwrite_grad else torch.empty_like(grad_out)
    grad_log_scale = grad_zero = None
    scale_rule = _NO_PARAMETER_GRADIENTS
    if param_grads:
        scale_rule = _PACT if pact else _LSQ
        grad_log_scale = torch.empty_like(log_scale)
        if zero_point is not None:
            grad_zero = torch.empty_like(log_scale)
    is_double, rows, cols, per_row = plan
    _kernels.backward(
        is_double,
        grad_out.data_ptr(),
        x.data_ptr(),
        grad_x.data_ptr(),
        rows,
        cols,
        log_scale.data_ptr(),
        per_row,
        _address(zero_point),
        qmin,
        qmax,
        0.0 if relu else qmin - 0.5,
        qmax + 0.5,
        ste,
        scale_rule,
        grad_scale,
        _address(grad_log_scale),
        _address(grad_zero),
        _thread_count(),
    )
    return grad_x, grad_log_scale, grad_zero
