"""The hidden activations: one table that every part of skqat looks names up in (numpy; torch on use).

Per name, :class:`Activation` holds the torch function and its backward
kernel (training), the numpy function (``predict``), the ONNX operator, whether
its output is non-negative (an unsigned grid; relu clamps at the zero point),
the integer strategy (``"clamp"``, or ``"table"``: a threshold table built
from the inverse over the output range) and the initialisation gain. Adding a
name here is the one change that admits it; a consumer that meets a name not
in :data:`ACTIVATIONS` raises (:func:`get_activation`).

torch is imported only when a torch function is asked for, so the numpy
readers (``IntegerMLP``, the checks of a loaded file) run without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._head import logistic

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def _logit(v: np.ndarray) -> np.ndarray:
    return np.log(v) - np.log1p(-v)


def _relu_backward(grad, output):
    from ._compat import aten  # torch's private kernels live behind _compat

    return aten.threshold_backward(grad, output, 0.0)


def _tanh_backward(grad, output):
    from ._compat import aten  # torch's private kernels live behind _compat

    return aten.tanh_backward(grad, output)


def _sigmoid_backward(grad, output):
    from ._compat import aten  # torch's private kernels live behind _compat

    return aten.sigmoid_backward(grad, output)


def _pass_through(grad, output):
    return grad


@dataclass(frozen=True)
class Activation:
    """One hidden activation, as every consumer needs it.

    Parameters
    ----------
    name : str
        scikit-learn's name (``activation=``).
    torch_name : str or None
        The torch function's name in the ``torch`` namespace (None: the identity).
    backward : callable
        ``backward(grad, output)``: the gradient through the activation from
        its output, as autograd's kernel computes it (explicit gradients).
    numpy : callable
        The activation on a float array (may work in place).
    onnx_op : str or None
        The ONNX operator (None: the identity, no node).
    nonnegative : bool
        Whether every output is >= 0: the activation grid is unsigned, and
        the integer clamp starts at the zero point.
    integer : {"clamp", "table"}
        How integer inference evaluates it: a clamp of the requantized
        accumulator, or a threshold table on a fine grid.
    inverse : callable or None
        For ``"table"``: the inverse on the open output range.
    output_range : (float, float) or None
        For ``"table"``: the open range of the outputs.
    init_factor : float
        Glorot-uniform bound factor, ``sqrt(factor / (fan_in + fan_out))``,
        as scikit-learn's MLP (2 for logistic, 6 otherwise).
    """

    name: str
    torch_name: str | None
    backward: Callable
    numpy: Callable[[np.ndarray], np.ndarray]
    onnx_op: str | None
    nonnegative: bool
    integer: str
    inverse: Callable[[np.ndarray], np.ndarray] | None = None
    output_range: tuple[float, float] | None = None
    init_factor: float = 6.0

    def torch_function(self) -> Callable:
        """The torch function (imports torch)."""
        import torch

        return (lambda x: x) if self.torch_name is None else getattr(torch, self.torch_name)


#: Every hidden activation skqat trains and exports, by scikit-learn's names.
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", None, _pass_through, lambda x: x, None, nonnegative=False, integer="clamp"),
        Activation("relu", "relu", _relu_backward, _relu, "Relu", nonnegative=True, integer="clamp"),
        Activation(
            "tanh",
            "tanh",
            _tanh_backward,
            np.tanh,
            "Tanh",
            nonnegative=False,
            integer="table",
            inverse=np.arctanh,
            output_range=(-1.0, 1.0),
        ),
        Activation(
            "logistic",
            "sigmoid",
            _sigmoid_backward,
            logistic,
            "Sigmoid",
            nonnegative=True,
            integer="table",
            inverse=_logit,
            output_range=(0.0, 1.0),
            init_factor=2.0,
        ),
    )
}


def get_activation(name: str) -> Activation:
    """The table's entry for ``name``; ValueError for a name skqat does not know."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown activation {name!r}; skqat knows {sorted(ACTIVATIONS)}.") from None
