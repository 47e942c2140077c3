"""ONNX export of fitted skqat estimators (extra ``skqat[onnx]``).

Both graphs read the fitted model's frozen record (:mod:`skqat._frozen`,
``estimator._frozen``) and nothing else.

Default graph of an integer model
---------------------------------
A model trained integer-only (``predict_arithmetic_ == "integer"``, the
default) predicts with the integer model; its default graph restates that
arithmetic, TFLite's fixed-point requantization included, in standard
float64 operators, exactly (:mod:`skqat.export._onnx_exact`): labels equal
``predict``'s on every row, probabilities to a few ulps (onnxruntime's exp
is not numpy's). ``dtype`` then sets only the input's type.

Float graph (the default for other models)
------------------------------------------
``predict`` (:mod:`skqat._inference`) restated operation for operation, in
the training dtype unless ``dtype`` says otherwise:

- inputs and hidden activations on a trained grid (not the calibrated ones,
  which ``predict`` does not apply):
  ``Mul(Sub(Clip(Round(Add(Mul(x, 1/s), zp)), q_min, q_max), zp), s)``, with
  ``1/s`` rounded once in the graph's float type and no ``Add``/``Sub`` when
  ``zp = 0``; valid for any bit width;
- weights: the integer codes as int8 (the smallest integer type holding the
  grid) initializers, ``Mul(Sub(Cast(codes), zp), s)``, which onnxruntime
  constant-folds into the very float weights ``predict`` multiplies by. Not
  ``DequantizeLinear``: onnxruntime's full optimization fuses it with
  ``MatMul`` into kernels that also quantize the activations on the fly;
- biases: the float biases ``predict`` adds; ``MatMul`` then ``Add``.

With the graph's float type equal to the training dtype the graph computes
``predict``'s numbers, up to what onnxruntime's kernels do differently from
numpy's: its GEMM sums in another order than numpy's BLAS for some shapes,
and its exp (softmax, sigmoid, a Poisson regressor's ``Exp``) and tanh are
not numpy's, so probabilities and Poisson predictions agree to a few ulps,
not bit for bit (and a hidden activation one ulp from a
rounding tie can land on the other code). A float32 input to a float64
model is cast to float64 first, as ``predict`` does with it, and the
outputs are cast back to the input's type. ``dtype=np.float32`` computes a
float64 model in float32 instead: faster, at the price of rare one-step
differences in rounded activations.

Integer graph (``integer_ops=True``)
------------------------------------
``export_integer(requantize="float32")`` on onnxruntime's CPU integer
kernels: its int32 logits bit for bit, and so its labels.

- Input codes, in the training dtype (inputs of another float type cast to
  it first): for a float64 model
  ``Cast(Clip(Round(Add(Mul(x, 1/s), zp)), q_min, q_max), uint8)``; for a
  float32 model ``QuantizeLinear(Add(Mul(x, 1/s), zp), 1, shift)``, one
  kernel that rounds half to even, adds the uint8 shift and saturates (a
  ``Clip`` follows for grids narrower than uint8). Never ``QuantizeLinear``
  with the grid's own scale and zero point: it divides by ``s`` and adds
  ``zp`` after rounding, which differs at ties. With learned input widths
  (``input_bits="learned"``) each feature's window replaces the rounding and
  clamp: :func:`skqat._frozen.window_codes` as ``Sub(low)``, ``Div(step)``,
  ``Round``, ``Max(0)``, ``Min(levels - 1)``, ``Mul(step)``, ``Add(low)``
  with per-feature constants, in the training dtype, then the uint8 shift
  and a ``Cast`` (the float and default graphs compute their input codes
  with the same operators).
- Codes travel as uint8 (a signed grid shifted by ``-q_min``, its zero
  point alike). Weights travel as int8, shifted into ``[-2**(b-1),
  2**(b-1))`` (``uint8 x int8``, onnxruntime's fast kernel), except where a
  pair of products could saturate int16: on x86 without VNNI that kernel
  adds pairs in saturating int16 (``VPMADDUBSW``), which 8-bit weights times
  8-bit codes reach. Those layers get uint8 weights shifted into
  ``[0, 2**b)``, and onnxruntime's ``uint8 x uint8`` kernels, which widen to
  int16 and add pairs in int32, exact on every CPU. ``q - zp`` is unchanged
  by the shifts, so the products are.
- Every layer is one ``com.microsoft.QGemm`` with the int32 bias codes as
  ``C``. QGemm computes ``float32(acc + C) * M`` with the float32
  multiplier ``M = fl32(fl32(a_scale * b_scale) / y_scale)``, and for a
  uint8 output rounds it half to even, adds ``y_zero_point`` and saturates
  (measured on onnxruntime 1.32, ``test_qgemm_requantizes_as_documented``);
  the graph feeds ``a_scale = y_scale = 1`` and ``b_scale`` = the record's
  ``float32_multiplier``, so ``M`` is exactly the record's.
- relu and identity hidden layers: that uint8 output, then a ``Clip`` where
  the code range (``output_bounds``) is not all of uint8.
- tanh and logistic hidden layers: the float32 output, ``Round``, then the
  threshold table as a lookup ``Gather(codes, Clip(y, lo, hi) - lo)`` with
  ``codes[j] = q_min + count(thresholds <= lo + j)``, the table's count
  exactly; a branch-free binary search over the thresholds (``Gather`` and
  ``GreaterOrEqual``, one step per bit) where that lookup would be large.
- The last layer: the float32 output holds the logits exactly where no
  logit can reach ``2**24`` (a bound from the weights); otherwise
  ``MatMulInteger`` and ``Add``; a per-channel last layer is requantized to
  the one logit scale (float32 output, ``Round``, clip to int32). The int32
  logits are an extra output, ``logits``. Labels come from the logits
  (argmax, or ``> 0``) as ``IntegerMLP.predict``; probabilities from
  ``logits * logit_scale`` in the output's float type, regression values in
  float64 as ``IntegerMLP``, then cast.

Weights and activations wider than 8 bits do not fit these kernels
(``ValueError``), nor accumulators that could overflow int32. The graph is
the same on every CPU and exact on each: x86 with and without VNNI (checked
natively and under an emulated AVX2 CPU without VNNI), and by construction
ARM, whose kernels accumulate in int32.

Outputs
-------
Classifiers output ``label`` and ``probabilities`` as skl2onnx classifiers
do (``label``: int64 for numeric and boolean classes, equal to
``predict``'s; strings otherwise; a 0/1 int64 matrix for multilabel
targets); regressors output ``variable``. Float outputs have the input's
float type, so skl2onnx's ``ZipMap`` takes float32 probabilities. The same
builders serve :func:`to_onnx` and the converter that
:func:`skqat.register_skl2onnx` registers for whole pipelines.
"""

