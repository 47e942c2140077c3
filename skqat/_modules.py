"""The quantized network: ``QuantLinear`` layers stacked into a ``QuantMLP``.

No scikit-learn here: the estimators build a ``QuantMLP`` in ``fit`` and keep
it as private fitted state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._activations import get_activation
from ._allocation import mean_bits
from ._frozen import code_unit
from ._functional import quantize_bias
from ._quantizers import Quantizer

__all__ = ["QuantLinear", "QuantMLP"]


def input_spreads(
    x: torch.Tensor, weight: torch.Tensor | None, scale: torch.Tensor, bits: int
) -> torch.Tensor:
    """Each column's spread ``n_j`` in codes of its grid (``scale``): what the folded layer divides by.

    The column's standard deviation (weighted by ``weight``, the rows'
    sample weights), at least an eighth of its largest distance from the
    mean: every column enters standardized, raw or scaled, and none beyond
    about 8. Measured while choosing it (2 or 3 seeds): Letter's raw integer
    columns at 8-bit weights reach 0.878 with one ``code_unit(bits)`` for
    every column and 0.896 by standard deviation (0.894 standardized); by
    standard deviation alone, pixels that are rarely lit enter at up to 50
    and 2-bit digits fell to 0.965 from 0.977 with the bound. A column with
    two distinct values (one-hot, binary) gets its range, so it enters as
    ``0/1`` less its mean, as a pipeline that one-hot encodes feeds it
    (Adult's 99 one-hot and 6 standardized columns, 4-bit weights: 0.848
    with ``code_unit`` for every column, which puts a one-hot value near 4,
    0.855 with the range, 0.856 with one grid for all features). A column
    under one code (constant) gets ``k = code_unit(bits)``, and every spread
    lies within ``k / 4`` and ``4 k``. The grid of ``V / n`` must adapt to the
    columns' spreads, so only weight grids that learn their scale
    (``Quantizer.learns_scale``) get these; min-max and penalty grids get
    ``k`` for every column.
    """
    low, high = x.min(dim=0, keepdim=True).values, x.max(dim=0, keepdim=True).values
    two_valued = ((x == low) | (x == high)).all(dim=0, keepdim=True) & (high > low)
    w = torch.ones_like(x[:, :1]) if weight is None else weight.reshape(-1, 1).to(x.dtype)
    mean = (x * w).sum(dim=0, keepdim=True) / w.sum()
    std = (((x - mean) ** 2 * w).sum(dim=0, keepdim=True) / w.sum()).sqrt()
    reach = torch.maximum(high - mean, mean - low) / 8
    spread = torch.where(two_valued, high - low, torch.maximum(std, reach)) / scale
    # The grid quantizes V / n across features: spreads far apart leave some features' weights
    # on a few codes (measured: constant columns at one code put 91% of a 4-bit layer's weights
    # on 0). Under one code a column is constant on its grid (a standardized constant column
    # holds noise of 1e-17) and gets k; the others stay within k/4 to 4k.
    unit = code_unit(bits)
    spread = torch.where(spread >= 1.0, spread, torch.full_like(spread, unit))
    return _round_mantissa(spread.clamp(unit / 4, unit * 4)).to(scale.dtype)


def _round_mantissa(x: torch.Tensor, bits: int = 16) -> torch.Tensor:
    """``x`` with its mantissa rounded to ``bits`` bits.

    A statistic summed over rows differs in its last bits with the rows'
    order, and between weighted rows and repeated ones. On a fixed input
    grid the folded layer's codes are exact integers and its pre-activations
    fall on exact rounding ties, so such a difference flipped a code within
    50 epochs (scikit-learn's sample-weight equivalence check, 4-bit
    per-channel weights). Rounded, the spreads are the same.
    """
    mantissa, exponent = torch.frexp(x)
    return torch.ldexp(torch.round(mantissa * 2.0**bits) / 2.0**bits, exponent)


def _upgrade_folded_state(state_dict: dict, prefix: str, spread: torch.Tensor, bits: int) -> None:
    """A folded layer saved before the spreads existed: ``n = code_unit`` and the grid on ``V g``.

    It multiplied ``q(V r)`` by codes over ``k = code_unit(bits)``; the same
    products are ``q(V r / k)`` on a grid ``k`` times finer (``k`` a power of
    two, so the codes are the same), times the codes.
    """
    if prefix + "input_spread" in state_dict:
        return
    unit = code_unit(bits)
    state_dict[prefix + "input_spread"] = torch.full_like(spread, unit)
    state_dict.setdefault(prefix + "input_reference", torch.zeros_like(spread))
    log_scale = prefix + "weight_quantizer.log_scale"
    if log_scale in state_dict:
        state_dict[log_scale] = state_dict[log_scale] - math.log(unit)
    for key in (prefix + "weight_quantizer.range_min", prefix + "weight_quantizer.range_max"):
        if key in state_dict:
            state_dict[key] = state_dict[key] / unit


class QuantLinear(nn.Module):
    """A linear layer ``y = x q(W)^T + q_b(b)`` with fake-quantized weight and bias.

    Parameters
    ----------
    in_features, out_features : int
        Layer shape.
    weight_quantizer : Quantizer or None
        Applied to the latent float weight; ``None`` keeps it in float.
    bias_bits : int or None
        Quantize the bias on a signed ``bias_bits`` grid whose scale is the
        weight scale times the input scale (``s_w * s_in``), as integer-only
        inference needs; ``None`` keeps it in float.
    pruned : bool
        Keep a pruning mask (a buffer of zeros and ones) applied to ``q(W)``.
    dtype, device
        Of the parameters.
    """

    def __init__(
        self, in_features, out_features, weight_quantizer=None, *, bias_bits=None, pruned=False, dtype, device
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, dtype=dtype, device=device))
        self.weight_quantizer = weight_quantizer
        self.bias_bits = bias_bits
        if pruned:
            self.register_buffer("mask", torch.ones_like(self.weight.detach()))
        else:
            self.mask = None

    def fold_input_scales(self, input_quantizer: Quantizer) -> None:
        """Train this layer on the input codes of a per-feature grid: the weights multiply codes.

        With a per-feature input grid each feature has its own scale ``s_j``,
        so no one accumulator scale covers the products ``x_j * w_ij``. The
        layer's weights multiply the codes instead. It computes

        ``z_i = sum_j q(V_ij g_j) (x_j - c_j s0_j) / s_j + b_i``,
        ``g_j = s_j / (s0_j n_j)``,

        with ``V`` the latent weight, ``s0_j`` the feature's initial scale,
        ``c_j`` its mean in codes of that scale and ``n_j`` its spread in
        those codes (:func:`input_spreads`): up to rounding the product is
        ``V_ij (x_j - c_j s0_j) / (s0_j n_j)``, ``V`` times a standardized
        feature, whatever the column's range. The integer model multiplies
        the codes ``q_j - zp_j`` by the grid's integers and moves the centers
        into the bias.

        A learned scale ``s_j`` changes the rounding and the clipping, not the
        function (measured: with the weights on the codes alone, ``q(V)`` times
        ``(q - zp - c) / k``, a scale rescaled its feature's weights as it
        moved, and SGD with momentum oscillated).
        """
        # A plain attribute, not a submodule: the quantizer belongs to the network, not to this layer.
        object.__setattr__(self, "_fold_source", input_quantizer)
        # The centers c, initial scales s0 and spreads n (QuantMLP.prepare_input_grid). Zeros mean
        # unset: s0 = s and n = code_unit(bits) until the grid is prepared.
        shape = (1, self.in_features)
        for name in ("input_center", "input_reference", "input_spread"):
            self.register_buffer(name, torch.zeros(shape, dtype=self.weight.dtype, device=self.weight.device))
        self._fold_set = False  # whether s0 and n are set (read every step: a Python flag, no tensor test)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if "input_spread" in self._buffers and prefix + "input_center" in state_dict:
            _upgrade_folded_state(state_dict, prefix, self.input_spread, self.__dict__["_fold_source"].bits)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if "input_spread" in self._buffers:
            self.mark_fold_set()

    def mark_fold_set(self) -> None:
        """Record whether the centers' scales ``s0`` and the spreads ``n`` are set (all positive)."""
        self._fold_set = bool((self.input_reference > 0).all()) and bool((self.input_spread > 0).all())

    def _fold_state(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """``(s, s0, n)`` per input feature, shape (1, n_in), detached; None for an unfolded layer."""
        source = self.__dict__.get("_fold_source")
        if source is None:
            return None
        scale = source.effective_scale().reshape(1, -1)
        reference: torch.Tensor = self.input_reference
        spread: torch.Tensor = self.input_spread
        if self._fold_set:
            return scale, reference, spread
        return (
            scale,
            torch.where(reference > 0, reference, scale),
            torch.where(spread > 0, spread, torch.full_like(spread, code_unit(source.bits))),
        )

    def fold_terms(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """``(s, c s0 / s, g)`` per input feature from one read of the scales; None for an unfolded layer.

        What a training step of the folded layer needs: the divisor of the
        input, the centers' offset in codes and the factor ``g`` of the
        latent weight (:meth:`fold_input_scales`).
        """
        state = self._fold_state()
        if state is None:
            return None
        scale, reference, spread = state
        return scale, self.input_center * reference / scale, scale / (reference * spread)

    def weight_factor(self) -> torch.Tensor | None:
        """``g = s / (s0 n)`` per input feature (detached): the folded layer's grid quantizes ``V * g``."""
        state = self._fold_state()
        return None if state is None else state[0] / (state[1] * state[2])

    def input_fold(self) -> torch.Tensor | None:
        """``s`` per input feature, shape (1, n_in): what the folded weight is divided by; or None."""
        source = self.__dict__.get("_fold_source")
        return None if source is None else source.effective_scale().reshape(1, -1)

    def grid_input(self) -> torch.Tensor:
        """What the weight grid quantizes: ``W``, or ``V * g`` for a folded layer."""
        factor = self.weight_factor()
        return self.weight if factor is None else self.weight * factor

    def _grid_weight(self, quantize: bool, factor: torch.Tensor | None = None) -> torch.Tensor:
        """``q(W)`` (``q(V g)`` for a folded layer, given ``g``) times the mask: what multiplies the input."""
        weight = self.grid_input() if factor is None else self.weight * factor
        if quantize and self.weight_quantizer is not None:
            weight = self.weight_quantizer(weight)
        return weight if self.mask is None else weight * self.mask

    def quantized_weight(self, quantize: bool = True) -> torch.Tensor:
        """The weight on the dequantized input: ``q(W)``, or ``q(V g) / s`` folded (times the mask)."""
        weight = self._grid_weight(quantize)
        fold = self.input_fold()
        return weight if fold is None else weight / fold

    def masked_weight(self) -> torch.Tensor:
        """The grid's input (``W``, or ``V * g`` folded) times the pruning mask: what the grid fits."""
        weight = self.grid_input()
        return weight if self.mask is None else weight * self.mask

    def bias_scale(self, input_scale: torch.Tensor | None) -> torch.Tensor:
        """``s_w * s_in`` per output unit (detached): the bias grid's scale."""
        scale = self.weight_quantizer.effective_scale().reshape(-1)
        if input_scale is not None:
            scale = scale * input_scale.reshape(-1)
        return scale.expand(self.out_features)

    def quantized_bias(self, input_scale: torch.Tensor | None, quantize: bool = True) -> torch.Tensor:
        """The bias the forward pass uses: on the ``s_w * s_in`` grid when ``bias_bits`` is set."""
        if not quantize or self.bias_bits is None or self.weight_quantizer is None:
            return self.bias
        return quantize_bias(self.bias, self.bias_scale(input_scale), self.bias_bits)

    def input_centers(self) -> torch.Tensor | None:
        """``c * s0`` per input feature: the real value the folded layer centers each column on (or None)."""
        state = self._fold_state()
        return None if state is None else self.input_center * state[1]

    def effective_bias(self, weight: torch.Tensor, input_scale, quantize: bool = True) -> torch.Tensor:
        """The bias on the dequantized input: a folded layer's, less its weights times the centers.

        ``sum_j (x_j - c_j s0_j) / s_j q(V g)_ij + b`` is ``x @ weight.T``
        plus ``b - sum_j c_j s0_j weight_ij`` with ``weight = q(V g) / s``.
        """
        bias = self.quantized_bias(input_scale, quantize)
        centers = self.input_centers()
        if centers is None:
            return bias
        return bias - (centers @ weight.t()).reshape(-1)

    def forward(self, x: torch.Tensor, input_scale: torch.Tensor | None = None, quantize: bool = True):
        terms = self.fold_terms()
        if terms is not None:
            # The centered codes (x - c s0) / s times q(V g): the products the explicit
            # gradients (skqat._backprop) compute, in the same operations, so both paths agree
            # to the last bit (a bias on the s_w * s_in grid puts pre-activations exactly on relu's kink).
            fold, offset, factor = terms
            codes = x / fold - offset
            weight = self._grid_weight(quantize, factor)  # first: a min-max grid observes, the bias reads it
            return torch.addmm(self.quantized_bias(input_scale, quantize), codes, weight.t())
        weight = self.quantized_weight(quantize)
        return torch.nn.functional.linear(x, weight, self.effective_bias(weight, input_scale, quantize))

    @torch.no_grad()
    def prune(self, fraction: float) -> None:
        """Set the mask to drop the ``fraction`` of weights smallest in magnitude."""
        n_pruned = int(fraction * self.weight.numel())
        self.mask.fill_(1.0)
        if n_pruned > 0:
            order = self.weight.abs().reshape(-1).argsort()
            self.mask.view(-1)[order[:n_pruned]] = 0.0

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias_bits={self.bias_bits}"


class QuantMLP(nn.Module):
    """A multilayer perceptron with quantized inputs, weights, biases and activations.

    ``forward`` returns the raw output of the last layer (logits); the output
    activation (softmax, logistic or identity) belongs to the loss and to the
    estimator's ``predict_proba``. In training mode quantization is applied
    once :meth:`start_quantization` has run (``quant_delay`` epochs of float
    training come before); in evaluation mode it is always applied, so grids
    must be initialised (:meth:`initialize_grids`) before inference.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden-layer activation.
    make_weight_quantizer : callable ``(layer_index, out_features, in_features) -> Quantizer or None``
    make_activation_quantizer : callable ``(width) -> Quantizer or None``
    input_quantizer : Quantizer or None
        Quantizer of the input features.
    bias_bits : int or None
        See :class:`QuantLinear`.
    pruned : bool
        Keep pruning masks.
    dtype, device
        Of the parameters.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str,
        make_weight_quantizer,
        make_activation_quantizer,
        *,
        input_quantizer=None,
        bias_bits=None,
        pruned=False,
        dtype,
        device,
    ):
        super().__init__()
        self.activation = activation
        self._activation_fn = get_activation(activation).torch_function()
        self.input_quantizer = input_quantizer
        self.layers = nn.ModuleList(
            QuantLinear(
                n_in,
                n_out,
                make_weight_quantizer(i, n_out, n_in),
                bias_bits=bias_bits,
                pruned=pruned,
                dtype=dtype,
                device=device,
            )
            for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]))
        )
        self.activation_quantizers = nn.ModuleList(
            make_activation_quantizer(width) or nn.Identity() for width in layer_sizes[1:-1]
        )
        self.register_buffer("quantizing", torch.tensor(False, device=device))
        self._quantizing = False
        # A per-feature input grid (scale shape (1, n_features)) folds into the first layer.
        self.folds_input = isinstance(input_quantizer, Quantizer) and len(input_quantizer.param_shape) == 2
        if self.folds_input:
            self.layers[0].fold_input_scales(input_quantizer)

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._quantizing = bool(self.quantizing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A Python flag, not the buffer: no device sync on the hot path.
        quantize = self._quantizing or not self.training
        scale = None
        if quantize and self.input_quantizer is not None:
            x = self.input_quantizer(x)
            scale = self.input_scales()[0] if self.layers[0].bias_bits else None
        return self.forward_from_first(self.layers[0](x, scale, quantize), quantize)

    def forward_from_first(self, z: torch.Tensor, quantize: bool = True) -> torch.Tensor:
        """The network's output from the first layer's pre-activations ``z`` (the rest of :meth:`forward`)."""
        if len(self.layers) == 1:
            return z
        relu = self.activation == "relu"
        layers = list(self.layers)
        x = z
        for i, quantizer in enumerate(self.activation_quantizers):
            scale = None
            if quantize and isinstance(quantizer, Quantizer):
                x = quantizer.forward_relu(x) if relu else quantizer(self._activation_fn(x))
                scale = quantizer.effective_scale() if layers[i].bias_bits else None
            else:
                x = self._activation_fn(x)
            x = layers[i + 1](x, scale, quantize)
        return x

    @torch.no_grad()
    def reset_parameters(self, rng: np.random.RandomState) -> None:
        """Glorot-uniform initialisation drawn from ``rng``, as scikit-learn's MLP.

        Draws in scikit-learn's order (each layer's weights, then its biases),
        so a float network starts where ``MLPClassifier`` would.
        """
        factor = get_activation(self.activation).init_factor
        for layer in self.layers:
            bound = np.sqrt(factor / (layer.in_features + layer.out_features))
            coef = rng.uniform(-bound, bound, (layer.in_features, layer.out_features))
            intercept = rng.uniform(-bound, bound, layer.out_features)
            layer.weight.copy_(torch.as_tensor(coef.T))
            layer.bias.copy_(torch.as_tensor(intercept))

    @torch.no_grad()
    def initialize_grids(self, x: torch.Tensor) -> None:
        """(Re)initialise every grid from the current weights and a batch ``x``.

        Weight grids come from the weights, input and activation grids from a
        forward pass over ``x``.
        """
        was_training = self.training
        self.eval()
        # A per-feature input grid is set once (prepare_input_grid): the first layer's units are its.
        if self.input_quantizer is not None:
            if not (self.folds_input and bool(self.input_quantizer.initialized)):
                self.input_quantizer.initialize(x)
            x = self.input_quantizer(x)
        for layer in self.layers:
            if layer.weight_quantizer is not None:
                layer.weight_quantizer.initialize(layer.masked_weight())
        *hidden, _ = self.layers
        for layer, quantizer in zip(hidden, self.activation_quantizers):
            x = self._activation_fn(layer(x, None, True))
            if isinstance(quantizer, Quantizer):
                quantizer.initialize(x)
                x = quantizer(x)
        self.train(was_training)

    def start_quantization(self, x: torch.Tensor) -> None:
        """Initialise the grids from the current state and quantize from now on in training."""
        self.initialize_grids(x)
        self.quantizing.fill_(True)
        self._quantizing = True

    def input_grid_fixed(self) -> bool:
        """Whether training quantizes the input on a grid that no longer changes (:meth:`Quantizer.freeze`).

        Then the training rows can be held as their codes on it.
        """
        quantizer = self.input_quantizer
        return self._quantizing and quantizer is not None and quantizer.frozen and bool(quantizer.initialized)

    def weight_quantizers(self) -> list[Quantizer | None]:
        """Each layer's weight quantizer (``None`` for a float layer)."""
        return [layer.weight_quantizer for layer in self.layers]

    def scaled_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """Every quantizer's ``(parameter, log_scale)`` pairs (:meth:`Quantizer.scaled_parameters`)."""
        quantizers = [self.input_quantizer, *self.weight_quantizers(), *self.activation_quantizers]
        return [pair for q in quantizers if isinstance(q, Quantizer) for pair in q.scaled_parameters()]

    def latent_weights(self) -> list[torch.Tensor]:
        """The float weights the optimizer updates, one per layer."""
        return [layer.weight for layer in self.layers]

    def grid_inputs(self) -> list[torch.Tensor]:
        """What each layer's weight grid quantizes: its latent weight, or ``V * r`` for a folded layer."""
        return [layer.grid_input() for layer in self.layers]

    def learned_bit_layers(self) -> list[QuantLinear]:
        """The layers whose width the budget allocation chooses (``weight_bits="learned"``)."""
        return [layer for layer in self.layers if getattr(layer.weight_quantizer, "allocates_bits", False)]

    def learns_input_widths(self) -> bool:
        """Whether the budget allocation chooses each input feature's width (``input_bits="learned"``)."""
        return hasattr(self.input_quantizer, "feature_bits")

    def input_widths(self) -> np.ndarray | None:
        """Bits of each input feature's codes (None for float inputs)."""
        quantizer = self.input_quantizer
        if not isinstance(quantizer, Quantizer):
            return None
        if self.learns_input_widths():
            return quantizer.widths()
        return np.full(self.layers[0].in_features, quantizer.bits, dtype=np.int64)

    def bits_unallocated(self) -> bool:
        """Whether some learned-bit layer, or the learned input widths, still wait for their allocation."""
        if self.learns_input_widths() and not self.input_quantizer.allocated:
            return True
        return self.layer_bits_unallocated()

    def layer_bits_unallocated(self) -> bool:
        """Whether some learned-bit layer still waits for its allocation."""
        return any(not layer.weight_quantizer.allocated for layer in self.learned_bit_layers())

    def mean_weight_bits(self) -> float | None:
        """Mean bit width per weight of the learned-bit layers (None if there are none)."""
        layers = self.learned_bit_layers()
        if not layers:
            return None
        return mean_bits(
            [layer.weight_quantizer.bits for layer in layers], [layer.weight.numel() for layer in layers]
        )

    def set_generator(self, generator: torch.Generator) -> None:
        """Give the quantization-noise quantizers their random generator."""
        for quantizer in self.weight_quantizers():
            if quantizer is not None:
                quantizer.set_generator(generator)

    @torch.no_grad()
    def prune(self, fraction: float) -> None:
        """Magnitude-prune every layer to ``fraction`` zeros."""
        for layer in self.layers:
            if layer.mask is not None:
                layer.prune(fraction)

    @torch.no_grad()
    def grid_distance(self) -> float:
        """Mean distance of the latent weights to their grids, in grid steps."""
        distances = [
            float(quantizer.grid_distance(weight)) * weight.numel()
            for weight, quantizer in zip(self.grid_inputs(), self.weight_quantizers())
            if quantizer is not None
        ]
        n = sum(w.numel() for w, q in zip(self.latent_weights(), self.weight_quantizers()) if q is not None)
        return sum(distances) / n if n else float("nan")

    @torch.no_grad()
    def refit_unlearned_grids(self, refit: bool) -> None:
        """Fit the penalty scheme's weight grids to the final weights when ``refit``."""
        if not refit:
            return
        for layer in self.layers:
            if layer.weight_quantizer is not None:
                layer.weight_quantizer.refit(layer.masked_weight())

    def input_scales(self) -> list[torch.Tensor | None]:
        """Scale of each layer's quantized input (detached), None where the input is float.

        A folded first layer takes the normalized codes ``(q - zp) / k``, of scale ``1 / k``.
        """
        return [self.layer_input_scale(i) for i in range(len(self.layers))]

    def layer_input_scale(self, i: int) -> torch.Tensor | None:
        """:meth:`input_scales`'s entry for layer ``i`` alone (one scale read)."""
        if i > 0:
            quantizer = self.activation_quantizers[i - 1]
            return quantizer.effective_scale() if isinstance(quantizer, Quantizer) else None
        first = self.input_quantizer
        if self.folds_input:
            # The folded layer multiplies the codes themselves: its accumulator's scale is s_w.
            return first.effective_scale().new_tensor(1.0)
        return first.effective_scale() if isinstance(first, Quantizer) else None

    @torch.no_grad()
    def prepare_input_grid(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> None:
        """Initialise a per-feature input grid once, before training: the first layer's units are its.

        ``weight``: the rows' sample weights. The grid and the centers are
        weighted statistics, so integer weights give what repeated rows give
        (scikit-learn's sample-weight equivalence).
        """
        if self.folds_input and not bool(self.input_quantizer.initialized):
            self.input_quantizer.initialize(x, weight)
            # The reference scales s0, the code of each column's mean on them (the centers), and
            # each column's spread in those codes.
            scale = self.input_quantizer.effective_scale().reshape(1, -1)
            layer = self.layers[0]
            layer.input_reference.copy_(scale)
            if weight is None:
                mean = x.mean(dim=0, keepdim=True)
            else:
                w = weight.reshape(-1, 1).to(x.dtype)
                mean = (x * w).sum(dim=0, keepdim=True) / w.sum()
            layer.input_center.copy_(torch.round(mean / scale))
            bits = self.input_quantizer.bits
            if layer.weight_quantizer is None or layer.weight_quantizer.learns_scale:
                layer.input_spread.copy_(input_spreads(x, weight, scale, bits))
            else:
                # A min-max or penalty grid does not learn its scale against the loss: columns
                # scaled apart leave most weights on zero (measured, standardized digits, 2-bit
                # min-max weights, 3 seeds: 0.42 with the spreads, 0.89 with one unit).
                layer.input_spread.fill_(code_unit(bits))
            layer.mark_fold_set()

    @torch.no_grad()
    def dequantized_parameters(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(weight, bias)`` of each layer exactly as inference uses them."""
        was_training = self.training
        self.eval()
        params = []
        for layer, scale in zip(self.layers, self.input_scales()):
            weight = layer.quantized_weight()
            params.append((weight, layer.effective_bias(weight, scale)))
        self.train(was_training)
        return params
