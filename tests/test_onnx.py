"""ONNX export run by the real onnxruntime: the estimator alone and whole pipelines."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor, register_skl2onnx, to_onnx

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
skl2onnx = pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize(
    "params",
    [{}, {"granularity": "per_channel", "symmetric": False, "input_bits": 8}],
    ids=["lsq", "per_channel"],
)
def test_classifier_onnx_parity(digits_split, bits, params):
    X_train, X_test, y_train, _ = digits_split
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(64,), weight_bits=bits, max_iter=60, random_state=0, **params
        ),
        X_train,
        y_train,
    )
    labels, proba = _run(to_onnx(clf, X_train), X_test)
    assert np.mean(labels == clf.predict(X_test)) >= 0.999
    assert np.abs(proba - clf.predict_proba(X_test)).max() < 1e-4
    # A float32 graph of the float64 model: the same labels on nearly every row.
    labels32, _ = _run(to_onnx(clf, X_train, dtype=np.float32), X_test.astype(np.float32))
    assert np.mean(labels32 == clf.predict(X_test)) >= 0.99


def test_string_labels_binary_and_float32_training(iris):
    X, y = iris
    X = X[y < 2].astype(np.float32)
    names = np.where(y[y < 2] == 0, "setosa", "versicolor")
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(8,), weight_bits=3, max_iter=100, learning_rate_init=0.01, random_state=0
        ),
        X,
        names,
    )
    labels, proba = _run(to_onnx(clf, X), X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_multilabel_onnx():
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=200, n_classes=3, random_state=0)
    clf = _fit(
        QuantizedMLPClassifier(hidden_layer_sizes=(16,), weight_bits=4, max_iter=80, random_state=0), X, Y
    )
    labels, proba = _run(to_onnx(clf, X), X.astype(np.float64))
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-4)


def test_regressor_onnx():
    X, y = make_regression(n_samples=400, n_features=8, noise=2.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    reg = _fit(
        QuantizedMLPRegressor(
            hidden_layer_sizes=(16,), weight_bits=4, max_iter=100, learning_rate_init=0.01, random_state=0
        ),
        X,
        y / y.std(),
    )
    (prediction,) = _run(to_onnx(reg, X), X)
    np.testing.assert_allclose(prediction.ravel(), reg.predict(X), atol=1e-4)


def test_learned_and_binary_grids_export(iris):
    X, y = iris
    for params in (
        {"weight_bits": 1},
        {"weight_bits": "learned", "bit_lambda": 0.5},
        {"weight_bits": (8, 2)},
    ):
        clf = _fit(
            QuantizedMLPClassifier(
                hidden_layer_sizes=(16,), max_iter=80, learning_rate_init=0.01, random_state=0, **params
            ),
            X,
            y,
        )
        labels, proba = _run(to_onnx(clf, X), X)
        np.testing.assert_array_equal(labels, clf.predict(X))
        assert np.abs(proba - clf.predict_proba(X)).max() < 1e-4


def test_onnx_graph_stores_integer_weights(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = _fit(QuantizedMLPClassifier(hidden_layer_sizes=(32,), weight_bits=4, max_iter=5), X_train, y_train)
    model = to_onnx(clf, X_train)
    ops = {node.op_type for node in model.graph.node}
    assert "Cast" in ops and "Round" in ops
    int8_initializers = [t for t in model.graph.initializer if t.data_type == 3]  # INT8
    assert sum(np.prod(t.dims) for t in int8_initializers) >= 64 * 32 + 32 * 10


def test_to_onnx_checks_the_sample(iris):
    X, y = iris
    clf = _fit(QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=3), X, y)
    with pytest.raises(ValueError, match="features"):
        to_onnx(clf, X[:, :2])


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
    _fit(pipe, X, y)
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