from __future__ import annotations

import numpy as np

from .._activations import get_activation
from .._frozen import FrozenGrid, FrozenLayer, FrozenNetwork
from .._head import LabelHead
from ._fitted import fitted_network
from ._onnx_exact import build_exact_network
from ._onnx_graph import (
    DEFAULT_OPSET,
    DOMAIN_OPSETS,
    GraphBuilder,
    StandaloneGraph,
    cast,
    grid_codes,
    onnx_type,
    require_onnx,
)
from ._onnx_integer import build_integer_network

__all__ = ["to_onnx"]

#: A regressor head's output activation as an operator (the identity adds none).
_OUTPUT_OPS = {"exp": "Exp"}
_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ----------------------------------------------------------------------
# Types and labels
# ----------------------------------------------------------------------
def sample_float_type(X_sample) -> np.dtype | None:
    """``X_sample``'s float type (float32 or float64), or None (no sample, or not floats)."""
    if X_sample is None:
        return None
    dtype = getattr(X_sample, "dtype", None)
    if dtype is None and hasattr(X_sample, "dtypes"):  # a DataFrame: its columns' common type
        try:
            dtype = np.result_type(*X_sample.dtypes)
        except TypeError:
            return None
    if dtype is None:
        dtype = np.asarray(X_sample).dtype
    dtype = np.dtype(dtype)
    return dtype if dtype in _FLOAT_TYPES else None


