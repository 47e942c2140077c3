"""The quantized network: ``QuantLinear`` layers stacked into a ``QuantMLP``.

No scikit-learn here: the estimators build a ``QuantMLP`` in ``fit`` and keep
it as private fitted state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._activations import get_activation
from ._allocation import mean_bits
from ._frozen import code_unit
from ._functional import fake_quantize, grid_limits
from ._quantizers import Quantizer

__all__ = ["QuantLinear", "QuantMLP"]


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
        layer's weights multiply the codes instead: its weight grid quantizes
        ``V_ij r_j``, with ``V`` the latent weight and ``r_j = s_j / s0_j``
        the ratio of the feature's scale to its initial one ``s0_j``, and
        multiplies the normalized, centered codes ``(q_j - zp_j - c_j s0_j /
        s_j) / k`` (``k``, :func:`skqat._frozen.code_unit`, a power of two).
        The integer model multiplies the codes by the grid's integers and
        moves the centers into the bias.

        The product is ``V_ij (x_j - c_j s0_j) / (s0_j k)`` up to rounding,
        whatever the scale learns: a scale that grows or shrinks changes the
        rounding and the clipping, not the function (measured: with the
        weights on the codes alone, ``(q - zp - c) / k`` times ``q(V)``, a
        learned scale rescales its feature's weights as it moves, and SGD with
        momentum oscillated). ``V`` has the size of weights on standardized
        features whatever the columns' ranges: raw columns train like scaled
        ones.
        """
        # A plain attribute, not a submodule: the quantizer belongs to the network, not to this layer.
        object.__setattr__(self, "_fold_source", input_quantizer)
        # Integer codes c_j near each column's mean and the initial scales s0_j
        # (QuantMLP.prepare_input_grid). A reference of 0 means "the scale itself" (r = 1): before
        # the grid is prepared, and in models pickled before the reference existed.
        shape = (1, self.in_features)
        self.register_buffer(
            "input_center", torch.zeros(shape, dtype=self.weight.dtype, device=self.weight.device)
        )
        self.register_buffer(
            "input_reference", torch.zeros(shape, dtype=self.weight.dtype, device=self.weight.device)
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "input_reference"
        if (
            "input_reference" in self._buffers
            and key not in state_dict
            and prefix + "input_center" in state_dict
        ):
            # Saved before the reference scale existed: r = 1, the arithmetic it was trained with.
            state_dict[key] = torch.zeros_like(self.input_reference)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _input_scales(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(s, s0)`` per input feature, shape (1, n_in), detached; None for an unfolded layer."""
        source = self.__dict__.get("_fold_source")
        if source is None:
            return None
        scale = source.effective_scale().reshape(1, -1)
        reference: torch.Tensor = self.input_reference
        return scale, torch.where(reference > 0, reference, scale)

    def input_ratio(self) -> torch.Tensor | None:
        """``r = s / s0`` per input feature (detached): what the folded layer's latent weight is scaled by."""
        scales = self._input_scales()
        return None if scales is None else scales[0] / scales[1]

    def input_fold(self) -> torch.Tensor | None:
        """``s * k`` per input feature, shape (1, n_in): what the folded weight is divided by; or None."""
        source = self.__dict__.get("_fold_source")
        if source is None:
            return None
        return source.effective_scale().reshape(1, -1) * code_unit(source.bits)

    def grid_input(self) -> torch.Tensor:
        """What the weight grid quantizes: ``W``, or ``V * r`` for a folded layer."""
        ratio = self.input_ratio()
        return self.weight if ratio is None else self.weight * ratio

    def _grid_weight(self, quantize: bool) -> torch.Tensor:
        """``q(W)`` (``q(V r)`` for a folded layer) times the mask: what multiplies the layer's input."""
        weight = self.grid_input()
        if quantize and self.weight_quantizer is not None:
            weight = self.weight_quantizer(weight)
        return weight if self.mask is None else weight * self.mask

    def quantized_weight(self, quantize: bool = True) -> torch.Tensor:
        """The weight on the dequantized input: ``q(W)``, or ``q(V r) / (s * k)`` folded (times the mask)."""
        weight = self._grid_weight(quantize)
        fold = self.input_fold()
        return weight if fold is None else weight / fold

    def masked_weight(self) -> torch.Tensor:
        """The grid's input (``W``, or ``V * r`` folded) times the pruning mask: what the grid fits."""
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
        qmin, qmax = grid_limits(self.bias_bits, True)
        # Identity gradient: the bias grid is fine enough that clipping never matters.
        return fake_quantize(self.bias, self.bias_scale(input_scale).log(), None, qmin, qmax, 1.0, False)

    def input_centers(self) -> torch.Tensor | None:
        """``c * s0`` per input feature: the real value the folded layer centers each column on (or None)."""
        scales = self._input_scales()
        return None if scales is None else self.input_center * scales[1]

    def input_offset(self) -> torch.Tensor | None:
        """``c s0 / (s k)``: what the folded layer subtracts from ``x / (s k)`` (None for other layers)."""
        centers = self.input_centers()
        return None if centers is None else centers / self.input_fold()

    def effective_bias(self, weight: torch.Tensor, input_scale, quantize: bool = True) -> torch.Tensor:
        """The bias on the dequantized input: a folded layer's, less its weights times the centers.

        ``sum_j (x_j - c_j s0_j) / (s_j k) q(V r)_ij + b`` is ``x @ weight.T``
        plus ``b - sum_j c_j s0_j weight_ij`` with ``weight = q(V r) / (s k)``.
        """
        bias = self.quantized_bias(input_scale, quantize)
        centers = self.input_centers()
        if centers is None:
            return bias
        return bias - (centers @ weight.t()).reshape(-1)

    def forward(self, x: torch.Tensor, input_scale: torch.Tensor | None = None, quantize: bool = True):
        fold = self.input_fold()
        if fold is not None:
            # The centered codes (x - c s0) / (s k) times q(V r): the products the explicit
            # gradients (skqat._backprop) compute, in the same operations, so both paths agree
            # to the last bit (a bias on the s_w * s_in grid puts pre-activations exactly on relu's kink).
            codes = x / fold - self.input_offset()
            weight = self._grid_weight(quantize)  # first: a min-max grid observes, the bias grid reads it
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
        *hidden, last = self.layers
        relu = self.activation == "relu"
        for layer, quantizer in zip(hidden, self.activation_quantizers):
            x = layer(x, scale, quantize)
            scale = None
            if quantize and isinstance(quantizer, Quantizer):
                x = quantizer.forward_relu(x) if relu else quantizer(self._activation_fn(x))
                scale = quantizer.effective_scale() if layer.bias_bits else None
            else:
                x = self._activation_fn(x)
        return last(x, scale, quantize)

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

    def bits_unallocated(self) -> bool:
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
        scales = [
            q.effective_scale() if isinstance(q, Quantizer) else None for q in self.activation_quantizers
        ]
        first = self.input_quantizer
        if self.folds_input:
            unit = 1.0 / code_unit(first.bits)
            return [first.effective_scale().new_tensor(unit), *scales]
        return [first.effective_scale() if isinstance(first, Quantizer) else None, *scales]

    @torch.no_grad()
    def prepare_input_grid(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> None:
        """Initialise a per-feature input grid once, before training: the first layer's units are its.

        ``weight``: the rows' sample weights. The grid and the centers are
        weighted statistics, so integer weights give what repeated rows give
        (scikit-learn's sample-weight equivalence).
        """
        if self.folds_input and not bool(self.input_quantizer.initialized):
            self.input_quantizer.initialize(x, weight)
            # The reference scales s0, and the code of each column's mean on them: the centers.
            scale = self.input_quantizer.effective_scale().reshape(1, -1)
            self.layers[0].input_reference.copy_(scale)
            if weight is None:
                mean = x.mean(dim=0, keepdim=True)
            else:
                w = weight.reshape(-1, 1).to(x.dtype)
                mean = (x * w).sum(dim=0, keepdim=True) / w.sum()
            self.layers[0].input_center.copy_(torch.round(mean / scale))

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
