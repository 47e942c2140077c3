"""``IntegerMLP``: a fitted skqat network as integers, with numpy-only inference.

This module imports numpy and nothing else from skqat's training side: a
saved model loads and predicts in a process where torch cannot be imported.

Arithmetic
----------
Every quantized tensor is stored as integer *codes* ``q`` with a float32 scale
``s`` and an integer zero point ``z``; its value is ``s * (q + z)``. The
integer *levels* ``L = q + z`` are what the arithmetic uses. A layer whose
input is quantized (inputs with ``input_bits``, hidden layers with
``activation_bits``) computes

    acc = L_x @ L_w.T + b          (integers, int32 accumulation; int64 when
                                    the widths could overflow int32)
    y   = (s_x * s_w) * acc         (float32 scales per output unit)

with the bias ``b`` stored as int32 codes on the ``s_x * s_w`` grid. The next
layer's input is requantized from ``act(y)`` with the activation grid:
``L = clamp(round(act(y) / s_a) - z_a, q_min, q_max) + z_a``. Requantization
uses float scales rather than fixed-point multipliers (Jacob et al. 2018); the
integer codes and accumulators are exact either way. A layer whose input is
float (the first layer without ``input_bits``) multiplies the float input by
the dequantized weights and adds a float32 bias.

File format
-----------
``save`` writes a numpy ``.npz`` archive (no pickled objects):

- ``format``: the string ``"skqat.IntegerMLP"``; ``format_version``: an int;
- ``meta``: a JSON string with the activation, output activation, layer
  shapes, task and feature names;
- ``classes``: the class labels (classifiers);
- per layer ``i``: ``layer{i}_weight_packed`` (the codes minus ``q_min``,
  packed at ``bits`` bits each, little-endian bit order, row-major), and
  ``layer{i}_weight_grid`` (``[bits, q_min, q_max]``), ``_weight_scale``,
  ``_weight_zero``, ``_bias`` (integer codes in the smallest integer dtype
  that holds them, widened to int32 at load; float32 for a float input);
- optional ``input_grid``/``input_scale``/``input_zero`` and
  ``act{i}_grid``/``act{i}_scale``/``act{i}_zero`` for the input and
  activation quantizers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# numpy-only, like this module: the activations predict uses.
from .._inference import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS

__all__ = ["IntegerMLP", "Grid", "IntegerLayer", "pack_codes", "unpack_codes", "smallest_int_dtype"]

FORMAT = "skqat.IntegerMLP"
FORMAT_VERSION = 1

# Rows per block at predict time: bounds memory on large inputs.
_CHUNK = 65_536


def smallest_int_dtype(low: int, high: int) -> np.dtype:
    """The smallest numpy integer dtype holding ``[low, high]``.

    Examples
    --------
    >>> smallest_int_dtype(-8, 7), smallest_int_dtype(0, 255), smallest_int_dtype(-1, 200)
    (dtype('int8'), dtype('uint8'), dtype('int16'))
    """
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    raise ValueError(f"no integer dtype holds [{low}, {high}]")


def pack_codes(codes: np.ndarray, bits: int, qmin: int) -> np.ndarray:
    """Pack integer codes at ``bits`` bits each into a uint8 array.

    Binary (``bits=1``, codes ``-1``/``+1``) stores one bit per code.

    Examples
    --------
    >>> packed = pack_codes(np.array([-8, 7, 0, -1]), bits=4, qmin=-8)
    >>> packed.nbytes
    2
    >>> unpack_codes(packed, 4, bits=4, qmin=-8)
    array([-8,  7,  0, -1], dtype=int8)
    """
    codes = np.asarray(codes).ravel().astype(np.int64)
    unsigned = (codes > 0).astype(np.int64) if bits == 1 else codes - qmin
    planes = (unsigned[:, None] >> np.arange(bits)) & 1
    return np.packbits(planes.astype(np.uint8).ravel(), bitorder="little")


def unpack_codes(packed: np.ndarray, count: int, bits: int, qmin: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``count`` codes in the smallest integer dtype."""
    planes = np.unpackbits(packed, count=count * bits, bitorder="little").reshape(count, bits)
    unsigned = planes.astype(np.int64) @ (1 << np.arange(bits, dtype=np.int64))
    if bits == 1:
        return (2 * unsigned - 1).astype(np.int8)
    codes = unsigned + qmin
    return codes.astype(smallest_int_dtype(qmin, qmin + 2**bits - 1))


