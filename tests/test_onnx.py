"""ONNX export run by the real onnxruntime: the float graph, the integer graph, and whole pipelines."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor, register_skl2onnx, to_onnx
from skqat._head import LabelHead
from skqat._inference import float_plan

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
skl2onnx = pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")

from skqat.export import _onnx, _onnx_integer  # noqa: E402  (needs onnx)

INTEGER_OPS = {"QGemm", "MatMulInteger", "QLinearMatMul"}


def _session(model, **config):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    for key, value in config.items():
        setattr(options, key, value)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _run(model, X):
    session = _session(model)
    return session.run(None, {session.get_inputs()[0].name: X})


def _float_logits(clf, X):
    """The trained float network's logits (what build_float_network computes), output activation left out."""
    network = dataclasses.replace(clf._frozen, head=LabelHead("identity"))
    return float_plan(network).outputs(np.asarray(X, clf._frozen.dtype))


def _logits_graph(clf, dtype=None):
    """The float graph up to its logits, as a model with one output."""
    from onnx import helper

    dtype = np.dtype(dtype or clf._frozen.dtype)
    g = _onnx.StandaloneGraph()
    logits = _onnx.build_float_network(g, clf._frozen, "X", dtype)
    graph = helper.make_graph(
        g.nodes,
        "logits",
        [helper.make_tensor_value_info("X", _onnx.onnx_type(dtype), [None, clf.n_features_in_])],
        [helper.make_tensor_value_info(logits, _onnx.onnx_type(dtype), [None, clf.n_outputs_])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _onnx.DEFAULT_OPSET)])
    model.ir_version = 9
    return model


def _stress_rows(X, grid_scale, n=1000, seed=0):
    """``n`` rows from ``X`` plus out-of-range, huge, zero and near-tie features."""
    rng = np.random.default_rng(seed)
    rows = [X[rng.integers(0, len(X), n)]]
    rows.append(X[:50] * 20.0)
    rows.append(-X[:50] * 20.0)
    rows.append(np.full((5, X.shape[1]), 1e30))
    rows.append(np.full((5, X.shape[1]), -1e30))
    rows.append(np.zeros((5, X.shape[1])))
    # Half-way points of the input grid: x * (1/s) lands on (or next to) k + 1/2.
    half = (rng.integers(-300, 300, (60, X.shape[1])) + 0.5) * grid_scale
    rows.append(half)
    return np.concatenate(rows)


