"""``predict`` is the integer model: what you score is what you ship.

A model trained integer-only (the default) predicts with
``skqat._integer_inference.IntegerPlan``, the arithmetic of
``export_integer()``. These tests check, on held-out and fuzzed rows, that
``predict``/``predict_proba`` equal ``export_integer()`` exactly, and that
the plan's float GEMMs equal a plain int64 implementation of the integer
model written here (the C header and the ONNX integer graph are checked
against ``IntegerMLP`` in their own files).
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification, make_multilabel_classification, make_regression

import skqat._integer_inference as integer_inference
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._fixed_point import INT32_MAX, INT32_MIN, multiply_by_quantized_multiplier
from skqat._integer_codes import output_bounds, weight_levels

FAST = dict(hidden_layer_sizes=(12,), learning_rate_init=0.01, max_iter=25, random_state=0)


def _fuzz(X, scale, seed=0):
    """Held-out-like rows, extremes, zeros, a constant column and half-way points of each feature's grid."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    scale = np.broadcast_to(np.asarray(scale, np.float64), (d,))
    low, high = X.min(0), X.max(0)
    rows = [
        X,
        rng.uniform(low, high, (200, d)),
        X[:40] * 50.0,
        -X[:40] * 50.0,
        np.full((3, d), 1e30),
        np.full((3, d), -1e30),
        np.zeros((3, d)),
        np.tile(X[:1], (3, 1)),
        # x / s lands on k + 1/2: the rounding ties of every feature's grid.
        (rng.integers(-200, 200, (100, d)) + 0.5) * scale,
    ]
    fuzzed = np.concatenate(rows)
    fuzzed[::7, 0] = X[0, 0]  # a column that repeats one value
    return fuzzed


def _int64_logits(network, codes):
    """The integer model with int64 matrices and the general fixed-point function: the specification."""
    x = codes.astype(np.int64)
    grids = network.grids()
    n_hidden = len(network.layers) - 1
    for i, layer in enumerate(network.layers):
        acc = (x - np.asarray(grids[i].zero_point, np.int64)) @ weight_levels(layer).T.astype(np.int64)
        acc = acc + layer.bias_codes.astype(np.int64)
        requant = layer.requantization
        if requant is not None:
            acc = multiply_by_quantized_multiplier(acc, requant.fixed_multiplier, requant.shift)
        if i < n_hidden:
            grid = grids[i + 1]
            if requant.thresholds is not None:
                y = np.clip(acc, INT32_MIN + 1, INT32_MAX - 1)
                x = grid.qmin + np.searchsorted(requant.thresholds, y, side="right")
            else:
                x = np.clip(acc + int(grid.zero_point), *output_bounds(network.activation, grid))
    return np.clip(acc, INT32_MIN, INT32_MAX).astype(np.int32)


