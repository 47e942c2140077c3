"""ONNX export of fitted skqat estimators (extra ``skqat[onnx]``).

The graph repeats ``predict``'s arithmetic in the estimator's training dtype
(float32 for float32 training data, float64 otherwise), operation for
operation, so it computes the same numbers; ``dtype=np.float32`` forces a
float32 graph for a float64 model, at the price of rare one-step differences
in rounded activations.

- Weights are int8 (int32 above 8 bits) initializers holding the integer
  codes, turned into values by ``Mul(Add(Cast(codes), z), s)`` with their
  per-tensor or per-channel scale ``s`` and zero point ``z``. Not
  ``DequantizeLinear``: onnxruntime's full graph optimization fuses it with
  ``MatMul`` into kernels that also quantize the activations on the fly,
  which changes the results by up to 1e-3 in probability; the ``Cast`` form is
  constant-folded into exact float weights when the session loads.
- Inputs and hidden activations are fake-quantized with
  ``Mul(Add(Clip(Round(Sub(Mul(x, 1/s), z)), q_min, q_max), z), s)`` (no
  ``Sub``/``Add`` when ``z = 0``), valid for any bit width (``QuantizeLinear``
  offers 8- and 16-bit ranges only).
- Biases are the estimator's ``intercepts_``.
- Classifiers output ``label`` and ``probabilities`` as skl2onnx classifiers
  do (``label`` int64 or string, one per row; a 0/1 int64 matrix for multilabel
  targets); regressors output ``variable``.

The same builder serves :func:`to_onnx` and the converter that
:func:`skqat.register_skl2onnx` registers for whole pipelines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["to_onnx"]

#: Opset of the standalone graphs (per-axis DequantizeLinear needs 13).
DEFAULT_OPSET = 17

_HIDDEN = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}


def require_onnx():
    """Import ``onnx`` or explain how to install it."""
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "ONNX export needs the onnx package; install it with: pip install 'skqat[onnx]'"
        ) from exc
    return onnx


def onnx_type(dtype) -> int:
    """The ONNX element type of a numpy dtype."""
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class GraphBuilder(ABC):
    """Adds constants and nodes to some ONNX graph; subclasses say where."""

    @abstractmethod
    def constant(self, hint: str, array: np.ndarray) -> str:
        """Add an initializer holding ``array``; return its name."""

    @abstractmethod
    def node(self, op_type: str, inputs: list[str], hint: str, output: str | None = None, **attrs) -> str:
        """Add a node with one output (named ``output``, or a fresh name); return that name."""


class StandaloneGraph(GraphBuilder):
    """Collects nodes and initializers for :func:`onnx.helper.make_graph`."""

    def __init__(self):
        self.nodes, self.initializers, self._count = [], [], 0

    def _name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, array):
        from onnx import numpy_helper

        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type, inputs, hint, output=None, **attrs):
        from onnx import helper

        output = output or self._name(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=self._name(op_type), **attrs))
        return output


def graph_dtype(estimator, dtype=None) -> np.dtype:
    """The float dtype a graph computes in: ``dtype``, or the estimator's training dtype."""
    if dtype is not None:
        return np.dtype(dtype)
    return np.dtype(estimator._spec["dtype"])


def _scale(quantizer, dtype) -> np.ndarray:
    """A quantizer's scale exactly as the training dtype holds it, then cast."""
    return quantizer.effective_scale().detach().cpu().numpy().astype(dtype)


def _fake_quantize(g: GraphBuilder, x: str, quantizer, hint: str, dtype) -> str:
    """``s * (clip(round(x * (1/s) - z), q_min, q_max) + z)``, in the order of operations of training."""
    scale = _scale(quantizer, dtype).reshape(())
    zero = quantizer.effective_zero_point()
    zero = None if zero is None else np.asarray(zero.item(), dtype)
    u = g.node("Mul", [x, g.constant(f"{hint}_inv", np.reciprocal(scale))], f"{hint}_u")
    if zero is not None:
        u = g.node("Sub", [u, g.constant(f"{hint}_z", zero)], f"{hint}_shift")
    low = g.constant(f"{hint}_low", np.asarray(quantizer.qmin, dtype))
    high = g.constant(f"{hint}_high", np.asarray(quantizer.qmax, dtype))
    levels = g.node("Clip", [g.node("Round", [u], f"{hint}_round"), low, high], f"{hint}_codes")
    if zero is not None:
        levels = g.node("Add", [levels, g.constant(f"{hint}_z", zero)], f"{hint}_levels")
    return g.node("Mul", [levels, g.constant(f"{hint}_s", scale)], f"{hint}_q")


def _weight(g: GraphBuilder, layer, quantizer, hint: str, dtype) -> str:
    """The dequantized weight as an (n_in, n_out) matrix: ``Mul(Add(Cast(codes), z), s)``."""
    codes = layer.weight_codes.T
    int_dtype = np.int8 if -128 <= codes.min() and codes.max() <= 127 else np.int32
    levels = g.node(
        "Cast", [g.constant(f"{hint}_codes", codes.astype(int_dtype))], f"{hint}_cast", to=onnx_type(dtype)
    )
    zero = np.asarray(layer.weight_zero)
    if np.any(zero):
        levels = g.node("Add", [levels, g.constant(f"{hint}_zero", zero.astype(dtype))], f"{hint}_levels")
    scale = _scale(quantizer, dtype).reshape(np.shape(layer.weight_scale))
    return g.node("Mul", [levels, g.constant(f"{hint}_scale", scale)], f"{hint}_w")