# ----------------------------------------------------------------------
# Float graph: predict, operation for operation
# ----------------------------------------------------------------------
@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"granularity": "per_channel", "symmetric": False, "input_bits": 8},
        {"input_bits": 8, "input_granularity": "per_feature", "symmetric": False},
    ],
    ids=["lsq", "per_channel", "per_feature_input"],
)
def test_classifier_onnx_parity(digits_split, bits, params):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(64,), weight_bits=bits, max_iter=30, random_state=0, **params
    ).fit(X_train, y_train)
    X = np.concatenate([X_test, X_test * 3 - 20])
    labels, proba = _run(to_onnx(clf, X_train), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    # predict's operations; onnxruntime's GEMM sums in another order than numpy's BLAS for some
    # shapes, and its exp is not numpy's: last-ulp differences only.
    (logits,) = _run(_logits_graph(clf), X)
    np.testing.assert_allclose(logits, _float_logits(clf, X), rtol=1e-13, atol=1e-13)
    assert np.abs(proba - clf.predict_proba(X)).max() < 1e-14
    # A float32 graph of the float64 model: the same labels on nearly every row.
    labels32, _ = _run(to_onnx(clf, X_train, dtype=np.float32), X.astype(np.float32))
    assert np.mean(labels32 == clf.predict(X)) >= 0.99


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
def test_float_graph_hidden_activations(iris, activation):
    X, y = iris
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(16,), activation=activation, weight_bits=4, max_iter=60, random_state=0
    ).fit(X, y)
    labels, proba = _run(to_onnx(clf, X), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    # tanh and sigmoid are onnxruntime's: a last-ulp difference can move an activation code, rarely.
    assert np.abs(proba - clf.predict_proba(X)).max() < 1e-3


def test_float32_sample_of_a_float64_model(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0).fit(X_train, y_train)
    model = to_onnx(clf, X_train[:1].astype(np.float32))
    float_type = onnx.TensorProto.FLOAT
    assert model.graph.input[0].type.tensor_type.elem_type == float_type
    assert model.graph.output[1].type.tensor_type.elem_type == float_type
    X32 = X_test.astype(np.float32)
    labels, proba = _run(model, X32)
    # Computed in float64 from the float32 input, as predict does, then cast.
    assert proba.dtype == np.float32
    np.testing.assert_array_equal(labels, clf.predict(X32))
    np.testing.assert_allclose(proba, clf.predict_proba(X32).astype(np.float32), rtol=0, atol=1e-7)


def test_string_labels_binary_and_float32_training(iris):
    X, y = iris
    X = X[y < 2].astype(np.float32)
    names = np.where(y[y < 2] == 0, "setosa", "versicolor")
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(8,), weight_bits=3, max_iter=100, learning_rate_init=0.01, random_state=0
    ).fit(X, names)
    labels, proba = _run(to_onnx(clf, X), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "target",
    [
        lambda y: y.astype(float),
        lambda y: pd.Series(y, dtype="Int64"),
        lambda y: (y == 1).astype(float),
    ],
    ids=["float", "pandas-Int64", "binary-float"],
)
def test_numeric_labels_come_out_as_numbers(iris, target):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, target(y))
    for integer_ops in (False, True):
        labels, _, *_ = _run(to_onnx(clf, X, integer_ops=integer_ops), X)
        assert labels.dtype == np.int64
        expected = clf.export_integer(requantize="float32").predict(X) if integer_ops else clf.predict(X)
        np.testing.assert_array_equal(labels, expected)


def test_multilabel_onnx():
    X, Y = make_multilabel_classification(n_samples=200, n_classes=3, random_state=0)
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), weight_bits=4, max_iter=80, random_state=0).fit(
        X, Y
    )
    labels, proba = _run(to_onnx(clf, X), X.astype(np.float64))
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-12)


def test_regressor_onnx():
    X, y = make_regression(n_samples=400, n_features=8, noise=2.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    reg = QuantizedMLPRegressor(
        hidden_layer_sizes=(16,), weight_bits=4, max_iter=100, learning_rate_init=0.01, random_state=0
    ).fit(X, y / y.std())
    (prediction,) = _run(to_onnx(reg, X), X)
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X), rtol=1e-13, atol=1e-13)
    (prediction32,) = _run(to_onnx(reg, X.astype(np.float32)), X.astype(np.float32))
    assert prediction32.dtype == np.float32
    np.testing.assert_allclose(prediction32.ravel(), reg.predict(X.astype(np.float32)), rtol=1e-6)


def test_poisson_regressor_onnx():
    X, y = _task_data("poisson")
    reg = QuantizedMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(16,),
        weight_bits=4,
        max_iter=60,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    (prediction,) = _run(to_onnx(reg, X), X)
    # onnxruntime's Exp is not numpy's exp: a few float64 ulps (measured: 6.7e-16 at most, 60% equal).
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X), rtol=1e-14)
    assert (prediction > 0).all()


def test_learned_and_binary_grids_export(iris):
    X, y = iris
    for params in (
        {"weight_bits": 1},
        {"weight_bits": "learned", "target_bits": 3.0},
        {"weight_bits": (8, 2)},
        {"weight_bits": (None, 4)},
    ):
        clf = QuantizedMLPClassifier(
            hidden_layer_sizes=(16,), max_iter=80, learning_rate_init=0.01, random_state=0, **params
        ).fit(X, y)
        labels, proba = _run(to_onnx(clf, X), X)
        np.testing.assert_array_equal(labels, clf.predict(X))
        assert np.abs(proba - clf.predict_proba(X)).max() < 1e-14


