"""``IntegerMLP``: integer-only inference from a fitted model's frozen network (numpy only).

The reference every export target (C, ONNX integer graph, QONNX) is checked
against. This module imports numpy and skqat's numpy-only modules: a saved
model loads and predicts where torch cannot be imported.

Arithmetic (Jacob et al. 2018)
------------------------------
Grids follow :mod:`skqat._frozen`'s convention,
``q = clamp(round(x * (1/s) + zp), q_min, q_max)`` (``1/s`` rounded once in the
float type, ``zp`` added before rounding half to even).
Float appears at two places only: where :meth:`IntegerMLP.quantize_input`
turns the features into input codes (with learned input widths, each
feature's codes on its window, :func:`skqat._frozen.window_codes`), and where
logits become probabilities or regression values. In between, for each layer with input codes ``q_x``
(zero point ``zp_x``) and weight codes ``q_w`` (``zp_w`` per tensor or per
output unit):

- ``acc = (q_x - zp_x) @ (q_w - zp_w).T + b``, exact integers (int32, or
  int64 where the code widths could overflow int32), with ``b`` the int32
  bias codes on ``s_x * s_w`` (``s_w`` alone under a per-feature input grid,
  whose scales live in the first layer's weights). numpy computes it with a
  float GEMM where that is exact (:mod:`skqat._integer_inference`, which the
  estimators' ``predict`` runs too);
- hidden layers requantize ``acc`` to the next grid with the multiplier
  ``M = s_x * s_w / s_out``: ``requantize="fixed_point"`` (default) uses an
  int32 multiplier and shift rounded as TFLite/gemmlowp do
  (:mod:`skqat._fixed_point`), ``requantize="float32"`` the float32
  multiplier rounded half to even that onnxruntime's integer kernels use;
- relu and identity are integer clamps of ``M * acc + zp_out``; tanh and
  logistic requantize to a fine grid (``s_out / 256``) and look the output
  code up in a sorted table of the pre-activation thresholds where it steps
  up (FINN's multi-threshold form: exact for any monotone activation up to
  the fine grid);
- the last layer's ``acc`` are the int32 logits, on one scale
  ``logit_scale`` (per-channel weight scales are first requantized to the
  largest of them).

File format (version 3)
-----------------------
``save`` writes a numpy ``.npz`` archive (no pickled objects) holding the
frozen record: ``format``, ``format_version``, ``meta`` (JSON: the head's
kind and feature names among others), ``classes`` (a classifier's),
per layer ``layer{i}_*`` (codes packed at their bit width, grid, scales and
zero points in the training float type, int32 bias codes, the float bias,
requantization multipliers and thresholds), and ``input_*``/``act{i}_*`` for
the grids. Nothing is recomputed on load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._frozen import FrozenGrid, quantize_codes
from .._head import LabelHead
from .._integer_inference import REQUANTIZE_MODES, IntegerPlan
from ._model_file import network_arrays, read_network

__all__ = ["IntegerMLP", "off_window"]


def off_window(codes: np.ndarray, window) -> tuple[int, int] | None:
    """``(feature, code)`` of the first code off its feature's window of learned widths, or None.

    The codes :func:`skqat._frozen.window_codes` gives feature ``j`` are
    ``low[j] + step[j] * k`` for ``k`` in ``[0, levels[j] - 1]``; ``window``
    is ``(low, step, levels)`` (None: no window, every code is on it).

    Examples
    --------
    >>> window = (np.array([0, 10]), np.array([1, 4]), np.array([2, 1]))
    >>> off_window(np.array([[1, 10], [0, 10]]), window) is None
    True
    >>> off_window(np.array([[1, 10], [0, 14]]), window)
    (1, 14)
    """
    if window is None or not np.size(codes):
        return None
    low, step, levels = (np.asarray(w, np.int64) for w in window)
    k, rest = np.divmod(np.asarray(codes, np.int64) - low, step)
    bad = (rest != 0) | (k < 0) | (k >= levels)
    if not bad.any():
        return None
    row, feature = np.argwhere(bad)[0]
    return int(feature), int(codes[row, feature])


class IntegerMLP:
    """A quantized MLP on integers only, with numpy inference (see the module docstring).

    Build one with ``export_integer()`` on a fitted estimator, or :meth:`load`.

    Parameters
    ----------
    network : FrozenNetwork
        The fitted model's frozen record (``integer`` must hold: every layer
        quantized, input and activation grids present).
    requantize : {"fixed_point", "float32"}, default="fixed_point"
        How accumulators are requantized between layers. The network's head
        (:mod:`skqat._head`) says what the logits mean: the output kind, the
        classes and the feature names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=300,
    ...                              learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> model = clf.export_integer()
    >>> codes = model.quantize_input(X[:2])
    >>> codes.dtype, model.integer_logits(codes).dtype
    (dtype('int8'), dtype('int32'))
    >>> bool((model.predict(X) == clf.predict(X)).all())   # predict is this model
    True
    """

    def __init__(self, network, *, requantize="fixed_point"):
        self.network = network
        self.requantize = requantize
        # The arithmetic, prepared once (the estimators' predict runs the same plan).
        self._plan = IntegerPlan(network, requantize)

    # ------------------------------------------------------------------
    # Structure
    # ------------------------------------------------------------------
    @property
    def layers(self) -> tuple:
        """The frozen layers (``weight_codes``, ``weight_grid``, ``bias_codes``, ``requantization``)."""
        return self.network.layers

    @property
    def input_grid(self) -> FrozenGrid:
        return self.network.input_grid

    @property
    def activation_grids(self) -> tuple:
        return self.network.activation_grids

    @property
    def activation(self) -> str:
        return self.network.activation

    @property
    def out_activation(self) -> str:
        return self.network.out_activation

    @property
    def head(self) -> LabelHead:
        """What the logits mean: output kind, classes, feature names (:class:`~skqat._head.LabelHead`)."""
        return self.network.head

    @property
    def classes_(self) -> np.ndarray | None:
        """Class labels of a classifier; None for a regressor."""
        return self.head.classes

    @property
    def multilabel(self) -> bool:
        """Whether the classifier predicts an indicator matrix (one logistic output per label)."""
        return self.head.kind == "multilabel"

    @property
    def feature_names(self) -> list | None:
        """The fitted estimator's ``feature_names_in_`` (as strings), or None."""
        names = self.head.feature_names
        return None if names is None else list(names)

    @property
    def logit_scale(self) -> float:
        """Real value of one unit of :meth:`integer_logits`."""
        return float(self.network.logit_scale)

    @property
    def n_features_in_(self) -> int:
        return self.network.n_features

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def _check_X(self, X) -> np.ndarray:
        if hasattr(X, "columns") and self.feature_names is not None:
            X = X[self.feature_names]
        X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
        if X.dtype.kind != "f":
            # Through float64 first, as scikit-learn's validation in the estimators' predict.
            X = X.astype(np.float64)
        X = X.astype(self.network.dtype, copy=False)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in_}), got {X.shape}; pass the features "
                "the model was trained on, in the same order."
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity; impute or drop those values before predicting.")
        return X

    def quantize_input(self, X) -> np.ndarray:
        """Input codes of the features ``X`` on the input grid (the only float step before the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features), smallest integer dtype of the grid
        """
        return quantize_codes(self._check_X(X), self.input_grid)

    def _check_codes(self, codes) -> np.ndarray:
        codes = np.asarray(codes)
        grid = self.input_grid
        if codes.ndim != 2 or codes.shape[1] != self.n_features_in_ or codes.dtype.kind not in "iu":
            raise ValueError(
                f"codes must be an integer array of shape (n_samples, {self.n_features_in_}); "
                "get them from quantize_input(X)."
            )
        if codes.size and (codes.min() < grid.qmin or codes.max() > grid.qmax):
            raise ValueError(f"input codes must lie in [{grid.qmin}, {grid.qmax}], the input grid's range.")
        off = off_window(codes, grid.window)
        if off is not None:
            raise ValueError(
                f"input code {off[1]} of feature {off[0]} is not one of its learned width's codes "
                "(low + step * k, k in [0, levels - 1]: input_grid.window); get the codes from "
                "quantize_input(X)."
            )
        return codes

    def integer_logits(self, codes) -> np.ndarray:
        """int32 logits from input codes, with integer operations only.

        Parameters
        ----------
        codes : array-like of int, shape (n_samples, n_features)
            Input codes, as :meth:`quantize_input` returns them.

        Returns
        -------
        ndarray of int32, shape (n_samples, n_outputs)
            Multiply by :attr:`logit_scale` for the real logits.
        """
        codes = self._check_codes(codes)
        return self._plan.logits_from_levels(codes.astype(np.int64) - np.asarray(self.input_grid.zero_point))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the integer logits (classifiers only)."""
        if not self.head.is_classifier:
            raise AttributeError("predict_proba is only available for classifiers.")
        return self.head.proba(self._plan.outputs(self._check_X(X)))

    def predict(self, X) -> np.ndarray:
        """Labels from the integer logits (the head's rules), or regression values (exp for Poisson)."""
        X = self._check_X(X)
        if not self.head.is_classifier:
            return self.head.values(self._plan.outputs(X))
        return self._plan.labels(X)

    # ------------------------------------------------------------------
    # Size
    # ------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Packed size in bytes (:meth:`FrozenNetwork.nbytes`, the count the report uses)."""
        return self.network.nbytes()

    @property
    def float32_nbytes(self) -> int:
        """Size of the same network's weights and biases in float32."""
        return self.network.float32_nbytes()

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def to_c(self, path, name: str = "skqat_model") -> Path:
        """Write a self-contained C99 header for microcontrollers (see :mod:`skqat.export._c`).

        The header computes :meth:`integer_logits` bit for bit (fixed point):
        weight tables bit-packed at their width in ``const`` memory, no heap,
        no libm (but ``exp`` for a Poisson regressor); ``NAME_predict``,
        ``NAME_logits``, ``NAME_logits_from_codes`` and
        ``NAME_quantize_input``, all ``static inline``.

        Parameters
        ----------
        path : str or Path
            File to write, or an existing directory (``<name>.h`` inside it).
        name : str, default="skqat_model"
            C identifier prefixing every function, type and table
            (upper-cased for the macros).

        Returns
        -------
        Path
            The header written.
        """
        from ._c import write_c_header

        return write_c_header(self, path, name)

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to ``path`` (``.npz``), see the module docstring for the format."""
        with open(path, "wb") as f:
            # numpy's stub reads the keyword arguments as allow_pickle.
            np.savez_compressed(f, **network_arrays(self.network, self.requantize))

    @classmethod
    def load(cls, path) -> IntegerMLP:
        """Read a model written by :meth:`save`, checking everything it reads first.

        Raises
        ------
        ValueError
            If the file is not an skqat integer model, has another format
            version, or any field is damaged (missing, of the wrong type or
            shape, out of range, not finite, or claiming more data than the
            file holds); the message names the file and the field.
        """
        network, requantize = read_network(path)
        if requantize not in REQUANTIZE_MODES:
            raise ValueError(f"{path} is not a valid skqat model: meta 'requantize' is {requantize!r}.")
        return cls(network, requantize=requantize)

    def __repr__(self) -> str:
        shapes = [layer.shape[::-1] for layer in self.layers]
        bits = [layer.weight_grid.bits for layer in self.layers]
        return (
            f"IntegerMLP(layers={shapes}, bits={bits}, nbytes={self.nbytes}, requantize={self.requantize!r})"
        )
