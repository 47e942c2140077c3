"""Deployable models, all read from a fitted estimator's frozen network.

- :class:`IntegerMLP` (numpy only): integer-only inference, the reference
  every other target is checked against; ``IntegerMLP.to_c`` writes a C99
  header for microcontrollers.
- ``skqat.to_onnx`` (extra ``skqat[onnx]``): float graphs, or onnxruntime's
  integer kernels with ``integer_ops=True``; ``skqat.register_skl2onnx``
  for whole pipelines.
- ``skqat.to_qonnx`` (extra ``skqat[qonnx]``): QONNX for FINN and hls4ml.
"""

from ._integer import IntegerMLP

__all__ = ["IntegerMLP"]