def test_onnx_graph_stores_integer_weights(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(32,), weight_bits=4, max_iter=5).fit(X_train, y_train)
    model = to_onnx(clf, X_train)
    ops = {node.op_type for node in model.graph.node}
    assert "Cast" in ops and "Round" in ops and "DequantizeLinear" not in ops
    int8_initializers = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert sum(np.prod(t.dims) for t in int8_initializers) >= 64 * 32 + 32 * 10


def test_to_onnx_checks_the_sample(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        to_onnx(clf, X[:, :2])
    with pytest.raises(ValueError, match="dtype"):
        to_onnx(clf, X, dtype=np.int64)


# ----------------------------------------------------------------------
# Integer graph: export_integer(requantize="float32") bit for bit
# ----------------------------------------------------------------------
def _task_data(task):
    if task == "raw":
        # Raw columns whose ranges span 1e-3 to 1e6: per-feature input grids.
        X, y = make_classification(n_samples=400, n_features=12, n_informative=6, n_classes=3, random_state=0)
        return X * np.logspace(-3, 6, 12), y
    if task == "binary":
        X, y = make_classification(n_samples=400, n_features=12, n_informative=6, random_state=0)
    elif task == "multiclass":
        X, y = make_classification(n_samples=400, n_features=12, n_informative=6, n_classes=4, random_state=0)
    elif task == "multilabel":
        X, y = make_multilabel_classification(n_samples=400, n_features=12, n_classes=3, random_state=0)
        X = StandardScaler().fit_transform(X)
    elif task == "poisson":
        rng = np.random.default_rng(0)
        X = rng.standard_normal((400, 12))
        y = rng.poisson(np.exp(0.5 + X @ rng.uniform(-0.3, 0.3, 12))).astype(np.float64)
    else:
        X, y = make_regression(n_samples=400, n_features=12, noise=1.0, random_state=0)
        y = y / y.std()
    return X, y


#: (task, parameters): each weight width, granularity, symmetry, activation and task, in varied combinations.
INTEGER_CONFIGS = [
    ("multiclass", dict(weight_bits=8)),
    ("binary", dict(weight_bits=4, granularity="per_channel", symmetric=False, input_bits=8)),
    ("multiclass", dict(weight_bits=2, symmetric=False, activation="tanh", activation_bits=4)),
    ("multilabel", dict(weight_bits=1, activation="logistic")),
    ("regressor", dict(weight_bits=8, granularity="per_channel", activation="identity", input_bits=6)),
    ("regressor", dict(weight_bits=4, activation="tanh", hidden_layer_sizes=(12, 8))),
    ("poisson", dict(loss="poisson", weight_bits=4, input_bits=8, activation="tanh")),
    ("binary", dict(weight_bits=2, granularity="per_channel", activation="logistic", activation_bits=6)),
    (
        "multilabel",
        dict(weight_bits=8, granularity="per_channel", symmetric=False, activation="tanh", input_bits=8),
    ),
    ("regressor", dict(weight_bits=1, granularity="per_channel", activation_bits=3)),
    ("multiclass", dict(weight_bits=4, symmetric=False, activation="identity", hidden_layer_sizes=(16, 16))),
    ("multiclass", dict(weight_bits=8, symmetric=False, activation="logistic", quantizer="minmax")),
    ("multilabel", dict(weight_bits=2, activation="identity", input_bits=4, activation_bits=5)),
    ("binary", dict(weight_bits=(8, 1), activation="relu", activation_bits=None, hidden_layer_sizes=(24,))),
    (
        "multiclass",
        dict(weight_bits="learned", target_bits=3.5, granularity="per_channel", activation="tanh"),
    ),
    ("binary", dict(weight_bits=1, symmetric=False, activation="tanh", activation_bits=2)),
    ("raw", dict(weight_bits=8, input_bits=8, input_granularity="per_feature", symmetric=False)),
    ("raw", dict(weight_bits=4, input_bits=6, input_granularity="per_feature", activation="tanh")),
    ("raw", dict(weight_bits=2, input_bits=8, input_granularity="per_feature", hidden_layer_sizes=())),
]


def _integer_parity(task, params, input_dtype=np.float32):
    """Rows checked and (logit, label) mismatches of the integer graph against IntegerMLP(float32)."""
    X, y = _task_data(task)
    params = {"hidden_layer_sizes": (16,), "max_iter": 15, "random_state": 0, **params}
    estimator = QuantizedMLPRegressor if task in ("regressor", "poisson") else QuantizedMLPClassifier
    model = estimator(**params).fit(X, y)
    reference = model.export_integer(requantize="float32")
    rows = _stress_rows(X, np.asarray(reference.input_grid.scale)).astype(input_dtype)
    outputs = _run(to_onnx(model, rows[:1], integer_ops=True), rows)
    logits = outputs[-1]
    assert logits.dtype == np.int32
    expected = reference.integer_logits(reference.quantize_input(rows))
    mismatches = int(np.sum(np.any(logits != expected, axis=1)))
    if task in ("regressor", "poisson"):
        # For Poisson: onnxruntime's Exp against numpy's, in float64, then cast; equal on these rows.
        np.testing.assert_array_equal(outputs[0].ravel(), reference.predict(rows).astype(input_dtype))
    else:
        wrong = outputs[0] != reference.predict(rows)
        mismatches += int(np.sum(wrong.reshape(len(rows), -1).any(axis=1)))
        tolerance = 1e-6 if input_dtype == np.float32 else 1e-12
        assert np.abs(outputs[1] - reference.predict_proba(rows)).max() < tolerance
    return len(rows), mismatches


@pytest.mark.parametrize(
    ("task", "params"),
    INTEGER_CONFIGS,
    ids=[task + "".join(f"-{k}={v}" for k, v in params.items()) for task, params in INTEGER_CONFIGS],
)
def test_integer_graph_is_bit_exact(task, params):
    rows, mismatches = _integer_parity(task, params)
    assert rows >= 1000 and mismatches == 0


def test_integer_graph_float64_input():
    rows, mismatches = _integer_parity(
        "multiclass", dict(activation="tanh", input_bits=8), input_dtype=np.float64
    )
    assert rows >= 1000 and mismatches == 0


@pytest.mark.parametrize(
    "params",
    [
        dict(weight_bits=4),
        dict(weight_bits=8, input_bits=4, symmetric=False),
        dict(weight_bits=2, input_bits=8),
    ],
    ids=["calibrated", "input4-asymmetric", "input8"],
)
@pytest.mark.parametrize("input_dtype", [np.float32, np.float64])
def test_integer_graph_of_a_float32_model(params, input_dtype):
    """A float32 model's input codes come from one QuantizeLinear: still the reference's codes."""
    X, y = _task_data("multiclass")
    X = X.astype(np.float32)
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=15, random_state=0, **params).fit(X, y)
    reference = clf.export_integer(requantize="float32")
    rows = _stress_rows(X, np.asarray(reference.input_grid.scale)).astype(input_dtype)
    graph = to_onnx(clf, rows[:1], integer_ops=True)
    assert "QuantizeLinear" in {node.op_type for node in graph.graph.node}
    labels, _, logits = _run(graph, rows)
    expected = reference.integer_logits(reference.quantize_input(rows))
    assert len(rows) >= 1000
    np.testing.assert_array_equal(logits, expected)
    np.testing.assert_array_equal(labels, reference.predict(rows))


