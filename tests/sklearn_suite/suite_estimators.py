"""The estimators the adapted scikit-learn suite tests, chosen by ``SKQAT_SUITE_MODE``.

* ``control``: scikit-learn's own ``MLPClassifier``/``MLPRegressor``;
* ``float``: skqat's estimators with ``weight_bits=None, activation_bits=None``;
* ``8bit``: skqat's estimators with their defaults (8-bit weights and activations).

The skqat classes differ from skqat's own only in those defaults, so
scikit-learn's tests exercise exactly what a user gets.
"""

from __future__ import annotations

import functools
import inspect
import os

MODE = os.environ.get("SKQAT_SUITE_MODE", "8bit")
MODES = ("control", "float", "8bit")
if MODE not in MODES:
    raise ValueError(f"SKQAT_SUITE_MODE={MODE!r}: expected one of {MODES}.")


def _with_defaults(cls, name: str, **defaults):
    """A subclass of ``cls`` named ``name`` whose ``__init__`` has other defaults (seen by get_params)."""
    signature = inspect.signature(cls.__init__)
    parameters = [
        p.replace(default=defaults[p.name]) if p.name in defaults else p
        for p in signature.parameters.values()
    ]

    @functools.wraps(cls.__init__)
    def __init__(self, *args, **kwargs):
        bound = inspect.signature(__init__).bind(self, *args, **kwargs)
        bound.apply_defaults()
        cls.__init__(*bound.args, **bound.kwargs)

    __init__.__signature__ = signature.replace(parameters=parameters)
    return type(name, (cls,), {"__init__": __init__, "__module__": __name__})


if MODE == "control":
    from sklearn.neural_network import MLPClassifier, MLPRegressor
else:
    from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

    _bits = {"weight_bits": None, "activation_bits": None} if MODE == "float" else {}
    MLPClassifier = _with_defaults(QuantizedMLPClassifier, "MLPClassifier", **_bits)
    MLPRegressor = _with_defaults(QuantizedMLPRegressor, "MLPRegressor", **_bits)


def no_improvement_count(estimator) -> int:
    """Epochs since the last improvement: scikit-learn's private counter, or skqat's monitor's."""
    if hasattr(estimator, "_no_improvement_count"):
        return estimator._no_improvement_count
    return estimator._monitor.no_improvement_count


__all__ = ["MLPClassifier", "MLPRegressor", "MODE", "no_improvement_count"]