def compute_dtype(network: FrozenNetwork, dtype=None) -> np.dtype:
    """The float type the float graph computes in: ``dtype``, or the training dtype.

    The integer graph always computes its input codes in the training dtype,
    as ``export_integer`` does.
    """
    return network.dtype if dtype is None else np.dtype(dtype)


def label_values(classes: np.ndarray) -> np.ndarray:
    """Class labels as the graph holds them: int64 for numbers (equal to ``predict``'s), else strings.

    scikit-learn accepts float class labels only when they are integers, so
    int64 holds them (and skl2onnx's ``ZipMap`` takes int64 labels).

    Examples
    --------
    >>> label_values(np.array([0.0, 1.0, 2.0])), label_values(np.array([False, True]))
    (array([0, 1, 2]), array([0, 1]))
    >>> label_values(np.array(["a", "b"], dtype=object))
    array(['a', 'b'], dtype=object)
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "iubf":
        return classes.astype(np.int64)
    return classes.astype(str).astype(object)


def label_dtype(head: LabelHead, classes=None) -> np.dtype:
    """Element type of the ``label`` output (``classes`` replaces the head's, as skl2onnx's ``nocl``)."""
    if head.kind == "multilabel":
        return np.dtype(np.int64)
    classes = head.classes if classes is None else classes
    assert classes is not None, "a classifier head"
    return label_values(classes).dtype


def label_shape(network: FrozenNetwork) -> list:
    """Shape of the ``label`` output: one per row, or an indicator matrix for multilabel."""
    return [None, network.n_outputs] if network.head.kind == "multilabel" else [None]


# ----------------------------------------------------------------------
# Float graph: predict, operation for operation
# ----------------------------------------------------------------------
def _fake_quantize(g: GraphBuilder, x: str, grid: FrozenGrid, hint: str, dtype) -> str:
    """``predict``'s grid: ``s * (codes - zp)``, in its order of operations."""
    codes = grid_codes(g, x, grid, hint, dtype)
    if grid.nonzero_zero_point:
        codes = g.node(
            "Sub", [codes, g.constant(f"{hint}_zp", np.asarray(grid.zero_point, dtype))], f"{hint}_lv"
        )
    return g.node("Mul", [codes, g.constant(f"{hint}_s", np.asarray(grid.scale, dtype))], f"{hint}_q")


def _applied(grid: FrozenGrid | None) -> bool:
    """Whether ``predict`` applies the grid (calibrated grids serve integer deployment only)."""
    return grid is not None and not grid.calibrated


def _float_weight(g: GraphBuilder, layer: FrozenLayer, hint: str, dtype, folded: bool = False) -> str:
    """The (n_in, n_out) weight ``predict`` multiplies by, from the integer codes when it has them.

    ``FrozenGrid.dequantize`` transposed, ``(codes - zp) * s`` with ``zp`` and
    ``s`` per column; in another dtype than the training one, the same
    operations in that dtype. A ``folded`` layer (the first, under a
    per-feature input grid) has codes of ``W * s_in``: its float weights
    are ``predict``'s, cast.
    """
    grid = layer.weight_grid
    if grid is None or layer.weight_codes is None or folded:  # a float layer, or codes of W * s_in
        return g.constant(f"{hint}_w", np.ascontiguousarray(layer.weight.T, dtype=dtype))
    if dtype == layer.weight.dtype and not np.array_equal(
        grid.dequantize(layer.weight_codes, dtype), layer.weight
    ):
        # Not seen (the record's weights are its codes dequantized); predict's numbers come first.
        return g.constant(f"{hint}_w", np.ascontiguousarray(layer.weight.T))
    codes = g.constant(f"{hint}_codes", np.ascontiguousarray(layer.weight_codes.T))
    levels = g.node("Cast", [codes], f"{hint}_cast", to=onnx_type(dtype))
    zero = g.constant(f"{hint}_zp", np.asarray(grid.zero_point, dtype))
    levels = g.node("Sub", [levels, zero], f"{hint}_levels")
    return g.node("Mul", [levels, g.constant(f"{hint}_s", np.asarray(grid.scale, dtype))], f"{hint}_w")