def test_integer_graph_relu_clamps_at_a_nonzero_zero_point():
    """relu codes clamp at ``max(q_min, zp)``: a record whose activation grids have ``zp > 0``."""
    X, y = _task_data("multiclass")
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16, 12), max_iter=15, random_state=0).fit(X, y)
    network = clf._frozen
    grids = tuple(
        dataclasses.replace(grid, zero_point=np.asarray(zero, np.int32), symmetric=False)
        for grid, zero in zip(network.activation_grids, (37, 200))
    )
    clf._frozen = dataclasses.replace(network, activation_grids=grids)
    reference = clf.export_integer(requantize="float32")
    rows = _stress_rows(X, np.asarray(reference.input_grid.scale)).astype(np.float32)
    model = to_onnx(clf, rows[:1], integer_ops=True)
    assert sum(node.op_type == "Clip" for node in model.graph.node) == 3  # the input's, then one per layer
    np.testing.assert_array_equal(
        _run(model, rows)[-1], reference.integer_logits(reference.quantize_input(rows))
    )


def test_integer_graph_rare_paths(monkeypatch):
    """The binary search of wide threshold tables, and int32 logits that float32 would not hold."""
    monkeypatch.setattr(_onnx_integer, "MAX_TABLE", 0)
    monkeypatch.setattr(_onnx_integer, "_float32_exact", lambda layer, grid: False)
    for task, params in [
        ("multiclass", dict(activation="tanh", hidden_layer_sizes=(12, 8))),
        ("binary", dict(activation="logistic", symmetric=False, activation_bits=3)),
        ("multilabel", dict(activation="relu")),
    ]:
        rows, mismatches = _integer_parity(task, params)
        assert mismatches == 0
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(4,), activation="tanh", max_iter=2).fit(
        *_task_data("binary")
    )
    ops = {node.op_type for node in to_onnx(clf, integer_ops=True).graph.node}
    assert {"GreaterOrEqual", "Where", "MatMulInteger"} <= ops


