"""Quantizer modules: learned grids for weights and activations, built by name.

A quantizer is a small ``nn.Module`` that owns the grid's learnable parameters
(scale, zero point) and applies :func:`skqat._functional.fake_quantize` in its
forward pass. The estimators pick a quantizer class through
:func:`make_quantizer` from the ``quantizer`` hyperparameter.
"""

from __future__ import annotations

import torch
from torch import nn

from ._functional import (
    MIN_SCALE,
    fake_quantize,
    grid_limits,
    integer_codes,
    lsq_gradient_scale,
)

__all__ = ["LSQQuantizer", "QUANTIZERS", "make_quantizer"]

# Fractions of the tensor's range tried when initialising a grid; the one with
# the smallest squared quantization error wins.
_INIT_CLIP_RATIOS = torch.linspace(0.25, 1.0, 31).tolist()


class LSQQuantizer(nn.Module):
    """Learned step size quantizer (LSQ, Esser et al. 2020).

    The scale ``s = exp(log_scale)`` (and, when asymmetric, the zero point
    ``z``) are ``nn.Parameter`` objects trained by back-propagation through the
    straight-through estimator of :func:`skqat._functional.fake_quantize`, with
    LSQ's gradient scale ``1 / sqrt(N * q_max)``.

    Before the first training step the grid is initialised from the statistics
    of a tensor (:meth:`initialize`): the clipping range that minimises the
    squared quantization error among fractions of the tensor's range.

    Parameters
    ----------
    bits : int
        Bit width.
    signed : bool
        Whether a symmetric grid is signed (weights, tanh and identity
        activations) or unsigned (relu and logistic activations). Asymmetric
        grids are always unsigned codes plus a learned zero point.
    symmetric : bool
        ``True`` fixes ``z = 0``; ``False`` learns ``z``.
    n_channels : int or None
        ``None`` for one scale per tensor; otherwise one scale per row of the
        tensor (per output unit of a weight matrix).
    group_size : int
        Number of values that share one scale in a single forward pass, the
        ``N`` of LSQ's gradient scale.
    clipped_ste : bool, default=True
        Zero gradient for inputs outside the clipping range.
    dtype, device : torch dtype and device of the parameters.
    """

    def __init__(
        self,
        bits: int,
        *,
        signed: bool,
        symmetric: bool,
        n_channels: int | None,
        group_size: int,
        clipped_ste: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        self.bits = int(bits)
        self.signed = bool(signed)
        self.symmetric = bool(symmetric)
        self.n_channels = n_channels
        self.clipped_ste = clipped_ste
        self.qmin, self.qmax = grid_limits(self.bits, self.signed and self.symmetric)
        self.grad_scale = lsq_gradient_scale(group_size, self.qmax)
        shape = (n_channels, 1) if n_channels is not None else ()
        self.log_scale = nn.Parameter(torch.zeros(shape, dtype=dtype, device=device))
        if symmetric:
            self.zero_point = None
        else:
            self.zero_point = nn.Parameter(torch.zeros(shape, dtype=dtype, device=device))
        self.register_buffer("initialized", torch.tensor(False, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantize ``x``: quantize to the grid, then dequantize."""
        return fake_quantize(
            x,
            self.log_scale,
            self.zero_point,
            self.qmin,
            self.qmax,
            self.grad_scale,
            self.clipped_ste,
        )

    @property
    def n_levels(self) -> int:
        """Number of grid levels, ``2 ** bits``."""
        return 2**self.bits

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Integer codes ``q(x)`` (as floats) of ``x`` on the current grid."""
        return integer_codes(x, self.effective_scale(), self.zero_point, self.qmin, self.qmax)

    def effective_scale(self) -> torch.Tensor:
        """The positive scale used in the forward pass (detached)."""
        return self.log_scale.detach().exp().clamp_min(MIN_SCALE)

    def effective_zero_point(self) -> torch.Tensor:
        """The integer zero point used in the forward pass (detached)."""
        if self.zero_point is None:
            return torch.zeros_like(self.log_scale.detach())
        return torch.round(self.zero_point.detach())

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Set the grid from the statistics of ``x`` and mark it initialised.

        The clipping range is chosen among fractions of the range of ``x``
        (per channel when ``n_channels`` is set) to minimise the squared
        quantization error; the binary grid uses ``s = mean(|x|)``, which is
        the error-minimising scale for ``s * sign(x)``.

        Parameters
        ----------
        x : torch.Tensor
            A tensor with the values the quantizer will see: the weight matrix,
            or a batch of activations.
        """
        x = x.detach()
        reduce_dims = tuple(range(1, x.ndim)) if self.n_channels is not None else None

        def reduce(t, op):
            if reduce_dims is None:
                return op(t)
            return op(t, dim=reduce_dims, keepdim=True)

        if self.qmin == -1 and self.qmax == 1 and self.zero_point is None:
            scale = reduce(x.abs(), torch.mean)
            self.log_scale.copy_(scale.clamp_min(MIN_SCALE).log().reshape(self.log_scale.shape))
            self.initialized.fill_(True)
            return

        if self.zero_point is None:
            if self.signed:
                top = reduce(x.abs(), torch.amax)
            else:
                top = reduce(x.clamp_min(0), torch.amax)
            bottom = None
        else:
            top = reduce(x.clamp_min(0), torch.amax)
            bottom = reduce(x.clamp_max(0), torch.amin)

        best_err = best_scale = best_zero = None
        for ratio in _INIT_CLIP_RATIOS:
            if bottom is None:
                scale = (ratio * top / self.qmax).clamp_min(MIN_SCALE)
                zero = None
            else:
                scale = (ratio * (top - bottom) / (self.qmax - self.qmin)).clamp_min(MIN_SCALE)
                zero = torch.round(ratio * bottom / scale)
            levels = integer_codes(x, scale, zero, self.qmin, self.qmax)
            if zero is not None:
                levels = levels + zero
            err = reduce((levels * scale - x) ** 2, torch.sum)
            if best_err is None:
                best_err, best_scale, best_zero = err, scale, zero
            else:
                better = err < best_err
                best_err = torch.where(better, err, best_err)
                best_scale = torch.where(better, scale, best_scale)
                if zero is not None:
                    best_zero = torch.where(better, zero, best_zero)
        # An all-zero tensor (for example a dead relu layer) gets a unit range.
        best_scale = torch.where(top > 0, best_scale, torch.full_like(best_scale, 1.0 / self.qmax))
        self.log_scale.copy_(best_scale.log().reshape(self.log_scale.shape))
        if self.zero_point is not None:
            self.zero_point.copy_(best_zero.reshape(self.zero_point.shape))
        self.initialized.fill_(True)

    def extra_repr(self) -> str:
        granularity = "per_tensor" if self.n_channels is None else f"per_channel({self.n_channels})"
        return (
            f"bits={self.bits}, qmin={self.qmin}, qmax={self.qmax}, symmetric={self.symmetric}, {granularity}"
        )


#: Quantizer classes by the name users pass as ``quantizer``.
QUANTIZERS: dict[str, type[nn.Module]] = {"lsq": LSQQuantizer}


def make_quantizer(name: str, bits: int | None, **kwargs) -> nn.Module | None:
    """Build the quantizer called ``name`` at ``bits`` bits.

    Parameters
    ----------
    name : str
        A key of :data:`QUANTIZERS`.
    bits : int or None
        Bit width; ``None`` means no quantization and returns ``None``.
    **kwargs
        Passed to the quantizer class.

    Returns
    -------
    nn.Module or None
    """
    if bits is None:
        return None
    return QUANTIZERS[name](bits, **kwargs)
