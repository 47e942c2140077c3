"""Predict-time arithmetic in numpy: the fitted network without torch's per-call overhead.

``predict`` runs the frozen network (:mod:`skqat._frozen`) through the plan
:func:`plan_from_network` chooses:

- a network trained integer-only (every layer's weights, the input and every
  hidden activation on trained grids) runs the integer model,
  :class:`~skqat._integer_inference.IntegerPlan`, the arithmetic of
  ``export_integer()``: what you score is what you ship;
- any other network (a float layer, or an input or activation grid that was
  only calibrated after training) runs :class:`InferencePlan`: numpy in the
  training dtype, in the same order of operations as the training forward
  pass (``x * (1 / s)``, ``+ zp``, round half to even, clip, ``- zp``,
  ``* s``), so it gives the same numbers as the network it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._activations import get_activation
from ._frozen import FrozenNetwork, GridParams
from ._head import LabelHead
from ._integer_inference import IntegerPlan

__all__ = ["InferencePlan", "float_plan", "plan_from_network"]

# Rows per block: bounds memory on large inputs.
_CHUNK = 65_536


@dataclass(frozen=True)
class InferencePlan:
    """Dequantized layers and grids of a fitted network, as numpy arrays."""

    weights: tuple  # (n_in, n_out) arrays, the estimator's coefs_
    biases: tuple
    input_grid: GridParams | None
    activation_grids: tuple  # GridParams or None per hidden layer
    activation: str
    head: LabelHead

    #: Which arithmetic ``predict`` runs (``IntegerPlan`` says ``"integer"``).
    arithmetic = "float"

    @property
    def dtype(self) -> np.dtype:
        """The float type features are cast to before the plan runs."""
        return self.weights[0].dtype

    def labels(self, X: np.ndarray) -> np.ndarray:
        """A classifier's labels from the output activation's values."""
        return self.head.labels(self.outputs(X))

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """Activated outputs (probabilities or regression values) for a validated array."""
        if X.shape[0] <= _CHUNK:
            return self._block(X)
        return np.concatenate([self._block(X[i : i + _CHUNK]) for i in range(0, X.shape[0], _CHUNK)])

    def _block(self, x: np.ndarray) -> np.ndarray:
        if self.input_grid is not None:
            x = self.input_grid(x.copy())
        hidden = get_activation(self.activation).numpy
        *layers, (last_w, last_b) = zip(self.weights, self.biases)
        for (weight, bias), grid in zip(layers, self.activation_grids):
            x = x @ weight
            x += bias
            x = hidden(x)
            if grid is not None:
                x = grid(x)
        out = x @ last_w
        out += last_b
        return self.head.outputs(out)


def plan_from_network(network: FrozenNetwork) -> InferencePlan | IntegerPlan:
    """The numpy inference plan of a frozen network (the estimator's ``predict``; module docstring)."""
    if network.integer_predict:
        return IntegerPlan(network)
    return float_plan(network)


def float_plan(network: FrozenNetwork) -> InferencePlan:
    """The trained network in float (fake quantization on its trained grids), whatever ``predict`` runs.

    What the float ONNX graph and QONNX compute; ``predict`` for a network
    that is not integer-only.
    """
    dtype = network.dtype
    return InferencePlan(
        weights=tuple(np.ascontiguousarray(layer.weight.T) for layer in network.layers),
        biases=tuple(layer.bias for layer in network.layers),
        input_grid=GridParams.of(network.input_grid, dtype),
        activation_grids=tuple(GridParams.of(g, dtype) for g in network.activation_grids),
        activation=network.activation,
        head=network.head,
    )