def build_float_network(g: GraphBuilder, network: FrozenNetwork, x: str, dtype) -> str:
    """Nodes from the input ``x`` (already of ``dtype``) to the float logits; returns their name."""
    if network.input_grid is not None and _applied(network.input_grid):
        x = _fake_quantize(g, x, network.input_grid, "input", dtype)
    n_hidden = len(network.layers) - 1
    for i, layer in enumerate(network.layers):
        folded = i == 0 and network.input_grid is not None and network.input_grid.per_feature
        weight = _float_weight(g, layer, f"layer{i}", dtype, folded)
        bias = g.constant(f"layer{i}_bias", np.asarray(layer.bias, dtype))
        x = g.node("Add", [g.node("MatMul", [x, weight], f"layer{i}_mm"), bias], f"layer{i}_out")
        if i < n_hidden:
            op = get_activation(network.activation).onnx_op
            if op is not None:  # the identity adds no node
                x = g.node(op, [x], f"layer{i}_act")
            if _applied(network.activation_grids[i]):
                x = _fake_quantize(g, x, network.activation_grids[i], f"act{i}", dtype)
    return x


# ----------------------------------------------------------------------
# Heads and the whole graph
# ----------------------------------------------------------------------
def _labels(g: GraphBuilder, classes: np.ndarray, label: str, index_node) -> None:
    """``label``: the labels at the int64 class indices that ``index_node(output)`` writes.

    Labels 0, 1, ... are the indices themselves: the index node writes ``label``.
    """
    values = label_values(classes)
    if np.array_equal(values, np.arange(len(values))):
        index_node(label)
    else:
        g.node("Gather", [g.constant("classes", values), index_node(None)], "label", output=label)


def _binary_index(g: GraphBuilder, positive: str, output: str | None) -> str:
    """(n,) int64 class index from an (n, 1) boolean."""
    index = g.node("Cast", [positive], "positive", to=onnx_type(np.int64))
    return g.node("Reshape", [index, g.constant("rows", np.array([-1], np.int64))], "index", output=output)


def _zero_index(g: GraphBuilder, raw: str, output: str | None) -> str:
    """(n,) int64 zeros, one per row of ``raw``: a single-class head's index."""
    rows = g.node(
        "Slice",
        [
            g.node("Shape", [raw], "shape"),
            *(g.constant(k, np.array([v], np.int64)) for k, v in (("start", 0), ("end", 1))),
        ],
        "n_rows",
    )
    from onnx import numpy_helper

    zero = numpy_helper.from_array(np.zeros(1, np.int64))
    return g.node("ConstantOfShape", [rows], "index", output=output, value=zero)


def _real_logits(g: GraphBuilder, network: FrozenNetwork, logits: str, logits_dtype, dtype) -> str:
    """``logits * logit_scale`` in ``dtype`` (in float64 exactly what ``IntegerMLP`` computes)."""
    scores = cast(g, logits, logits_dtype, dtype, "logits_f")
    return g.node("Mul", [scores, g.constant("logit_scale", np.asarray(network.logit_scale, dtype))], "real")


