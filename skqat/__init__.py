"""skqat: learned quantization for scikit-learn multilayer perceptrons.

Quantization-aware training of MLPs on a PyTorch backend, behind
scikit-learn's estimator API, and export to integer models.

The estimators (which need torch) are imported on first use, so that
``skqat.export`` and its numpy-only ``IntegerMLP`` load in processes without
torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> module that defines it, imported on first attribute access.
_LAZY = {
    "QuantizedMLPClassifier": "skqat._classifier",
    "QuantizedMLPRegressor": "skqat._regressor",
    "IntegerMLP": "skqat.export._integer",
    "IntegerPipeline": "skqat.export._integer_pipeline",
    "export_integer": "skqat.export._export_integer",
    "to_onnx": "skqat.export._onnx",
    "to_qonnx": "skqat.export._qonnx",
    "register_skl2onnx": "skqat.export._skl2onnx",
}

#: Types a skops file of a fitted skqat estimator holds beyond skops' defaults:
#: ``skops.io.load(path, trusted=skqat.SKOPS_TRUSTED_TYPES)``.
SKOPS_TRUSTED_TYPES = [
    "skqat._classifier.QuantizedMLPClassifier",
    "skqat._regressor.QuantizedMLPRegressor",
    "skqat._training.ProgressMonitor",
    "skqat._frozen.FrozenNetwork",
    "skqat._frozen.FrozenLayer",
    "skqat._frozen.FrozenGrid",
    "skqat._frozen.Requantization",
    "skqat._head.LabelHead",
]

__all__ = [*_LAZY, "SKOPS_TRUSTED_TYPES", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skqat' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
