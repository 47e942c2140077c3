"""Predict-time arithmetic in numpy: the fitted network without torch's per-call overhead.

``fit`` freezes what inference needs (``coefs_``, ``intercepts_`` and the
input and activation grids) into an :class:`InferencePlan`; ``predict`` runs
it with numpy in the training dtype, in the same order of operations as the
training forward pass (``x * (1 / s)``, round half to even, clip, ``* s``), so
it gives the same numbers as the network it was read from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["GridParams", "HIDDEN_ACTIVATIONS", "InferencePlan", "OUTPUT_ACTIVATIONS", "plan_from_module"]

# Rows per block: bounds memory on large inputs.
_CHUNK = 65_536


@dataclass(frozen=True)
class GridParams:
    """``s * (clip(round(x / s) - z, q_min, q_max) + z)`` with ``1 / s`` precomputed."""

    scale: np.ndarray
    inverse: np.ndarray
    zero: float
    qmin: int
    qmax: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        u = x * self.inverse
        if self.zero:
            u -= self.zero
        codes = np.clip(np.round(u, out=u), self.qmin, self.qmax, out=u)
        if self.zero:
            codes += self.zero
        return np.multiply(codes, self.scale, out=codes)


def _relu(x):
    return np.maximum(x, 0, out=x)


def _logistic(x):
    # 1 / (1 + exp(-x)) without overflow warnings for large |x|.
    return np.exp(-np.logaddexp(0, -x))


HIDDEN_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda x: x,
    "relu": _relu,
    "tanh": np.tanh,
    "logistic": _logistic,
}


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


OUTPUT_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softmax": _softmax,
    "logistic": _logistic,
    "identity": lambda x: x,
}


@dataclass(frozen=True)
class InferencePlan:
    """Dequantized layers and grids of a fitted network, as numpy arrays."""

    weights: tuple  # (n_in, n_out) arrays, the estimator's coefs_
    biases: tuple
    input_grid: GridParams | None
    activation_grids: tuple  # GridParams or None per hidden layer
    activation: str
    out_activation: str

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """Activated outputs (probabilities or regression values) for a validated array."""
        if X.shape[0] <= _CHUNK:
            return self._block(X)
        return np.concatenate([self._block(X[i : i + _CHUNK]) for i in range(0, X.shape[0], _CHUNK)])

    def _block(self, x: np.ndarray) -> np.ndarray:
        if self.input_grid is not None:
            x = self.input_grid(x.copy())
        hidden = HIDDEN_ACTIVATIONS[self.activation]
        *layers, (last_w, last_b) = zip(self.weights, self.biases)
        for (weight, bias), grid in zip(layers, self.activation_grids):
            x = x @ weight
            x += bias
            x = hidden(x)
            if grid is not None:
                x = grid(x)
        out = x @ last_w
        out += last_b
        return OUTPUT_ACTIVATIONS[self.out_activation](out)


def _grid(quantizer, dtype) -> GridParams | None:
    from ._quantizers import Quantizer

    if not isinstance(quantizer, Quantizer):
        return None
    scale = quantizer.effective_scale().detach().cpu().numpy().astype(dtype).reshape(())
    zero = quantizer.effective_zero_point()
    return GridParams(
        scale,
        np.reciprocal(scale),
        0.0 if zero is None else float(zero.item()),
        quantizer.qmin,
        quantizer.qmax,
    )


def plan_from_module(module, coefs, intercepts, out_activation: str) -> InferencePlan:
    """Freeze a fitted ``QuantMLP`` (and its dequantized parameters) for numpy inference."""
    dtype = coefs[0].dtype
    return InferencePlan(
        weights=tuple(np.ascontiguousarray(c) for c in coefs),
        biases=tuple(intercepts),
        input_grid=_grid(module.input_quantizer, dtype),
        activation_grids=tuple(_grid(q, dtype) for q in module.activation_quantizers),
        activation=module.activation,
        out_activation=out_activation,
    )
