"""Deployable models: numpy-only integer inference, and ONNX.

``skqat.export.IntegerMLP`` imports numpy only; ONNX export needs the
``skqat[onnx]`` extra.
"""

from ._integer import IntegerMLP

__all__ = ["IntegerMLP"]
