"""Pure torch functions for uniform fake quantization.

Notation follows the design page of the documentation (``docs/design.rst``)
and the grid convention :mod:`skqat._frozen` writes down for every reader: for
a scale ``s > 0`` and an integer zero point ``zp``

.. math::

    q(x) = \\operatorname{clamp}(\\operatorname{round}(x \\cdot (1/s) + zp), q_{min}, q_{max}),
    \\qquad \\hat x = s \\, (q(x) - zp)

with ``1/s`` rounded once in the tensor's float type and rounding half to
even, in that order of operations, so that ``x = 7.8, s = 2, zp = 0`` gives
``q = 4`` and ``x_hat = 8``. Symmetric quantizers have ``zp = 0``.

Backward pass (the straight-through estimator, STE): with ``u = x * (1/s) + zp``
and ``inside = q_min <= round(u) <= q_max``

* ``d x_hat / d x = 1`` inside the clipping range and ``0`` outside
  (the *clipped* STE);
* ``d x_hat / d s = round(u) - u`` inside and ``q(x) - zp`` outside (LSQ,
  Esser et al. 2020), multiplied by the LSQ gradient scale
  ``g = 1 / sqrt(N * q_max)``;
* ``d x_hat / d zp = 0`` inside and ``-s`` outside.

The scale is parametrised by its logarithm, ``s = exp(log_s)``, so it is
always positive and an optimizer step changes it by a relative amount: Adam
moves every parameter by about the learning rate per step, which would be a
60% jump for an 8-bit weight scale of 0.0016 stored directly. The gradient
of ``log_s`` is ``s * d x_hat / d s``.

One-bit symmetric quantization is the binary grid ``x_hat = s * sign(x)``
(``sign(0) = +1``): its integer codes are ``-1`` and ``+1`` and
``d x_hat / d s = sign(x)``.

Nothing in this module knows about modules, estimators or scikit-learn.
"""

from __future__ import annotations

import math

import torch

from . import _fused
from ._compat import aten

__all__ = [
    "grid_limits",
    "scale_from_log",
    "fake_quantize",
    "fake_quantize_forward",
    "fake_quantize_backward",
    "integer_codes",
    "lsq_gradient_scale",
]

# How fake_quantize_forward's saved state was made, for the backward pass
# (the fused kernels' state is marked by their layout tuple).
_TORCH, _BINARY = "torch", "binary"

#: Smallest scale the quantizers ever use, so that ``x / s`` stays finite.
MIN_SCALE = 1e-8


def grid_limits(bits: int, signed: bool) -> tuple[int, int]:
    """Return the integer range ``(q_min, q_max)`` of a ``bits``-bit grid.

    Parameters
    ----------
    bits : int
        Bit width, at least 1.
    signed : bool
        ``True`` for the two's complement range ``[-2**(bits-1), 2**(bits-1) - 1]``,
        ``False`` for the unsigned range ``[0, 2**bits - 1]``. A signed one-bit
        grid is the binary grid ``{-1, +1}``.

    Returns
    -------
    qmin, qmax : int
        Inclusive limits of the integer codes.

    Examples
    --------
    >>> grid_limits(4, signed=True)
    (-8, 7)
    >>> grid_limits(4, signed=False)
    (0, 15)
    >>> grid_limits(1, signed=True)
    (-1, 1)
    """
    if bits < 1:
        raise ValueError(f"bits must be at least 1, got {bits}.")
    if signed:
        if bits == 1:
            return -1, 1
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def lsq_gradient_scale(n_elements: int, qmax: int) -> float:
    """LSQ's gradient scale ``1 / sqrt(N * q_max)`` for a step size shared by ``N`` values.

    Parameters
    ----------
    n_elements : int
        Number of values that share one scale (per sample for activations).
    qmax : int
        Largest positive integer code of the grid.

    Returns
    -------
    float
    """
    return 1.0 / math.sqrt(max(n_elements, 1) * max(qmax, 1))