def build_classifier_heads(
    g: GraphBuilder,
    head: LabelHead,
    raw: str,
    label: str,
    probabilities: str,
    dtype,
    out_dtype,
    *,
    logits: tuple | None = None,
    classes=None,
) -> None:
    """``label`` and ``probabilities`` (n, n_columns, of ``out_dtype``) outputs, by the head's rules.

    ``raw``: the real logits, of ``dtype``. Labels are ``predict``'s (argmax,
    or ``p > 0.5``) of the probabilities, or with ``logits`` (the integer
    graph's ``(name, dtype)``, integer-valued) ``IntegerMLP.predict``'s
    (argmax, or ``logit > 0``) of those. ``classes`` replaces the head's
    classes (skl2onnx's ``nocl``).
    """
    assert head.is_classifier, "a classifier head"
    classes = head.classes if classes is None else classes
    if head.kind == "softmax":
        proba = g.node("Softmax", [raw], "softmax", axis=1)
        # ArgMax keeps the first index on ties, as numpy's argmax does.
        scores = proba if logits is None else logits[0]
        _labels(g, classes, label, lambda out: g.node("ArgMax", [scores], "argmax", out, axis=1, keepdims=0))
        cast(g, proba, dtype, out_dtype, "proba", output=probabilities)
        return
    positive = g.node("Sigmoid", [raw], "sigmoid")
    if logits is None:
        score, threshold = positive, np.asarray(0.5, dtype)
    else:
        score, threshold = logits[0], np.zeros((), logits[1])
    if head.kind == "multilabel":
        above = g.node("Greater", [score, g.constant("threshold", threshold)], "above")
        g.node("Cast", [above], "label", output=label, to=onnx_type(np.int64))
        cast(g, positive, dtype, out_dtype, "proba", output=probabilities)
        return
    if head.kind == "single_class":
        _labels(g, classes, label, lambda out: _zero_index(g, raw, out))
    else:
        above = g.node("Greater", [score, g.constant("threshold", threshold)], "above")
        _labels(g, classes, label, lambda out: _binary_index(g, above, out))
    negative = g.node("Sub", [g.constant("one", np.asarray(1.0, dtype)), positive], "negative")
    proba = g.node("Concat", [negative, positive], "concat", axis=1)
    cast(g, proba, dtype, out_dtype, "proba", output=probabilities)


def build_model(
    g: GraphBuilder,
    network: FrozenNetwork,
    x: str,
    x_dtype,
    outputs: list[str],
    *,
    dtype=None,
    integer_ops: bool = False,
    classes=None,
) -> None:
    """Every node from the input ``x`` (float type ``x_dtype``) to the named outputs.

    ``outputs``: ``label, probabilities`` for a classifier head, ``variable``
    for a regressor's, then optionally ``logits`` (int32, integer graph
    only). Float outputs have ``x_dtype``.
    """
    if integer_ops or network.integer_predict:
        # integer_ops: onnxruntime's integer kernels; otherwise predict runs the integer model, and
        # the graph its fixed-point arithmetic in float64 operators.
        build = build_integer_network if integer_ops else build_exact_network
        logits = build(g, network, x, x_dtype)
        build_outputs(g, network, logits, x_dtype, outputs, integer_ops=integer_ops, classes=classes)
        return
    work = compute_dtype(network, dtype)
    raw = build_float_network(g, network, cast(g, x, x_dtype, work, "input_cast"), work)
    _heads(g, network, raw, work, x_dtype, outputs, None, classes)


def build_outputs(
    g: GraphBuilder,
    network: FrozenNetwork,
    logits: tuple,
    out_dtype,
    outputs: list[str],
    *,
    integer_ops: bool,
    classes=None,
) -> None:
    """The named outputs (:func:`build_model`) from integer logits ``(name, dtype)``, floats of ``out_dtype``.

    Probabilities in ``out_dtype`` for the integer graph, in float64 for the
    default one; regression values in float64, as ``IntegerMLP``; then cast.
    """
    work = out_dtype if integer_ops and network.head.is_classifier else np.dtype(np.float64)
    raw = _real_logits(g, network, logits[0], logits[1], work)
    _heads(g, network, raw, work, out_dtype, outputs, logits, classes)