def test_integer_graph_survives_full_optimization(tmp_path, digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(32,), activation="tanh", max_iter=10, random_state=0
    ).fit(X_train, y_train)
    path = tmp_path / "optimized.onnx"
    session = _session(
        to_onnx(clf, X_train[:1].astype(np.float32), integer_ops=True),
        graph_optimization_level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        optimized_model_filepath=str(path),
    )
    labels, _, logits = session.run(None, {"X": X_test.astype(np.float32)})
    model = clf.export_integer(requantize="float32")
    np.testing.assert_array_equal(logits, model.integer_logits(model.quantize_input(X_test)))
    optimized = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "QGemm" in optimized and optimized & INTEGER_OPS
    assert not optimized & {"MatMul", "Gemm", "FusedGemm", "MatMulIntegerToFloat", "DynamicQuantizeMatMul"}


def test_integer_graph_refuses_what_8_bit_kernels_cannot_compute(iris):
    X, y = iris
    for params, match in [
        ({"weight_bits": 10}, "10-bit weights"),
        ({"activation_bits": 12}, "12 bits"),
        ({"input_bits": 9}, "input grid has 9 bits"),
        ({"weight_bits": (4, None)}, "integer-only"),
    ]:
        clf = QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, **params).fit(X, y)
        with pytest.raises(ValueError, match=match):
            to_onnx(clf, X, integer_ops=True)
        to_onnx(clf, X)  # the float graph takes any width


