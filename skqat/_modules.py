"""The quantized network: ``QuantLinear`` layers stacked into a ``QuantMLP``.

No scikit-learn here: the estimators build a ``QuantMLP`` in ``fit`` and keep
it as private fitted state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["ACTIVATIONS", "QuantLinear", "QuantMLP"]

#: Hidden-layer activation functions by scikit-learn's names.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda x: x,
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


class QuantLinear(nn.Module):
    """A linear layer ``y = x q(W)^T + b`` whose weight is fake-quantized.

    Parameters
    ----------
    in_features, out_features : int
        Layer shape.
    weight_quantizer : nn.Module or None
        Quantizer applied to the latent float weight in every forward pass;
        ``None`` keeps the weight in floating point.
    dtype, device : torch dtype and device of the parameters.
    """

    def __init__(self, in_features, out_features, weight_quantizer=None, *, dtype, device):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, dtype=dtype, device=device))
        self.weight_quantizer = weight_quantizer

    def quantized_weight(self) -> torch.Tensor:
        """The weight the forward pass uses: ``q(W)`` dequantized, or ``W`` if float."""
        if self.weight_quantizer is None:
            return self.weight
        return self.weight_quantizer(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.quantized_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class QuantMLP(nn.Module):
    """A multilayer perceptron with quantized weights and hidden activations.

    ``forward`` returns the raw output of the last layer (logits); the output
    activation (softmax, logistic or identity) belongs to the loss and to the
    estimator's ``predict_proba``.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden-layer activation.
    make_weight_quantizer : callable ``(out_features, in_features) -> nn.Module or None``
        Builds each layer's weight quantizer.
    make_activation_quantizer : callable ``(width) -> nn.Module or None``
        Builds the quantizer of each hidden layer's output.
    dtype, device : torch dtype and device of the parameters.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str,
        make_weight_quantizer,
        make_activation_quantizer,
        *,
        dtype: torch.dtype,
        device: torch.device | str,
    ):
        super().__init__()
        self.activation = activation
        self._activation_fn = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            QuantLinear(n_in, n_out, make_weight_quantizer(n_out, n_in), dtype=dtype, device=device)
            for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])
        )
        self.activation_quantizers = nn.ModuleList(
            make_activation_quantizer(width) or nn.Identity() for width in layer_sizes[1:-1]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *hidden, last = self.layers
        for layer, quantize in zip(hidden, self.activation_quantizers):
            x = quantize(self._activation_fn(layer(x)))
        return last(x)

    @torch.no_grad()
    def reset_parameters(self, rng: np.random.RandomState) -> None:
        """Glorot-uniform initialisation drawn from ``rng``, as scikit-learn's MLP.

        Draws in scikit-learn's order (each layer's weights, then its biases)
        so that a float network starts where ``MLPClassifier`` would. Weight
        quantizers are then initialised from the new weights.
        """
        factor = 2.0 if self.activation == "logistic" else 6.0
        for layer in self.layers:
            bound = np.sqrt(factor / (layer.in_features + layer.out_features))
            coef = rng.uniform(-bound, bound, (layer.in_features, layer.out_features))
            intercept = rng.uniform(-bound, bound, layer.out_features)
            layer.weight.copy_(torch.as_tensor(coef.T))
            layer.bias.copy_(torch.as_tensor(intercept))
            if layer.weight_quantizer is not None:
                layer.weight_quantizer.initialize(layer.weight)

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor) -> None:
        """Initialise the activation quantizers not yet initialised from a batch ``x``."""
        *hidden, _ = self.layers
        for layer, quantize in zip(hidden, self.activation_quantizers):
            x = self._activation_fn(layer(x))
            if hasattr(quantize, "initialize") and not bool(quantize.initialized):
                quantize.initialize(x)
            x = quantize(x)

    def weight_quantizers(self) -> list[nn.Module | None]:
        """Each layer's weight quantizer (``None`` for a float layer)."""
        return [layer.weight_quantizer for layer in self.layers]

    def latent_weights(self) -> list[torch.Tensor]:
        """The float weights the optimizer updates, one per layer."""
        return [layer.weight for layer in self.layers]