def _heads(g: GraphBuilder, network, raw: str, work, out_dtype, outputs: list[str], logits, classes) -> None:
    """The head's outputs from the real logits ``raw`` (of ``work``), and ``logits`` as the extra output."""
    head = network.head
    if head.is_classifier:
        build_classifier_heads(
            g, head, raw, outputs[0], outputs[1], work, out_dtype, logits=logits, classes=classes
        )
        extra = outputs[2:]
    else:
        if head.out_activation != "identity":
            raw = g.node(_OUTPUT_OPS[head.out_activation], [raw], head.out_activation)
        cast(g, raw, work, out_dtype, "variable", output=outputs[0])
        extra = outputs[1:]
    if extra:
        assert logits is not None, "the logits output belongs to the integer graph"
        cast(g, logits[0], logits[1], np.int32, "logits", output=extra[0])


def output_infos(network: FrozenNetwork, float_dtype, integer_ops: bool) -> list:
    """The graph's outputs (value infos): label and probabilities, or variable; then logits."""
    from onnx import helper

    float_type = onnx_type(float_dtype)
    head = network.head
    if head.is_classifier:
        outputs = [
            helper.make_tensor_value_info("label", onnx_type(label_dtype(head)), label_shape(network)),
            helper.make_tensor_value_info(
                "probabilities", float_type, [None, head.proba_columns(network.n_outputs)]
            ),
        ]
    else:
        outputs = [helper.make_tensor_value_info("variable", float_type, [None, network.n_outputs])]
    if integer_ops:
        outputs.append(
            helper.make_tensor_value_info("logits", onnx_type(np.int32), [None, network.n_outputs])
        )
    return outputs


def make_model(g: StandaloneGraph, name: str, inputs: list, outputs: list, target_opset: int):
    """The checked ``onnx.ModelProto`` of ``g``'s nodes, with opsets for the domains it uses."""
    onnx = require_onnx()
    from onnx import helper

    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.initializers)
    opsets = [helper.make_opsetid("", target_opset)]
    opsets += [helper.make_opsetid(d, DOMAIN_OPSETS[d]) for d in sorted(g.domains)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="skqat")
    model.ir_version = min(model.ir_version, 9)  # readable by onnxruntime releases of recent years
    onnx.checker.check_model(model)
    return model