def build_network(g: GraphBuilder, estimator, x: str, dtype) -> str:
    """Nodes from the input ``x`` (already of ``dtype``) to the raw output (logits); returns its name."""
    from .._quantizers import Quantizer

    module = estimator._module
    model = estimator.export_integer()
    if module.input_quantizer is not None:
        x = _fake_quantize(g, x, module.input_quantizer, "input", dtype)
    for i, (layer, torch_layer) in enumerate(zip(model.layers, module.layers)):
        weight = _weight(g, layer, torch_layer.weight_quantizer, f"layer{i}", dtype)
        bias = g.constant(f"layer{i}_bias", np.asarray(estimator.intercepts_[i], dtype))
        x = g.node("Add", [g.node("MatMul", [x, weight], f"layer{i}_mm"), bias], f"layer{i}_out")
        if i < len(module.activation_quantizers):
            if model.activation in _HIDDEN:
                x = g.node(_HIDDEN[model.activation], [x], f"layer{i}_act")
            quantizer = module.activation_quantizers[i]
            if isinstance(quantizer, Quantizer):
                x = _fake_quantize(g, x, quantizer, f"act{i}", dtype)
    return x


def _label_values(classes: np.ndarray) -> np.ndarray:
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64)
    return classes.astype(str).astype(object)


def is_multilabel(estimator) -> bool:
    return estimator._label_binarizer.y_type_.startswith("multilabel")


def probability_columns(estimator) -> int:
    """Columns of ``probabilities``: two for a binary classifier's single logistic output."""
    binary = estimator.out_activation_ == "logistic" and not is_multilabel(estimator)
    return 2 if binary else estimator.n_outputs_


def build_classifier_heads(
    g: GraphBuilder, estimator, raw: str, label: str, probabilities: str, dtype
) -> None:
    """``probabilities`` (n, n_columns) and ``label`` outputs from the logits."""
    if estimator.out_activation_ == "softmax":
        g.node("Softmax", [raw], "proba", output=probabilities, axis=1)
    else:
        positive = g.node("Sigmoid", [raw], "sigmoid")
        if is_multilabel(estimator):
            g.node("Identity", [positive], "proba", output=probabilities)
            above = g.node("Greater", [positive, g.constant("half", np.asarray(0.5, dtype))], "above")
            g.node("Cast", [above], "label", output=label, to=onnx_type(np.int64))
            return
        negative = g.node("Sub", [g.constant("one", np.asarray(1.0, dtype)), positive], "negative")
        g.node("Concat", [negative, positive], "proba", output=probabilities, axis=1)
    # ArgMax keeps the first index on ties: a binary label is 1 only when p > 0.5, as in predict.
    index = g.node("ArgMax", [probabilities], "argmax", axis=1, keepdims=0)
    g.node("Gather", [g.constant("classes", _label_values(estimator.classes_)), index], "label", output=label)


def build_regressor_head(g: GraphBuilder, raw: str, output: str) -> None:
    g.node("Identity", [raw], "variable", output=output)


def to_onnx(estimator, X_sample=None, *, dtype=None, name: str = "skqat", target_opset: int = DEFAULT_OPSET):
    """Export a fitted skqat estimator as an ONNX model that onnxruntime runs.

    Parameters
    ----------
    estimator : QuantizedMLPClassifier or QuantizedMLPRegressor
        A fitted estimator whose layers all have quantized weights.
    X_sample : array-like of shape (n_samples, n_features), default=None
        Only checked for its number of features; the graph's input is ``X``
        of shape ``(None, n_features)``.
    dtype : {np.float32, np.float64} or None, default=None
        Dtype of the input and the computation; ``None`` takes the
        estimator's training dtype, which reproduces ``predict``.
    name : str, default="skqat"
        Graph name.
    target_opset : int, default=17
        ONNX opset of the main domain (13 or newer).

    Returns
    -------
    onnx.ModelProto
        Input ``X``. Outputs ``label`` and ``probabilities`` for a classifier,
        ``variable`` for a regressor.

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=300,
    ...                              learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> session = ort.InferenceSession(to_onnx(clf, X).SerializeToString())
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool((labels == clf.predict(X)).all()), bool(np.abs(proba - clf.predict_proba(X)).max() < 1e-9)
    (True, True)
    """
    onnx = require_onnx()
    from onnx import TensorProto, helper

    n_features = estimator.n_features_in_
    if X_sample is not None and np.shape(X_sample)[-1] != n_features:
        raise ValueError(
            f"X_sample has {np.shape(X_sample)[-1]} features; the estimator expects {n_features}."
        )
    dtype = graph_dtype(estimator, dtype)
    float_type = onnx_type(dtype)
    g = StandaloneGraph()
    raw = build_network(g, estimator, "X", dtype)
    if hasattr(estimator, "classes_"):
        build_classifier_heads(g, estimator, raw, "label", "probabilities", dtype)
        multilabel = is_multilabel(estimator)
        label_type = (
            TensorProto.INT64 if multilabel or estimator.classes_.dtype.kind in "iub" else TensorProto.STRING
        )
        outputs = [
            helper.make_tensor_value_info(
                "label", label_type, [None, estimator.n_outputs_] if multilabel else [None]
            ),
            helper.make_tensor_value_info(
                "probabilities", float_type, [None, probability_columns(estimator)]
            ),
        ]
    else:
        build_regressor_head(g, raw, "variable")
        outputs = [helper.make_tensor_value_info("variable", float_type, [None, estimator.n_outputs_])]
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info("X", float_type, [None, n_features])],
        outputs,
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", target_opset)], producer_name="skqat"
    )
    model.ir_version = min(model.ir_version, 9)  # readable by onnxruntime releases of recent years
    onnx.checker.check_model(model)
    return model
