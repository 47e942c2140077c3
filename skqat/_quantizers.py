"""Quantizer modules: the learned (or measured) grids of weights, activations and inputs.

Every quantizer is a small ``nn.Module`` that owns its grid's parameters and
fake-quantizes in ``forward``. They share one contract, :class:`Quantizer`:

* ``forward(x)``: what training sees; a scheme may differ from full
  quantization in training mode (quantization noise, the penalty scheme);
* ``quantize(x)``: full fake quantization, what inference sees;
* ``initialize(x)``: set the grid from the statistics of a tensor;
* ``effective_scale()``, ``effective_zero_point()``, ``codes(x)``, ``bits``,
  ``qmin``, ``qmax``: the grid as integer inference needs it.

Quantizers whose ``explicit`` is True also implement the training pass
without autograd (``forward_explicit``, ``backward_explicit`` and
``explicit_parameters``), which the training step of :mod:`skqat._backprop`
uses; the others train through autograd.

The estimators pick classes by the ``quantizer`` hyperparameter through
:func:`make_quantizer`.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

import torch
from torch import nn

from ._compat import aten
from ._functional import (
    MIN_SCALE,
    fake_quantize,
    fake_quantize_backward,
    fake_quantize_forward,
    grid_limits,
    integer_codes,
    lsq_gradient_scale,
    scale_from_log,
)

__all__ = [
    "Quantizer",
    "LSQQuantizer",
    "PACTQuantizer",
    "MinMaxQuantizer",
    "NoiseQuantizer",
    "PenaltyQuantizer",
    "AllocatedBitsQuantizer",
    "SCHEMES",
    "make_quantizer",
    "grid_for_range",
]

# Fractions of the tensor's range tried when initialising a grid; the one with
# the smallest squared quantization error wins.
_INIT_CLIP_RATIOS = torch.linspace(0.25, 1.0, 31).tolist()


def _reduce_dims(x: torch.Tensor, param_shape: tuple) -> tuple | None:
    """Dimensions of ``x`` that share one grid parameter (None: all of them)."""
    if len(param_shape) == 0:
        return None
    return tuple(d for d, n in enumerate(param_shape) if n == 1)


def _reduce(t: torch.Tensor, op, dims):
    return op(t) if dims is None else op(t, dim=dims, keepdim=True)


def _range_of(x: torch.Tensor, dims, signed: bool, symmetric: bool):
    """``(bottom, top)`` of the range a grid must cover (``bottom`` None if symmetric)."""
    if symmetric:
        top = _reduce(x.abs() if signed else x.clamp_min(0), torch.amax, dims)
        return None, top
    # Asymmetric grids always include zero, so zero stays exactly representable.
    return _reduce(x.clamp_max(0), torch.amin, dims), _reduce(x.clamp_min(0), torch.amax, dims)


def grid_for_range(bottom, top, ratio, qmin, qmax):
    """Scale and zero point ``zp`` of a grid spanning ``ratio`` times ``[bottom, top]`` (tensors).

    ``bottom`` None gives a symmetric grid (no zero point). The min-max rule
    of every grid: quantizer initialisation, ``MinMaxQuantizer`` and the
    grids calibrated at the end of ``fit`` (:mod:`skqat._freeze`).
    """
    if bottom is None:
        return (ratio * top / qmax).clamp_min(MIN_SCALE), None
    scale = (ratio * (top - bottom) / (qmax - qmin)).clamp_min(MIN_SCALE)
    # bottom maps to code q_min = 0 of the unsigned grid: zp = -bottom / s.
    return scale, torch.round(-ratio * bottom / scale)


class Quantizer(nn.Module, metaclass=ABCMeta):
    """Base class: a uniform grid ``s * ([q_min, q_max] - zp)`` over a tensor (ONNX convention).

    Parameters
    ----------
    bits : int
        Bit width.
    signed : bool
        Whether a symmetric grid is signed (weights, inputs, tanh and identity
        activations) or unsigned (relu and logistic activations). Asymmetric
        grids are unsigned codes plus an integer zero point.
    symmetric : bool
        ``True`` fixes ``zp = 0``.
    param_shape : tuple of int
        Shape of the scale: ``()`` per tensor, ``(n_out, 1)`` per output unit
        of a weight matrix.
    group_size : int
        Number of values sharing one scale in a forward pass (LSQ's ``N``).
    clipped_ste : bool, default=True
        Zero gradient for inputs outside the clipping range.
    dtype, device
        Of the parameters.
    """

    #: Whether the grid's scale is a trained parameter.
    learned = True

    #: Whether the quantizer implements the autograd-free training pass
    #: (:meth:`forward_explicit`, :meth:`backward_explicit`).
    explicit = False

    #: Whether the budget allocation chooses this grid's width (``weight_bits="learned"``).
    allocates_bits = False

    @classmethod
    def scheme_options(cls, role: str, *, noise_rate: float) -> dict:
        """Constructor options this class takes beyond :class:`Quantizer`'s, for a ``role`` grid."""
        return {}

    #: Whether training learns the grid's scale against the loss (LSQ, PACT, noise, learned
    #: widths): such a weight grid copes with a first layer whose columns are scaled apart.
    learns_scale = False

    #: Whether the grid is fixed where it was set (:meth:`freeze`).
    frozen = False

    def freeze(self) -> None:
        """Fix the grid where it is set: its parameters take no gradient and a min-max grid stops observing.

        What a per-feature input grid of :data:`skqat._spec.FIXED_INPUT_BITS`
        bits or more does once initialised: its codes are then a fixed
        encoding of the data, which fit can hold instead of the float rows.
        """
        self.frozen = True
        for parameter in self.parameters():
            parameter.requires_grad_(False)

    def set_generator(self, generator: torch.Generator) -> None:
        """Give the quantizer a random generator (only the noise quantizer draws)."""

    @torch.no_grad()
    def refit(self, weight: torch.Tensor) -> None:
        """Fit a grid that training did not learn to the final ``weight`` (the penalty scheme's)."""

    def __init__(
        self,
        bits,
        *,
        signed,
        symmetric,
        param_shape=(),
        group_size=1,
        clipped_ste=True,
        dtype=torch.float32,
        device="cpu",
    ):
        super().__init__()
        self.signed = bool(signed)
        self.symmetric = bool(symmetric)
        self.param_shape = tuple(param_shape)
        self.group_size = int(group_size)
        self.clipped_ste = bool(clipped_ste)
        self._set_bits(bits)
        self.register_buffer("initialized", torch.tensor(False, device=device))

    def _set_bits(self, bits: int) -> None:
        self._bits = int(bits)
        self._qmin, self._qmax = grid_limits(self._bits, self.signed and self.symmetric)

    @property
    def bits(self) -> int:
        """Integer bit width of the grid inference uses."""
        return self._bits

    @property
    def qmin(self) -> int:
        return self._qmin

    @property
    def qmax(self) -> int:
        return self._qmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """What training sees; full fake quantization unless a scheme says otherwise."""
        return self.quantize(x)

    def forward_relu(self, x: torch.Tensor) -> torch.Tensor:
        """``forward(relu(x))``; grids that can fuse the two do it in one pass."""
        return self(torch.relu(x))

    @abstractmethod
    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Full fake quantization of ``x``: the values inference computes with."""

    def explicit_parameters(self) -> list[nn.Parameter]:
        """The trained parameters :meth:`backward_explicit` returns gradients for, in order."""
        return []

    def scaled_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """``(parameter, log_scale)`` for each trained grid parameter measured in steps of the scale.

        SGD divides their gradients by ``s**2`` (see :class:`skqat._optim.SGD`).
        """
        return []

    def forward_explicit(self, x: torch.Tensor, relu: bool = False, out: torch.Tensor | None = None):
        """``forward(relu(x) if relu else x)`` without autograd, and the state to differentiate it.

        Only quantizers whose :attr:`explicit` is True implement it; the
        others train through autograd and raise ``TypeError`` here. ``out``
        may receive the result (a buffer the caller reuses; see
        :func:`~skqat._functional.fake_quantize_forward`).

        Returns
        -------
        out : torch.Tensor
        state : tuple
            For :meth:`backward_explicit`.
        """
        raise TypeError(f"{type(self).__name__} trains through autograd only (explicit = False).")

    def backward_explicit(self, grad_out: torch.Tensor, state):
        """Gradients of :meth:`forward_explicit`'s output, the same as autograd computes.

        ``grad_out`` is consumed: the gradient for the input may be written
        over it (the explicit training step owns it and saves an allocation).

        Returns
        -------
        grad_x : torch.Tensor
            For the input of :meth:`forward_explicit` (before relu).
        grads : list of torch.Tensor
            For :meth:`explicit_parameters`, in order.
        """
        raise TypeError(f"{type(self).__name__} trains through autograd only (explicit = False).")

    def _forward_saving(self, x, log_scale, zero_point, relu, out=None):
        """``forward(relu(x) if relu else x)`` on the grid given, and the state to differentiate it."""
        fused = relu and self.qmin == 0 and zero_point is None
        source = torch.relu(x) if relu and not fused else x
        out, saved = fake_quantize_forward(source, log_scale, zero_point, self.qmin, self.qmax, fused, out)
        return out, (saved, fused, x if relu and not fused else None)

    def _backward_saved(self, grad_out, state, grad_scale, pact, param_grads):
        """Gradients for the input (before relu) and the grid from :meth:`_forward_saving`'s state."""
        saved, fused, pre_relu = state
        grad_x, grad_log_s, grad_z = fake_quantize_backward(
            grad_out,
            saved,
            self.qmin,
            self.qmax,
            grad_scale,
            self.clipped_ste,
            pact,
            fused,
            param_grads,
            overwrite_grad=True,
        )
        if pre_relu is not None:
            grad_x = aten.threshold_backward(grad_x, pre_relu, 0.0)
        return grad_x, [g for g in (grad_log_s, grad_z) if g is not None]

    @abstractmethod
    def effective_scale(self) -> torch.Tensor:
        """The positive scale in use (detached)."""

    @abstractmethod
    def initialize(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> None:
        """Set the grid from the statistics of ``x`` (rows weighted by ``weight``, if given)."""

    def effective_zero_point(self) -> torch.Tensor | None:
        """Integer zero point in use (detached), or None when symmetric."""
        return None

    def codes(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Integer codes ``q(x)`` (as floats) of ``x`` on the grid inference uses (in ``out``, if given)."""
        return integer_codes(
            x, self.effective_scale(), self.effective_zero_point(), self.qmin, self.qmax, out
        )

    @torch.no_grad()
    def grid_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Mean ``|x - q(x)| / s``: distance to the grid in steps (0 on the grid)."""
        return ((x - self.quantize(x)).abs() / self.effective_scale()).mean()

    def extra_repr(self) -> str:
        granularity = "per_tensor" if not self.param_shape else f"per_channel{self.param_shape}"
        return (
            f"bits={self.bits}, qmin={self.qmin}, qmax={self.qmax}, symmetric={self.symmetric}, {granularity}"
        )


class LSQQuantizer(Quantizer):
    """Learned step size quantization (LSQ, Esser et al. 2020).

    The scale ``s = exp(log_scale)`` (and, when asymmetric, the zero point
    ``zp``) are ``nn.Parameter`` objects trained by back-propagation through the
    straight-through estimator of :func:`skqat._functional.fake_quantize`, with
    LSQ's gradient scale ``1 / sqrt(N * q_max)``. Before the first step the grid
    is initialised from a tensor (:meth:`initialize`): the clipping range that
    minimises the squared quantization error among fractions of its range.
    """

    #: Use PACT's clipping-only scale gradient instead of LSQ's.
    pact = False

    learns_scale = True

    explicit = True

    def __init__(self, bits, **kwargs):
        super().__init__(bits, **kwargs)
        dtype, device = kwargs.get("dtype", torch.float32), kwargs.get("device", "cpu")
        self.log_scale = nn.Parameter(torch.zeros(self.param_shape, dtype=dtype, device=device))
        self.zero_point = None
        if not self.symmetric:
            self.zero_point = nn.Parameter(torch.zeros(self.param_shape, dtype=dtype, device=device))
        self.grad_scale = 1.0 if self.pact else lsq_gradient_scale(self.group_size, self.qmax)

    def quantize(self, x):
        return fake_quantize(
            x,
            self.log_scale,
            self.zero_point,
            self.qmin,
            self.qmax,
            self.grad_scale,
            self.clipped_ste,
            self.pact,
        )

    def forward_relu(self, x):
        if self.qmin != 0 or self.zero_point is not None:
            return self(torch.relu(x))
        return fake_quantize(
            x, self.log_scale, None, 0, self.qmax, self.grad_scale, self.clipped_ste, self.pact, relu=True
        )

    def explicit_parameters(self):
        return [self.log_scale] if self.zero_point is None else [self.log_scale, self.zero_point]

    def scaled_parameters(self):
        return [(p, self.log_scale) for p in self.explicit_parameters()]

    def forward_explicit(self, x: torch.Tensor, relu: bool = False, out: torch.Tensor | None = None):
        """``forward(relu(x) if relu else x)`` without autograd; see :meth:`Quantizer.forward_explicit`."""
        return self._forward_saving(x, self.log_scale, self.zero_point, relu, out)

    def backward_explicit(self, grad_out: torch.Tensor, state):
        """Gradients for the input and the grid (``log_scale``, ``zero_point``); see the base class."""
        return self._backward_saved(grad_out, state, self.grad_scale, self.pact, True)

    def effective_scale(self):
        return scale_from_log(self.log_scale.detach())

    def effective_zero_point(self):
        if self.zero_point is None:
            return None
        return torch.round(self.zero_point.detach()).clamp_(self.qmin, self.qmax)

    @torch.no_grad()
    def initialize(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> None:
        """Set the grid from the statistics of ``x`` and mark it initialised.

        The clipping range is chosen among fractions of the range of ``x``
        (per channel for per-channel grids) to minimise the squared
        quantization error; the binary grid uses ``s = mean(|x|)``, the
        error-minimising scale for ``s * sign(x)``.

        Parameters
        ----------
        x : torch.Tensor
            Values the quantizer will see: a weight matrix or a batch.
        weight : torch.Tensor of shape (n_rows,) or None, default=None
            Sample weights of a batch's rows (all positive): the squared error
            is weighted by them, so integer weights choose what repeated rows
            would.
        """
        x = x.detach()
        row_weight = None if weight is None else weight.reshape(-1, *([1] * (x.dim() - 1))).to(x.dtype)
        dims = _reduce_dims(x, self.param_shape)
        if self.qmin == -1 and self.qmax == 1 and self.symmetric:
            scale = _reduce(x.abs(), torch.mean, dims).clamp_min(MIN_SCALE)
            self.log_scale.copy_(scale.log().reshape(self.param_shape))
            self.initialized.fill_(True)
            return
        bottom, top = _range_of(x, dims, self.signed, self.symmetric)
        best = None
        for ratio in _INIT_CLIP_RATIOS:
            scale, zero = grid_for_range(bottom, top, ratio, self.qmin, self.qmax)
            levels = integer_codes(x, scale, zero, self.qmin, self.qmax)
            if zero is not None:
                levels = levels - zero
            squared = (levels * scale - x) ** 2
            err = _reduce(squared if row_weight is None else squared * row_weight, torch.sum, dims)
            if best is None:
                best = [err, scale, zero]
                continue
            better = err < best[0]
            best[0] = torch.where(better, err, best[0])
            best[1] = torch.where(better, scale, best[1])
            if zero is not None:
                best[2] = torch.where(better, zero, best[2])
        _, scale, zero = best
        # An all-zero tensor (a dead relu layer, say) gets a unit range.
        scale = torch.where(top > 0, scale, torch.full_like(scale, 1.0 / self.qmax))
        self.log_scale.copy_(scale.log().reshape(self.param_shape))
        if self.zero_point is not None:
            self.zero_point.copy_(zero.reshape(self.param_shape))
        self.initialized.fill_(True)


class PACTQuantizer(LSQQuantizer):
    """PACT (Choi et al. 2018): a learned clipping value for activations.

    The clipping value is ``alpha = s * q_max``; its gradient comes only from
    the clipped values (``d x_hat / d alpha = 1`` above the range), not from
    rounding errors inside it, and it is not rescaled as LSQ's is.
    """

    pact = True


class MinMaxQuantizer(Quantizer):
    """Non-learned baseline: the grid spans the observed range (Jacob et al. 2018).

    In training mode each batch updates the range: weights use the current
    tensor's min and max, activations and inputs an exponential moving
    average with ``momentum``. Inference uses the stored range.

    Parameters
    ----------
    momentum : float
        Weight of the newest batch in the moving average; 1 tracks the current
        tensor exactly (used for weights).
    **kwargs
        See :class:`Quantizer`.
    """

    learned = False
    explicit = True

    @classmethod
    def scheme_options(cls, role: str, *, noise_rate: float) -> dict:
        # Weights track the current tensor; inputs and activations a moving average.
        return {"momentum": 1.0 if role == "weight" else 0.01}

    def __init__(self, bits, *, momentum=0.01, **kwargs):
        super().__init__(bits, **kwargs)
        dtype, device = kwargs.get("dtype", torch.float32), kwargs.get("device", "cpu")
        self.momentum = float(momentum)
        self.register_buffer("range_min", torch.zeros(self.param_shape, dtype=dtype, device=device))
        self.register_buffer("range_max", torch.ones(self.param_shape, dtype=dtype, device=device))

    @torch.no_grad()
    def initialize(self, x, weight=None):
        """Set the range to the min and max of ``x`` (rows of any positive weight count alike)."""
        self._observe(x, momentum=1.0)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _observe(self, x, momentum):
        dims = _reduce_dims(x, self.param_shape)
        low = _reduce(x.detach(), torch.amin, dims).reshape(self.param_shape)
        high = _reduce(x.detach(), torch.amax, dims).reshape(self.param_shape)
        self.range_min.lerp_(low, momentum)
        self.range_max.lerp_(high, momentum)

    def _grid(self):
        signed = self.signed and self.symmetric
        bottom = None if self.symmetric else self.range_min.clamp_max(0)
        if self.symmetric:
            top = torch.maximum(self.range_max, -self.range_min) if signed else self.range_max.clamp_min(0)
        else:
            top = self.range_max.clamp_min(0)
        scale, zero = grid_for_range(bottom, top, 1.0, self.qmin, self.qmax)
        scale = torch.where(
            top - (0 if bottom is None else bottom) > 0, scale, torch.full_like(scale, 1.0 / self.qmax)
        )
        return scale, zero

    def quantize(self, x):
        if self.training and not self.frozen:
            self._observe(x, self.momentum)
        scale, zero = self._grid()
        return fake_quantize(x, scale.log(), zero, self.qmin, self.qmax, 1.0, self.clipped_ste)

    def forward_explicit(self, x: torch.Tensor, relu: bool = False, out: torch.Tensor | None = None):
        """``forward(relu(x) if relu else x)`` without autograd; see :meth:`Quantizer.forward_explicit`."""
        source = torch.relu(x) if relu else x
        if self.training and not self.frozen:
            self._observe(source, self.momentum)
        scale, zero = self._grid()
        out, state = self._forward_saving(source, scale.log(), zero, False, out)
        return out, (state[0], False, x if relu else None)

    def backward_explicit(self, grad_out: torch.Tensor, state):
        """The straight-through gradient of the input; the range has none."""
        return self._backward_saved(grad_out, state, 1.0, False, False)

    def effective_scale(self):
        # exp(log(s)) as fake_quantize computes it, which can differ from s in the last bit.
        return scale_from_log(self._grid()[0].log())

    def effective_zero_point(self):
        zero = self._grid()[1]
        return None if zero is None else zero.clamp(self.qmin, self.qmax)


class NoiseQuantizer(LSQQuantizer):
    """Quantization noise (Fan et al. 2021) over an LSQ grid.

    In training mode only a random fraction ``noise_rate`` of the values is
    fake-quantized at each step (a fresh draw each time); the rest pass in
    float. Inference quantizes everything.

    Parameters
    ----------
    noise_rate : float
        Fraction of values quantized per training step.
    **kwargs
        See :class:`Quantizer`.
    """

    # Training differs from LSQ (a random subset in float): autograd only.
    explicit = False

    def __init__(self, bits, *, noise_rate=0.5, **kwargs):
        super().__init__(bits, **kwargs)
        self.noise_rate = float(noise_rate)
        self.generator: torch.Generator | None = None

    @classmethod
    def scheme_options(cls, role: str, *, noise_rate: float) -> dict:
        return {"noise_rate": noise_rate}

    def set_generator(self, generator: torch.Generator) -> None:
        self.generator = generator

    def forward(self, x):
        quantized = self.quantize(x)
        if not self.training or self.noise_rate >= 1.0:
            return quantized
        draw = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        mask = (draw < self.noise_rate).to(x.dtype)
        return x + mask * (quantized - x)


class PenaltyQuantizer(LSQQuantizer):
    """Regularizer-triggered quantization: float training, then a hard projection.

    In training mode the weights pass in float; the grid penalty
    ``quant_lambda * ||W - q(W)||^2`` pulls them (and the grid) together.
    Inference uses the hard projection ``q(W)``.
    """

    # Training differs from LSQ (float weights): autograd only.
    explicit = False

    # The grid follows the weights through quant_lambda only (refit after training).
    learns_scale = False

    def forward(self, x):
        return self.quantize(x) if not self.training else x

    @torch.no_grad()
    def refit(self, weight: torch.Tensor) -> None:
        self.initialize(weight)


class AllocatedBitsQuantizer(LSQQuantizer):
    """An LSQ weight grid whose bit width the budget allocation chooses (``weight_bits="learned"``).

    It trains at ``max_bits`` until :meth:`allocate` sets its width once, by
    :func:`skqat._allocation.allocate_weight_bits`; from then on it is an LSQ
    grid of that width. The width is a buffer, so it survives
    ``state_dict`` round trips (pickling, warm starts).

    Parameters
    ----------
    bits : int
        Ignored: the grid starts at ``max_bits``. (For :func:`make_quantizer`'s signature.)
    min_bits, max_bits : int
        Bounds of the width.
    **kwargs
        See :class:`Quantizer`; grids are signed and symmetric.
    """

    allocates_bits = True

    def __init__(self, bits=None, *, min_bits=2, max_bits=8, **kwargs):
        super().__init__(max_bits, **kwargs)
        self.min_bits, self.max_bits = int(min_bits), int(max_bits)
        # 0 until the allocation has run.
        self.register_buffer("allocated_bits", torch.tensor(0, device=kwargs.get("device", "cpu")))

    @property
    def allocated(self) -> bool:
        """Whether :meth:`allocate` has set the width."""
        return bool(self.allocated_bits)

    def _use_bits(self, bits: int) -> None:
        self._set_bits(bits)
        self.grad_scale = lsq_gradient_scale(self.group_size, self.qmax)

    @torch.no_grad()
    def try_bits(self, bits: int, weight: torch.Tensor) -> None:
        """Switch to the error-minimising ``bits``-bit grid of ``weight``, to measure it.

        :meth:`grid_state` and :meth:`load_grid_state` undo it.
        """
        self._use_bits(bits)
        self.initialize(weight)

    @torch.no_grad()
    def allocate(self, bits: int, weight: torch.Tensor) -> None:
        """Fix the width at ``bits`` and start from the error-minimising grid of ``weight``."""
        self.try_bits(bits, weight)
        self.allocated_bits.fill_(int(bits))

    def grid_state(self) -> tuple:
        """The width and grid parameters, for :meth:`load_grid_state`."""
        zero = None if self.zero_point is None else self.zero_point.detach().clone()
        return self._bits, self.log_scale.detach().clone(), zero

    @torch.no_grad()
    def load_grid_state(self, state: tuple) -> None:
        """Restore what :meth:`grid_state` returned."""
        bits, log_scale, zero = state
        self._use_bits(bits)
        self.log_scale.copy_(log_scale)
        if zero is not None:
            self.zero_point.copy_(zero)

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._use_bits(int(self.allocated_bits) or self.max_bits)

    def extra_repr(self) -> str:
        state = f"allocated {self.bits}" if self.allocated else f"not allocated, training at {self.bits}"
        return f"bits in [{self.min_bits}, {self.max_bits}], {state}, {super().extra_repr()}"


#: Quantizer classes of each scheme, by role.
SCHEMES: dict[str, dict[str, type[Quantizer]]] = {
    "lsq": {"weight": LSQQuantizer, "activation": LSQQuantizer, "input": LSQQuantizer},
    "pact": {"weight": LSQQuantizer, "activation": PACTQuantizer, "input": PACTQuantizer},
    "minmax": {"weight": MinMaxQuantizer, "activation": MinMaxQuantizer, "input": MinMaxQuantizer},
    "noise": {"weight": NoiseQuantizer, "activation": LSQQuantizer, "input": LSQQuantizer},
    "penalty": {"weight": PenaltyQuantizer, "activation": LSQQuantizer, "input": LSQQuantizer},
}


def make_quantizer(scheme: str, role: str, bits, **kwargs) -> Quantizer | None:
    """Build the ``role`` quantizer of ``scheme`` at ``bits`` bits.

    Parameters
    ----------
    scheme : str
        A key of :data:`SCHEMES`.
    role : {"weight", "activation", "input"}
    bits : int, "learned" or None
        ``None`` means no quantization and returns ``None``; ``"learned"``
        builds an :class:`AllocatedBitsQuantizer`.
    **kwargs
        Passed to the class; options a class does not take (``noise_rate``,
        ``momentum``, ``min_bits``, ``max_bits``) are dropped for the others.

    Returns
    -------
    Quantizer or None
    """
    if bits is None:
        return None
    noise_rate = kwargs.pop("noise_rate", 0.5)
    min_bits = kwargs.pop("min_bits", 2)
    max_bits = kwargs.pop("max_bits", 8)
    if bits == "learned":
        return AllocatedBitsQuantizer(min_bits=min_bits, max_bits=max_bits, **kwargs)
    cls = SCHEMES[scheme][role]
    return cls(bits, **kwargs, **cls.scheme_options(role, noise_rate=noise_rate))