def to_onnx(
    estimator,
    X_sample=None,
    *,
    dtype=None,
    integer_ops: bool = False,
    name: str = "skqat",
    target_opset: int = DEFAULT_OPSET,
):
    """Export a fitted skqat estimator, or a whole pipeline ending in one, as an ONNX model for onnxruntime.

    A ``Pipeline`` is folded with :func:`skqat.export_integer` and exported
    as one graph from its raw columns (:mod:`skqat.export._onnx_pipeline`):
    its preprocessing in double and integer operators, no float scaler or
    one-hot encoder, labels equal to ``pipeline.predict``'s (default graph)
    or ``export_integer(pipeline, requantize="float32")``'s (``integer_ops``).

    Parameters
    ----------
    estimator : QuantizedMLPClassifier or QuantizedMLPRegressor or Pipeline
        A fitted estimator, or a fitted pipeline whose steps before it
        ``export_integer`` folds.
    X_sample : array-like of shape (n_samples, n_features), default=None
        Gives the input's float type, as skl2onnx does (float32 or float64;
        the training dtype for None or anything else), and is checked for its
        number of features; the graph's input is ``X`` of shape
        ``(None, n_features)``. A float32 input to a float64 model is cast up
        inside the graph. For a pipeline fitted on a DataFrame, a DataFrame
        whose columns name and type the inputs, one per raw column the
        pipeline reads, of shape ``(None, 1)``: ``tensor(double)`` for
        float64, ``tensor(float)`` for float32, ``tensor(int64)`` for
        integers, ``tensor(string)`` for strings (``""`` is a missing
        value); for one fitted on an array, one input ``X`` of shape
        ``(None, n_columns)`` of the sample's type.
    dtype : {np.float32, np.float64} or None, default=None
        Overrides the input's type. For the float graph it is also the type
        of the computation (``None``: the training dtype, which reproduces
        ``predict``); the integer graph computes its input codes in the
        training dtype whatever the input's type. Not for a pipeline.
    integer_ops : bool, default=False
        Export the integer graph (see the module docstring): onnxruntime's
        8-bit integer kernels, computing ``export_integer(requantize="float32")``
        exactly; adds an int32 output ``logits``.
    name : str, default="skqat"
        Graph name.
    target_opset : int, default=17
        ONNX opset of the main domain (13 or newer).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (a pipeline's: see ``X_sample``). Outputs ``label`` and
        ``probabilities`` for a classifier, ``variable`` for a regressor (then
        ``logits`` with ``integer_ops``); a pipeline's float outputs have the
        network's training float type.

    Raises
    ------
    ValueError
        If ``X_sample`` has the wrong number of features or ``dtype`` is not a
        float type; with ``integer_ops``, if the network is not integer-only,
        has grids wider than 8 bits or accumulators that could overflow int32;
        for a pipeline, if a step cannot be folded or ``X_sample`` lacks a
        column it reads.

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
    >>> bool((labels == clf.predict(X)).all()), bool(np.abs(proba - clf.predict_proba(X)).max() < 1e-12)
    (True, True)

    The integer graph gives ``export_integer(requantize="float32")``'s logits:

    >>> onx = to_onnx(clf, X[:1].astype(np.float32), integer_ops=True)
    >>> session = ort.InferenceSession(onx.SerializeToString())
    >>> labels, proba, logits = session.run(None, {"X": X.astype(np.float32)})
    >>> model = clf.export_integer(requantize="float32")
    >>> bool((logits == model.integer_logits(model.quantize_input(X.astype(np.float32)))).all())
    True

    A pipeline over a DataFrame, one input per column:

    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> frame = pd.DataFrame({"size": X[:, 0], "kind": np.array(["a", "b", "c"])[X[:, 1].argsort() % 3]})
    >>> pipe = make_pipeline(
    ...     make_column_transformer((StandardScaler(), ["size"]), (OneHotEncoder(), ["kind"])),
    ...     QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)).fit(frame, y)
    >>> session = ort.InferenceSession(to_onnx(pipe, frame).SerializeToString())
    >>> [(i.name, i.type) for i in session.get_inputs()]
    [('size', 'tensor(double)'), ('kind', 'tensor(string)')]
    >>> labels, proba = session.run(None, {"size": frame[["size"]].to_numpy(),
    ...                                    "kind": frame[["kind"]].to_numpy(object)})
    >>> bool((labels == pipe.predict(frame)).all())
    True
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        from ._onnx_pipeline import pipeline_to_onnx

        if dtype is not None:
            raise ValueError(
                "dtype applies to a bare estimator; a pipeline's inputs take their types from X_sample."
            )
        return pipeline_to_onnx(
            estimator, X_sample, integer_ops=integer_ops, name=name, target_opset=target_opset
        )
    require_onnx()
    from onnx import helper

    network = fitted_network(estimator, "to_onnx")
    n_features = network.n_features
    if X_sample is not None and np.shape(X_sample)[-1] != n_features:
        raise ValueError(
            f"X_sample has {np.shape(X_sample)[-1]} features; the estimator expects {n_features}."
        )
    if dtype is not None and np.dtype(dtype) not in _FLOAT_TYPES:
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype!r}.")
    x_dtype = np.dtype(dtype) if dtype is not None else sample_float_type(X_sample) or network.dtype
    outputs = output_infos(network, x_dtype, integer_ops)
    g = StandaloneGraph()
    build_model(g, network, "X", x_dtype, [o.name for o in outputs], dtype=dtype, integer_ops=integer_ops)
    inputs = [helper.make_tensor_value_info("X", onnx_type(x_dtype), [None, n_features])]
    return make_model(g, name, inputs, outputs, target_opset)
