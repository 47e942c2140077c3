"""Deployable models, all read from a fitted estimator's frozen network.

- :class:`IntegerMLP` (numpy only): integer-only inference, the reference
  every other target is checked against; ``IntegerMLP.to_c`` writes a C99
  header for microcontrollers.
- :func:`export_integer` folds a whole fitted ``Pipeline`` (imputers,
  scalers, encoders, bins) into an :class:`IntegerPipeline` that predicts
  from raw columns, with ``to_c`` and ``skqat.to_onnx(pipeline, X_sample)``.
- ``skqat.to_onnx`` (extra ``skqat[onnx]``): float graphs, or onnxruntime's
  integer kernels with ``integer_ops=True``; ``skqat.register_skl2onnx``
  for whole pipelines.
- ``skqat.to_qonnx`` (extra ``skqat[qonnx]``): QONNX for FINN and hls4ml.
"""

from ._export_integer import export_integer
from ._integer import IntegerMLP
from ._integer_pipeline import IntegerPipeline

__all__ = ["IntegerMLP", "IntegerPipeline", "export_integer"]