def _check_predict_is_the_integer_model(model, X):
    assert model._plan.arithmetic == "integer"
    integer = model.export_integer()
    X = _fuzz(X, integer.input_grid.scale).astype(model._frozen.dtype)
    codes = integer.quantize_input(X)
    np.testing.assert_array_equal(integer.integer_logits(codes), _int64_logits(model._frozen, codes))
    predicted = model.predict(X)
    np.testing.assert_array_equal(predicted, integer.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(model.predict_proba(X), integer.predict_proba(X))
    _check_default_onnx_graph(model, X, predicted)
    return len(X)


def _check_default_onnx_graph(model, X, predicted):
    """to_onnx's default graph of an integer model: the fixed-point arithmetic in float64 operators."""
    # After the integer model's own checks: without the onnx extra the test reports a skip.
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: no ONNX graph to run")
    pytest.importorskip("onnx", reason="the onnx extra is not installed: no ONNX graph to build")
    from skqat import to_onnx

    graph = to_onnx(model, X[:1])
    assert not {"QGemm", "MatMulInteger", "QLinearMatMul"} & {node.op_type for node in graph.graph.node}
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"X": X})
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(
            outputs[0], predicted if predicted.dtype.kind != "U" else predicted.astype(object)
        )
        # onnxruntime's exp is not numpy's: a few ulps.
        np.testing.assert_allclose(outputs[1], model.predict_proba(X), rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(outputs[0].reshape(predicted.shape), predicted, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def iris_raw():
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("granularity", ["per_tensor", "per_channel"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_classifier_grids(iris_raw, bits, granularity, symmetric):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(weight_bits=bits, granularity=granularity, symmetric=symmetric, **FAST).fit(
        X, y
    )
    _check_predict_is_the_integer_model(clf, X)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("input_granularity", ["per_feature", "per_tensor"])
def test_activations_and_input_grids(iris_raw, activation, input_granularity):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(
        weight_bits=4, activation=activation, input_granularity=input_granularity, **FAST
    ).fit(X, y)
    _check_predict_is_the_integer_model(clf, X)


def test_binary_and_string_labels():
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    labels = np.where(y == 1, "yes", "no")
    _check_predict_is_the_integer_model(QuantizedMLPClassifier(weight_bits=2, **FAST).fit(X, labels), X)


def test_multilabel():
    X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
    _check_predict_is_the_integer_model(QuantizedMLPClassifier(weight_bits=4, **FAST).fit(X, Y), X)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressors(loss):
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    if loss == "poisson":
        y = np.random.default_rng(0).poisson(np.exp(X[:, 0] / 2))
    reg = QuantizedMLPRegressor(weight_bits=4, loss=loss, **FAST).fit(X, y)
    _check_predict_is_the_integer_model(reg, X)


def test_raw_columns_of_very_different_ranges():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(0, 1e-3, 400),
            rng.normal(5e5, 2e5, 400),
            rng.integers(0, 2, 400),  # binary
            np.full(400, 7.0),  # constant
            rng.integers(0, 5, 400),  # few distinct values
        ]
    )
    y = (X[:, 1] > 5e5).astype(int) ^ (X[:, 2] > 0)
    clf = QuantizedMLPClassifier(weight_bits=4, **FAST).fit(X, y)
    _check_predict_is_the_integer_model(clf, X)


def test_sixteen_bit_inputs_take_the_float64_gemm(iris_raw):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(weight_bits=8, input_bits=16, activation_bits=16, **FAST).fit(X, y)
    # 16-bit codes times 8-bit weights overflow float32's exact integers; float64 holds them.
    assert np.dtype(np.float64) in clf._plan.gemm_dtypes
    _check_predict_is_the_integer_model(clf, X)


def test_every_gemm_type_gives_the_same_logits(iris_raw, monkeypatch):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(weight_bits=8, **FAST).fit(X, y)
    X = _fuzz(X, clf._frozen.input_grid.scale).astype(clf._frozen.dtype)
    reference = integer_inference.IntegerPlan(clf._frozen).logits(X)
    for limits in [((np.float32, 0), (np.float64, 2**53)), ((np.float32, 0), (np.float64, 0))]:
        monkeypatch.setattr(integer_inference, "_EXACT", limits)
        plan = integer_inference.IntegerPlan(clf._frozen)
        assert plan.gemm_dtypes[0] == (np.float64 if limits[1][1] else np.int64)
        np.testing.assert_array_equal(plan.logits(X), reference)


def test_large_inputs_are_chunked_the_same(iris_raw, monkeypatch):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(weight_bits=4, **FAST).fit(X, y)
    X = _fuzz(X, clf._frozen.input_grid.scale).astype(clf._frozen.dtype)
    whole = clf.predict_proba(X)
    monkeypatch.setattr(integer_inference, "_CHUNK", 7)
    np.testing.assert_array_equal(clf.predict_proba(X), whole)


@pytest.mark.parametrize(
    "params",
    [{"weight_bits": None, "activation_bits": None}, {"activation_bits": None}, {"input_bits": None}],
    ids=["float", "float activations", "float input"],
)
def test_models_that_are_not_integer_only_predict_in_float(iris_raw, params):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(**{**FAST, **params}).fit(X, y)
    assert clf._plan.arithmetic == "float"
    assert clf.predict_arithmetic_ == "float"


def test_the_default_model_predicts_in_integers(iris_raw):
    X, y = iris_raw
    clf = QuantizedMLPClassifier(**FAST).fit(X, y)
    assert clf.predict_arithmetic_ == "integer"
    spec_bits = clf.quantization_report().set_index("tensor").loc["input", "bits"]
    assert spec_bits == 8
    assert clf._frozen.layers[0].bias_bits == 32