@dataclass
class Grid:
    """A uniform grid ``s * ([q_min, q_max] + z)`` for an input or activation."""

    bits: int
    qmin: int
    qmax: int
    scale: np.ndarray
    zero: np.ndarray

    def levels(self, x: np.ndarray) -> np.ndarray:
        """Integer levels ``q(x) + z`` of the float array ``x``."""
        codes = np.clip(np.round(x / self.scale) - self.zero, self.qmin, self.qmax)
        return (codes + self.zero).astype(np.int32)

    @property
    def nbytes(self) -> int:
        return int(self.scale.nbytes + self.zero.nbytes)

    def to_arrays(self, prefix: str) -> dict:
        return {
            f"{prefix}_grid": np.array([self.bits, self.qmin, self.qmax], dtype=np.int64),
            f"{prefix}_scale": self.scale.astype(np.float32),
            f"{prefix}_zero": self.zero.astype(np.int32),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> Grid:
        bits, qmin, qmax = (int(v) for v in arrays[f"{prefix}_grid"])
        return cls(bits, qmin, qmax, arrays[f"{prefix}_scale"], arrays[f"{prefix}_zero"])


@dataclass
class IntegerLayer:
    """One layer: integer weight codes with their grid, and an int32 (or float32) bias.

    ``weight_codes`` has shape ``(n_out, n_in)``; ``weight_scale`` and
    ``weight_zero`` have shape ``(n_out,)`` (per channel) or ``()``.
    ``bias`` is int32 codes on the ``input_scale * weight_scale`` grid when the
    layer's input is quantized, float32 otherwise.
    """

    weight_codes: np.ndarray
    bits: int
    qmin: int
    qmax: int
    weight_scale: np.ndarray
    weight_zero: np.ndarray
    bias: np.ndarray
    _levels: np.ndarray | None = field(default=None, repr=False)

    @property
    def weight_levels(self) -> np.ndarray:
        """``q + z`` per weight, the integers the accumulation multiplies (cached)."""
        if self._levels is None:
            zero = np.reshape(self.weight_zero, (-1, 1)) if self.weight_zero.ndim else self.weight_zero
            self._levels = self.weight_codes.astype(np.int32) + zero.astype(np.int32)
        return self._levels

    def dequantized_weight(self) -> np.ndarray:
        scale = np.reshape(self.weight_scale, (-1, 1)) if self.weight_scale.ndim else self.weight_scale
        return scale.astype(np.float64) * self.weight_levels

    @property
    def packed_nbytes(self) -> int:
        weight = int(np.ceil(self.weight_codes.size * self.bits / 8))
        return weight + self.weight_scale.nbytes + self.weight_zero.nbytes + self.stored_bias().nbytes

    def stored_bias(self) -> np.ndarray:
        """The bias as stored: integer codes in the smallest dtype that holds them (int32 in arithmetic)."""
        if self.bias.dtype.kind != "i" or self.bias.size == 0:
            return self.bias
        return self.bias.astype(smallest_int_dtype(int(self.bias.min()), int(self.bias.max())))

    def to_arrays(self, prefix: str) -> dict:
        return {
            f"{prefix}_weight_packed": pack_codes(self.weight_codes, self.bits, self.qmin),
            f"{prefix}_weight_grid": np.array([self.bits, self.qmin, self.qmax], dtype=np.int64),
            f"{prefix}_weight_shape": np.array(self.weight_codes.shape, dtype=np.int64),
            f"{prefix}_weight_scale": self.weight_scale.astype(np.float32),
            f"{prefix}_weight_zero": self.weight_zero.astype(np.int32),
            f"{prefix}_bias": self.stored_bias(),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> IntegerLayer:
        bits, qmin, qmax = (int(v) for v in arrays[f"{prefix}_weight_grid"])
        shape = tuple(int(v) for v in arrays[f"{prefix}_weight_shape"])
        codes = unpack_codes(arrays[f"{prefix}_weight_packed"], int(np.prod(shape)), bits, qmin).reshape(
            shape
        )
        return cls(
            codes,
            bits,
            qmin,
            qmax,
            arrays[f"{prefix}_weight_scale"],
            arrays[f"{prefix}_weight_zero"],
            _widen(arrays[f"{prefix}_bias"]),
        )


def _widen(bias: np.ndarray) -> np.ndarray:
    """Integer bias codes back to the int32 the accumulation adds."""
    return bias.astype(np.int32) if bias.dtype.kind in "iu" else bias


class IntegerMLP:
    """A quantized MLP as integers, with numpy-only inference.

    Build one with ``QuantizedMLPClassifier.export_integer()`` or
    ``QuantizedMLPRegressor.export_integer()``, or load one with
    :meth:`load`. See the module docstring for the arithmetic and the file
    format.

    Parameters
    ----------
    layers : list of IntegerLayer
    activation : str
        Hidden activation: ``"relu"``, ``"tanh"``, ``"logistic"`` or ``"identity"``.
    out_activation : str
        ``"softmax"``, ``"logistic"`` or ``"identity"``.
    input_grid : Grid or None
        Quantizer of the input features.
    activation_grids : list of (Grid or None)
        Quantizer of each hidden layer's output.
    classes : ndarray or None
        Class labels for a classifier; ``None`` for a regressor.
    multilabel : bool, default=False
    feature_names : list of str or None, default=None

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=300,
    ...                              learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> model = clf.export_integer()
    >>> bool((model.predict(X) == clf.predict(X)).mean() > 0.99)
    True
    >>> model.nbytes < model.float32_nbytes
    True
    """

    def __init__(
        self,
        layers,
        activation,
        out_activation,
        input_grid=None,
        activation_grids=None,
        classes=None,
        multilabel=False,
        feature_names=None,
    ):
        self.layers = list(layers)
        self.activation = activation
        self.out_activation = out_activation
        self.input_grid = input_grid
        self.activation_grids = list(activation_grids or [None] * (len(self.layers) - 1))
        self.classes_ = None if classes is None else np.asarray(classes)
        self.multilabel = bool(multilabel)
        self.feature_names = None if feature_names is None else list(feature_names)

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    @property
    def n_features_in_(self) -> int:
        return self.layers[0].weight_codes.shape[1]

    def _check_X(self, X) -> np.ndarray:
        if hasattr(X, "columns") and self.feature_names is not None:
            X = X[self.feature_names]
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in_}), got {X.shape}; pass the features "
                "the model was trained on, in the same order."
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity; impute or drop those values before predicting.")
        return X

    def _layer(self, layer: IntegerLayer, x, input_scale):
        """One layer's pre-activation output (float64)."""
        if input_scale is None:
            return x @ layer.dequantized_weight().T + layer.bias
        acc_dtype = np.int32 if self._fits_int32(layer, x) else np.int64
        acc = x.astype(acc_dtype) @ layer.weight_levels.T.astype(acc_dtype) + layer.bias.astype(acc_dtype)
        return acc * (np.float64(input_scale) * layer.weight_scale.astype(np.float64))

    @staticmethod
    def _fits_int32(layer, x) -> bool:
        bound = float(np.abs(x).max(initial=0)) * float(np.abs(layer.weight_levels).max(initial=0))
        return bound * layer.weight_codes.shape[1] + float(np.abs(layer.bias).max(initial=0)) < 2**31 - 1

    def _raw(self, X: np.ndarray) -> np.ndarray:
        x, scale = X, None
        if self.input_grid is not None:
            x, scale = self.input_grid.levels(X), self.input_grid.scale
        act = HIDDEN_ACTIVATIONS[self.activation]
        *hidden, last = self.layers
        for layer, grid in zip(hidden, self.activation_grids):
            x = act(self._layer(layer, x, scale))
            x, scale = (grid.levels(x), grid.scale) if grid is not None else (x, None)
        return self._layer(last, x, scale)

    def _outputs(self, X) -> np.ndarray:
        X = self._check_X(X)
        raw = np.concatenate(
            [self._raw(X[i : i + _CHUNK]) for i in range(0, len(X), _CHUNK)]
            or [np.zeros((0, self.layers[-1].weight_codes.shape[0]))]
        )
        return OUTPUT_ACTIVATIONS[self.out_activation](raw)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (classifiers only), as the estimator's ``predict_proba``."""
        if self.classes_ is None:
            raise AttributeError("predict_proba is only available for classifiers.")
        outputs = self._outputs(X)
        if outputs.shape[1] == 1 and not self.multilabel:
            return np.hstack([1.0 - outputs, outputs])
        return outputs

    def predict(self, X) -> np.ndarray:
        """Predicted labels (classifier) or values (regressor)."""
        outputs = self._outputs(X)
        if self.classes_ is None:
            return outputs.ravel() if outputs.shape[1] == 1 else outputs
        if self.multilabel:
            return (outputs > 0.5).astype(int)
        if outputs.shape[1] == 1:
            return self.classes_[(outputs[:, 0] > 0.5).astype(int)]
        return self.classes_[outputs.argmax(axis=1)]

    # ------------------------------------------------------------------
    # Size
    # ------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Packed size in bytes: codes at their bit width, scales, zero points, biases, grids."""
        grids = [g for g in [self.input_grid, *self.activation_grids] if g is not None]
        return sum(layer.packed_nbytes for layer in self.layers) + sum(g.nbytes for g in grids)

    @property
    def float32_nbytes(self) -> int:
        """Size of the same network's weights and biases in float32."""
        return sum(4 * (layer.weight_codes.size + layer.bias.size) for layer in self.layers)

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to ``path`` (``.npz``), see the module docstring for the format."""
        meta = {
            "activation": self.activation,
            "out_activation": self.out_activation,
            "n_layers": len(self.layers),
            "multilabel": self.multilabel,
            "feature_names": self.feature_names,
            "has_classes": self.classes_ is not None,
        }
        arrays = {
            "format": np.array(FORMAT),
            "format_version": np.array(FORMAT_VERSION),
            "meta": np.array(json.dumps(meta)),
        }
        if self.classes_ is not None:
            classes = self.classes_
            arrays["classes"] = classes.astype(str) if classes.dtype == object else classes
        for i, layer in enumerate(self.layers):
            arrays.update(layer.to_arrays(f"layer{i}"))
        if self.input_grid is not None:
            arrays.update(self.input_grid.to_arrays("input"))
        for i, grid in enumerate(self.activation_grids):
            if grid is not None:
                arrays.update(grid.to_arrays(f"act{i}"))
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub reads it as allow_pickle

    @classmethod
    def load(cls, path) -> IntegerMLP:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ValueError
            If the file is not an skqat integer model, or its format version
            is newer than this skqat understands.
        """
        with np.load(Path(path), allow_pickle=False) as arrays:
            if "format" not in arrays or str(arrays["format"]) != FORMAT:
                raise ValueError(f"{path} is not an skqat IntegerMLP file.")
            version = int(arrays["format_version"])
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"{path} uses IntegerMLP format version {version}; this skqat reads up to "
                    f"{FORMAT_VERSION}. Upgrade skqat."
                )
            meta = json.loads(str(arrays["meta"]))
            layers = [IntegerLayer.from_arrays(arrays, f"layer{i}") for i in range(meta["n_layers"])]
            input_grid = Grid.from_arrays(arrays, "input") if "input_grid" in arrays else None
            grids = [
                Grid.from_arrays(arrays, f"act{i}") if f"act{i}_grid" in arrays else None
                for i in range(meta["n_layers"] - 1)
            ]
            classes = arrays["classes"] if meta["has_classes"] else None
        return cls(
            layers,
            meta["activation"],
            meta["out_activation"],
            input_grid,
            grids,
            classes,
            meta["multilabel"],
            meta["feature_names"],
        )

    def __repr__(self) -> str:
        shapes = [layer.weight_codes.shape[::-1] for layer in self.layers]
        bits = [layer.bits for layer in self.layers]
        return f"IntegerMLP(layers={shapes}, bits={bits}, nbytes={self.nbytes})"