def test_qgemm_requantizes_as_documented():
    """QGemm: uint8 = saturate(rint(float32(acc + C) * fl32(fl32(a_scale * b_scale) / y_scale)) + y_zp).

    The columns' accumulators sit where candidate multipliers (other orders of
    the same float32 operations) round differently, and at exact ties.
    """
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    n, f = 2048, np.float32
    a, y_scale = f(rng.uniform(1e-4, 1e-3)), f(rng.uniform(0.5, 2))
    b = rng.uniform(1e-4, 1e-3, n).astype(f)
    documented = ((a * b).astype(f) / y_scale).astype(f)
    others = [(a * (b / y_scale).astype(f)).astype(f), ((a * b).astype(f) * f(1 / y_scale)).astype(f)]
    target = rng.integers(0, 240, n) + 0.5
    acc = np.round(target / documented).astype(np.int64)
    best = acc.copy()
    for d in range(-200, 201):  # an accumulator near target where the candidates disagree
        trial = acc + d
        ref = np.rint(trial.astype(f) * documented)
        split = np.any([np.rint(trial.astype(f) * m) != ref for m in others], axis=0)
        best = np.where(split, trial, best)
    # Exact ties: multiplier 1/2 on odd accumulators (round half to even).
    ties = np.arange(-15, 497, 2)
    bias = np.concatenate([best, ties]).astype(np.int32)
    b_scale = np.concatenate([b, np.full(ties.size, 0.5 * y_scale / a, f)]).astype(f)
    multiplier = np.concatenate([documented, ((a * b_scale[n:]).astype(f) / y_scale).astype(f)])
    columns = bias.size
    inits = {
        "a_scale": a,
        "a_zp": np.uint8(0),
        "B": np.zeros((4, columns), np.int8),
        "b_scale": b_scale,
        "b_zp": np.zeros(columns, np.int8),
        "C": bias,
        "y_scale": y_scale,
        "y_zp": np.uint8(7),
    }
    node = helper.make_node("QGemm", ["A", *inits], ["Y"], domain="com.microsoft")
    graph = helper.make_graph(
        [node],
        "qgemm",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [None, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.UINT8, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 9
    (out,) = _run(model, np.zeros((3, 4), np.uint8))
    expected = np.clip(np.rint(bias.astype(f) * multiplier) + 7, 0, 255)
    np.testing.assert_array_equal(out[0], expected)
    assert np.any(np.rint(bias[:n].astype(f) * others[0]) != np.rint(bias[:n].astype(f) * documented))


# ----------------------------------------------------------------------
# skl2onnx: whole pipelines
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "labels", [np.array(["a", "b", "c"]), np.array([0.0, 1.0, 2.0])], ids=["str", "float"]
)
@pytest.mark.parametrize("integer_ops", [False, True])
def test_pipeline_with_default_zipmap(iris, labels, integer_ops):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, labels[y])
    register_skl2onnx()
    X32 = X.astype(np.float32)
    model = skl2onnx.to_onnx(pipe, X32[:1], options={id(clf): {"integer_ops": integer_ops}})
    predicted, probabilities = _run(model, X32)
    expected = (
        clf.export_integer(requantize="float32").predict(pipe[0].transform(X32)) if integer_ops else None
    )
    np.testing.assert_array_equal(predicted, pipe.predict(X32) if expected is None else expected)
    assert sorted(probabilities[0]) == sorted(label.item() for label in labels)


@pytest.mark.parametrize("key", ["id", "class"])
def test_pipeline_integer_ops_option(key):
    X, y = _task_data("multiclass")
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), activation="tanh", max_iter=15, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    register_skl2onnx()
    options = {id(clf) if key == "id" else QuantizedMLPClassifier: {"integer_ops": True, "zipmap": False}}
    X32 = X.astype(np.float32)
    model = skl2onnx.to_onnx(pipe, X32[:1], options=options)
    assert INTEGER_OPS & {node.op_type for node in model.graph.node}
    labels, proba = _run(model, X32)
    integer = clf.export_integer(requantize="float32")
    scaled = pipe[0].transform(X32)  # what the ONNX scaler hands over, in float32
    np.testing.assert_array_equal(labels, integer.predict(scaled))
    np.testing.assert_allclose(proba, integer.predict_proba(scaled), atol=1e-6)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_pipeline_integer_ops(loss):
    X, y = _task_data("regressor" if loss == "squared_error" else "poisson")
    reg = QuantizedMLPRegressor(loss=loss, hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    pipe = make_pipeline(StandardScaler(), reg).fit(X, y)
    register_skl2onnx()
    X32 = X.astype(np.float32)
    (values,) = _run(skl2onnx.to_onnx(pipe, X32[:1], options={id(reg): {"integer_ops": True}}), X32)
    integer = reg.export_integer(requantize="float32")
    expected = integer.predict(pipe[0].transform(X32)).astype(np.float32)
    np.testing.assert_array_equal(values.ravel(), expected)


@pytest.mark.parametrize("float_dtype", [np.float32, np.float64])
def test_whole_pipeline_over_a_dataframe_converts(shared_data, float_dtype):
    # "?" (missing) stays a category of its own: OneHotEncoder handles it, no imputer needed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from _datasets import adult_frames

    X, _, y, _ = adult_frames(shared_data, missing_as_category=True)
    X, y = X.sample(4000, random_state=0), y.sample(4000, random_state=0)
    categorical = list(X.select_dtypes(include="object").columns)
    numeric = [c for c in X.columns if c not in categorical]
    X[numeric] = X[numeric].astype(float_dtype)
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore", dtype=float_dtype), categorical),
                        ("num", StandardScaler(), numeric),
                    ]
                ),
            ),
            (
                "clf",
                QuantizedMLPClassifier(hidden_layer_sizes=(32,), weight_bits=4, max_iter=30, random_state=0),
            ),
        ]
    )
    pipe.fit(X, y)
    register_skl2onnx()
    model = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    # skl2onnx names inputs after the columns, with "-" replaced by "_".
    feeds = {c.replace("-", "_"): X[c].to_numpy().reshape(-1, 1) for c in X.columns}
    feeds = {c: v.astype(object) if v.dtype == object else v for c, v in feeds.items()}
    labels, proba = session.run(None, feeds)
    assert set(labels) <= {"<=50K", ">50K"}
    assert np.mean(labels == pipe.predict(X)) >= 0.999
    assert np.abs(proba - pipe.predict_proba(X)).max() < 1e-4