def scale_from_log(log_scale: torch.Tensor) -> torch.Tensor:
    """The step size ``max(exp(log_scale), MIN_SCALE)`` that fake quantization uses.

    The one definition of the scale: the fused kernels (:mod:`skqat._fused`)
    compute ``exp`` with the C library, which differs from torch's in the
    last bit for about one value in a hundred, so wherever they apply,
    inference and export take the scale from them too.

    Parameters
    ----------
    log_scale : torch.Tensor

    Returns
    -------
    torch.Tensor
        Same shape and dtype, without gradient.

    Examples
    --------
    >>> import torch
    >>> scale_from_log(torch.tensor([0.0, -100.0]))
    tensor([1.0000e+00, 1.0000e-08])
    """
    with torch.no_grad():
        if _fused.handles_scale(log_scale):
            return _fused.scales(log_scale)
        return log_scale.exp().clamp_min(MIN_SCALE)


def _sum_like(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum ``t`` over the dimensions a parameter of ``shape`` was broadcast along."""
    if len(shape) == 0:
        return t.sum()
    dims = [d for d, (n, m) in enumerate(zip(t.shape, shape)) if m == 1 and n != 1]
    return t.sum(dim=dims, keepdim=True) if dims else t


def _dot_like(a: torch.Tensor, b: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``sum(a * b)`` reduced like :func:`_sum_like`, in one kernel when per tensor."""
    if len(shape) == 0:
        return torch.dot(a.reshape(-1), b.reshape(-1))
    return _sum_like(a * b, shape)


def fake_quantize_forward(x, log_scale, zero_point, qmin, qmax, relu=False, out=None):
    """Forward pass of :func:`fake_quantize`; also returns what the backward pass needs.

    ``(qmin, qmax) = (-1, 1)`` without zero point is the binary grid.

    Explicit forward and backward functions let the training step
    (:mod:`skqat._backprop`) run them without autograd; :class:`_FakeQuantize`
    wraps the same two functions for autograd, so both paths compute the same
    values. In code units ``u = x / s + zp`` the output is
    ``s * (clamp(round(u)) - zp)``. The fused kernels write it into ``out``
    when given one of ``x``'s shape and dtype (the explicit training step
    reuses its buffers from step to step); the torch kernels ignore ``out``.

    Returns
    -------
    out : torch.Tensor
    saved : tuple
        ``(kind, tensors)``, what :func:`fake_quantize_backward` needs. On
        contiguous CPU tensors with the C extension built, the pass runs in
        :mod:`skqat._fused`'s one kernel and saves ``x``; otherwise torch
        kernels compute it and save ``u`` and the output.
    """
    if qmin == -1 and qmax == 1 and zero_point is None:
        return _binarize_forward(x, log_scale)
    plan = _fused.layout(x, log_scale, zero_point, qmin, qmax)
    if plan is not None:
        # One pass in C; the backward pass recomputes the scale and codes.
        out = _fused.forward(x, log_scale, zero_point, qmin, qmax, plan, out)
        return out, (plan, (x, log_scale, zero_point))
    s = scale_from_log(log_scale)
    u = x * s.reciprocal()
    zp = None
    if zero_point is not None:
        # Keep zero on the grid (zp within the codes): pruned weights and
        # padding stay exact, and integer export needs it.
        zp = torch.round(zero_point).clamp_(qmin, qmax)
        u.add_(zp)
    # The codes become the output in place: the backward pass recovers them
    # as out / s + zp, so one tensor of the input's size is saved, not two.
    out = torch.round(u).clamp_(qmin, qmax)
    if zp is not None:
        out.sub_(zp)
    out.mul_(s)
    return out, (_TORCH, (u, out, s, zp))


def fake_quantize_backward(
    grad_out,
    saved,
    qmin,
    qmax,
    grad_scale=1.0,
    clipped=True,
    pact=False,
    relu=False,
    param_grads=True,
    overwrite_grad=False,
):
    """Backward pass of :func:`fake_quantize` from the ``saved`` of :func:`fake_quantize_forward`.

    The in-range mask is applied by ``hardtanh_backward`` in one kernel
    (``q_min - 1/2 < u < q_max + 1/2``, the rounding boundaries of the
    clipping range; with ``relu`` fused, values below zero are outside at the
    low end, exactly relu's mask).

    ``overwrite_grad=True`` lets the fused kernels write the gradient for
    ``x`` over ``grad_out``: for callers that own ``grad_out`` (the explicit
    training step), not for autograd, which may share it.

    Returns
    -------
    grad_x, grad_log_scale, grad_zero_point : torch.Tensor or None
        The parameter gradients are None when ``param_grads`` is False or
        (for the zero point) when there is none.
    """
    kind, tensors = saved
    if kind == _BINARY:
        return _binarize_backward(grad_out, tensors, grad_scale, clipped, param_grads)
    if kind != _TORCH:  # the fused kernels' layout
        x, log_scale, zero_point = tensors
        return _fused.backward(
            grad_out,
            x,
            log_scale,
            zero_point,
            kind,
            qmin,
            qmax,
            grad_scale,
            clipped,
            pact,
            relu,
            param_grads,
            overwrite_grad,
        )
    u, out, s, zp = tensors
    shape = s.shape
    low = 0.0 if relu else qmin - 0.5
    grad_in_range = aten.hardtanh_backward(grad_out, u, low, qmax + 0.5)
    if clipped:
        grad_x = grad_in_range
    elif relu:
        grad_x = aten.threshold_backward(grad_out, u, 0.0)
    else:
        grad_x = grad_out
    if not param_grads:
        return grad_x, None, None
    # d x_hat / d s = codes - u inside the range (LSQ; PACT drops this
    # rounding term) and codes - zp = out / s outside it. For log_s (chain
    # rule: d/d log_s = s * d/ds) the division by s cancels.
    # With u = x / s + zp, these sum to out / s outside the range and to
    # out / s - (u - zp) (LSQ) or 0 (PACT) inside it.
    if pact:
        inside = _dot_like(grad_in_range, out, shape)
    else:
        inside = _dot_like(grad_in_range, u, shape)
        if zp is not None:
            inside = inside - zp * _sum_like(grad_in_range, shape)
        inside = inside * s
    grad_log_s = (_dot_like(grad_out, out, shape) - inside) * grad_scale
    grad_zp = None
    if zp is not None:
        # d x_hat / d zp = -s outside the range.
        grad_zp = (_sum_like(grad_in_range, shape) - _sum_like(grad_out, shape)) * (s * grad_scale)
    return grad_x, grad_log_s, grad_zp


def _binarize_forward(x, log_scale):
    """Forward pass of the binary grid ``s * sign(x)`` (``sign(0) = +1``) and its saved state."""
    s = scale_from_log(log_scale)
    # sign(x) with sign(0) = +1: {-1, 0, 1} + 1/2 -> {-1/2, 1/2, 3/2} -> {-1, 1, 1}.
    signs = torch.sign(x).add_(0.5).sign_()
    return signs * s, (_BINARY, (x * s.reciprocal(), signs, s))


def _binarize_backward(grad_out, saved, grad_scale, clipped, param_grads):
    """Backward pass of :func:`_binarize_forward`: clipped STE (``|x| < s``) and ``d/ds = sign(x)``."""
    u, signs, s = saved
    grad_x = aten.hardtanh_backward(grad_out, u, -1.0, 1.0) if clipped else grad_out
    if not param_grads:
        return grad_x, None, None
    return grad_x, _dot_like(grad_out, signs, s.shape) * (s * grad_scale), None


class _FakeQuantize(torch.autograd.Function):
    """:func:`fake_quantize_forward` and :func:`fake_quantize_backward` as one autograd node.

    One node with few kernels instead of a dozen elementwise nodes: on the
    small networks skqat trains, per-op overhead is the cost.
    """

    @staticmethod
    def forward(ctx, x, log_scale, zero_point, qmin, qmax, grad_scale, clipped, pact, relu):
        out, (kind, tensors) = fake_quantize_forward(x, log_scale, zero_point, qmin, qmax, relu)
        ctx.save_for_backward(*tensors)
        ctx.kind = kind
        ctx.options = (qmin, qmax, grad_scale, clipped, pact, relu)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        param_grads = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        qmin, qmax, grad_scale, clipped, pact, relu = ctx.options
        grad_x, grad_log_s, grad_z = fake_quantize_backward(
            grad_out,
            (ctx.kind, ctx.saved_tensors),
            qmin,
            qmax,
            grad_scale,
            clipped,
            pact,
            relu,
            param_grads=param_grads,
        )
        return grad_x, grad_log_s, grad_z, None, None, None, None, None, None


def quantize_bias(bias: torch.Tensor, scale: torch.Tensor, bits: int) -> torch.Tensor:
    """``bias`` on the signed ``bits``-bit grid of step ``scale`` (per output unit), straight through.

    ``clamp(round(b * (1/s))) * s``, rounding half to even; the bias gets the
    identity gradient (the grid is the accumulator's, fine enough that
    clipping does not matter) and the scale none. ``scale`` is used as
    given, not through its logarithm: one exact grid per step.
    """
    qmin, qmax = grid_limits(bits, True)
    with torch.no_grad():
        on_grid = torch.round(bias * scale.reciprocal()).clamp_(qmin, qmax).mul_(scale)
    if not (torch.is_grad_enabled() and bias.requires_grad):
        return on_grid
    # The value of on_grid (b - b is exactly 0), the gradient of b.
    return on_grid + (bias - bias.detach())


def fake_quantize(
    x: torch.Tensor,
    log_scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    grad_scale: float = 1.0,
    clipped: bool = True,
    pact: bool = False,
    relu: bool = False,
) -> torch.Tensor:
    """Quantize then dequantize ``x`` on the grid ``s * ([q_min, q_max] - zp)``.

    Parameters
    ----------
    x : torch.Tensor
        Values to quantize.
    log_scale : torch.Tensor
        Natural logarithm of the step size ``s``, broadcastable to ``x`` (a
        scalar for per-tensor quantization, shape ``(n_out, 1)`` for
        per-channel weights). Scales below ``MIN_SCALE`` are raised to it.
    zero_point : torch.Tensor or None
        Zero point ``zp``, same shape as ``log_scale``; rounded to an integer in the
        forward pass (with an identity gradient) and kept within
        ``[q_min, q_max]`` so that zero stays on the grid. ``None`` means
        ``zp = 0``.
    qmin, qmax : int
        Integer code range, see :func:`grid_limits`. ``(-1, 1)`` selects the
        binary grid ``s * sign(x)``.
    grad_scale : float, default=1.0
        Factor applied to the gradients of ``log_scale`` and ``zero_point``
        (LSQ's ``1 / sqrt(N * q_max)``, see :func:`lsq_gradient_scale`).
    clipped : bool, default=True
        ``True``: zero gradient for ``x`` outside the clipping range.
        ``False``: plain identity straight-through estimator.
    pact : bool, default=False
        PACT's scale gradient (Choi et al. 2018): only clipped values
        contribute, ``d x_hat / d s = q(x) - zp`` outside the range and ``0``
        inside it.
    relu : bool, default=False
        Compute ``fake_quantize(relu(x))`` in one pass, forward and backward
        exactly; needs an unsigned grid (``qmin = 0``) without zero point.

    Returns
    -------
    torch.Tensor
        The dequantized values ``x_hat``, same shape and dtype as ``x``.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor(2.0)
    >>> fake_quantize(torch.tensor([7.8, -3.1, 100.0]), s.log(), None, -8, 7)
    tensor([ 8., -4., 14.])
    """
    if relu and (qmin != 0 or zero_point is not None):
        raise ValueError("relu can be fused only into an unsigned grid without zero point")
    return _FakeQuantize.apply(x, log_scale, zero_point, qmin, qmax, grad_scale, clipped, pact, relu)


def integer_codes(
    x: torch.Tensor,
    scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integer codes ``q(x) = clamp(round(x / s + zp))`` of ``x`` for the scale ``s`` (no gradient).

    Returned as values of ``x``'s float type, in ``out`` when given (a
    buffer of ``x``'s shape and type, reused by callers that encode a large
    tensor chunk by chunk).

    Computed as the forward pass computes them (``x * (1/s)``, ``+ zp``, round
    half to even, clamp). The binary grid (``qmin, qmax = -1, 1`` without
    zero point) gives codes ``-1`` and ``+1``.

    Examples
    --------
    >>> import torch
    >>> integer_codes(torch.tensor([7.8, -0.4, 100.0]), torch.tensor(2.0), None, -8, 7)
    tensor([4., -0., 7.])
    """
    with torch.no_grad():
        s = scale.clamp_min(MIN_SCALE)
        if qmin == -1 and qmax == 1 and zero_point is None:
            return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
        u = torch.mul(x, s.reciprocal(), out=out)
        if zero_point is not None:
            u.add_(torch.round(zero_point).clamp(qmin, qmax))
        return torch.round(u, out=u).clamp_(qmin, qmax)