@pytest.mark.parametrize(
    "multipliers, bound",
    [
        ([0.37], 2**24),  # right shift only
        ([3.7], 2**20),  # left shift, no saturation
        ([3.7], 2**31 - 1),  # left shift that can leave int32: saturates
        ([0.37, 1.0, 5.5, 2e-5], 2**31 - 1),  # per channel, mixed shifts
    ],
)
def test_default_graph_fixed_point_is_gemmlowps(multipliers, bound):
    """The float64 restatement of MultiplyByQuantizedMultiplier (skqat.export._onnx_exact) on every path."""
    from onnx import helper

    from skqat._fixed_point import FixedPointMultiplier, multiply_by_quantized_multiplier, quantize_multiplier
    from skqat.export._onnx_exact import _fixed_point

    pairs = [quantize_multiplier(m) for m in multipliers]
    m0, shift = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    multiplier = FixedPointMultiplier(m0, shift, bound)
    rng = np.random.default_rng(0)
    acc = rng.integers(-bound, bound + 1, (4000, len(multipliers))).astype(np.int64)
    acc[:4] = [[bound], [-bound], [0], [-1]]
    # Products at gemmlowp's rounding ties: x * M0 = 2**30 (mod 2**31).
    acc[4:8] = 2**30 // int(m0[0]) * np.array([[1], [-1], [3], [-3]])
    g = _onnx.StandaloneGraph()
    out = _fixed_point(g, "acc", multiplier, "fp")
    n = len(multipliers)
    graph = helper.make_graph(
        g.nodes,
        "fp",
        [helper.make_tensor_value_info("acc", _onnx.onnx_type(np.float64), [None, n])],
        [helper.make_tensor_value_info(out, _onnx.onnx_type(np.float64), [None, n])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _onnx.DEFAULT_OPSET)])
    model.ir_version = 9
    (got,) = _run(model, acc.astype(np.float64))
    expected = multiply_by_quantized_multiplier(acc, m0, shift)
    np.testing.assert_array_equal(got.astype(np.int64), expected)
    assert multiplier.saturates == (bound == 2**31 - 1 and max(multipliers) > 1)


@pytest.mark.parametrize("target", ["to_onnx", "to_qonnx"])
def test_exporters_refuse_a_pipeline_with_a_message(iris, target):
    """to_qonnx refuses a Pipeline with a TypeError that says what to do; to_onnx folds it."""
    from sklearn.exceptions import NotFittedError
    from sklearn.neural_network import MLPClassifier

    import skqat

    if target == "to_qonnx":
        pytest.importorskip("qonnx", reason="the qonnx extra is not installed")
    export = getattr(skqat, target)
    X, y = iris
    network = QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=5)
    pipeline = make_pipeline(StandardScaler(), network).fit(X, y)
    if target == "to_onnx":
        export(pipeline, X[:1])  # folded whole (tests/test_onnx_pipeline.py)
    else:
        with pytest.raises(TypeError, match=r"not a Pipeline.*pipeline\[-1\].*skqat\.to_onnx\(pipeline"):
            export(pipeline, X[:1])
    export(pipeline[-1], X[:1])  # the network alone
    with pytest.raises(TypeError, match="MLPClassifier"):
        export(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, y), X[:1])
    with pytest.raises(NotFittedError):
        export(QuantizedMLPClassifier(), X[:1])
