"""Every head kind through every target: the frozen record's head is the one label rule.

Kinds (:mod:`skqat._head`): softmax, binary, multilabel, single class,
identity and exp (Poisson). Targets: ``predict``/``predict_proba``,
``IntegerMLP`` (and its saved file), the C header compiled with gcc, the
float and integer ONNX graphs, skl2onnx over a pipeline, and QONNX.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_c_export import Built, _record, feature_rows
from test_c_export import gcc as gcc  # noqa: F401  (the fixture)

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor, register_skl2onnx, to_onnx
from skqat._head import HEAD_KINDS, LabelHead
from skqat._inference import float_plan
from skqat.export import IntegerMLP

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
skl2onnx = pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")


def _data(kind):
    rng = np.random.default_rng(0)
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    if kind == "softmax":
        return X, np.array(["a", "b", "c"], dtype=object)[y]
    if kind == "binary":
        return X, np.where(y == 0, "no", "yes")
    if kind == "single_class":
        return X, np.full(len(X), 7)
    if kind == "multilabel":
        return make_multilabel_classification(n_samples=300, n_features=6, n_classes=3, random_state=0)
    if kind == "exp":
        return X, rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    X, y = make_regression(n_samples=300, n_features=6, noise=1.0, random_state=0)
    return X, y / y.std()


@pytest.fixture(scope="module", params=list(HEAD_KINDS))
def fitted(request):
    kind = request.param
    X, y = _data(kind)
    params = dict(hidden_layer_sizes=(8,), weight_bits=4, input_bits=8, max_iter=30, random_state=0)
    if kind in ("identity", "exp"):
        model = QuantizedMLPRegressor(loss="poisson" if kind == "exp" else "squared_error", **params)
    else:
        model = QuantizedMLPClassifier(**params)
    return kind, model.fit(X, y), X.astype(np.float32)


def _expected_labels(kind, classes, scores, threshold=0.5):
    """The head's rule, spelled out here independently of skqat._head (threshold 0 for logits)."""
    if kind == "softmax":
        return classes[scores.argmax(axis=1)]
    if kind == "multilabel":
        return (scores > threshold).astype(int)
    if kind == "single_class":
        return np.full(len(scores), classes[0])
    return classes[(scores[:, 0] > threshold).astype(int)]


def test_the_record_owns_the_head(fitted):
    kind, model, X = fitted
    head = model._frozen.head
    assert head.kind == kind and head.out_activation == model.out_activation_
    outputs = model._plan.outputs(X.astype(model._frozen.dtype))
    if head.is_classifier:
        np.testing.assert_array_equal(head.classes, model.classes_)
        np.testing.assert_array_equal(model.predict(X), _expected_labels(kind, model.classes_, outputs))
        proba = model.predict_proba(X)
        assert proba.shape[1] == (2 if kind in ("binary", "single_class") else outputs.shape[1])
    else:
        np.testing.assert_array_equal(model.predict(X), outputs.ravel())


def test_integer_model_and_its_file(fitted, tmp_path):
    kind, model, X = fitted
    integer = model.export_integer()
    assert integer.head == model._frozen.head
    logits = integer.integer_logits(integer.quantize_input(X))
    if integer.head.is_classifier:
        labels = integer.predict(X)
        np.testing.assert_array_equal(labels, _expected_labels(kind, model.classes_, logits, threshold=0))
        assert integer.predict_proba(X).shape == model.predict_proba(X).shape
        assert np.mean(np.all(np.reshape(labels == model.predict(X), (len(X), -1)), axis=1)) > 0.9
    integer.save(tmp_path / "m.npz")
    loaded = IntegerMLP.load(tmp_path / "m.npz")
    assert loaded.head == integer.head
    np.testing.assert_array_equal(loaded.predict(X), integer.predict(X))


def test_c_header(fitted, gcc, tmp_path):  # noqa: F811
    kind, model, X = fitted
    integer = model.export_integer()
    built = Built(integer, X, tmp_path, gcc, f"m_{kind}")
    rows = feature_rows(integer, X)
    out = np.frombuffer(built.run("x", rows), dtype=_record(integer, built.kind))
    finite = np.isfinite(rows).all(axis=1)  # IntegerMLP refuses NaN and infinity
    expected = integer.predict(rows[finite])
    if kind == "multilabel":
        np.testing.assert_array_equal(out["labels"][finite], expected)
    elif integer.head.is_classifier:
        np.testing.assert_array_equal(integer.classes_[out["predict"][finite]], expected)
    else:
        got = out["values"][finite]
        np.testing.assert_array_equal(got if got.shape[1] > 1 else got.ravel(), expected.astype(np.float32))


@pytest.mark.parametrize("integer_ops", [False, True])
def test_onnx_graphs(fitted, integer_ops):
    kind, model, X = fitted
    session = ort.InferenceSession(to_onnx(model, X, integer_ops=integer_ops).SerializeToString())
    outputs = session.run(None, {"X": X})
    reference = model.export_integer(requantize="float32") if integer_ops else model
    if model._frozen.head.is_classifier:
        np.testing.assert_array_equal(outputs[0], reference.predict(X))
        np.testing.assert_allclose(outputs[1], reference.predict_proba(X), rtol=0, atol=1e-5)
    else:
        np.testing.assert_allclose(outputs[0].squeeze(1), reference.predict(X), rtol=1e-5)


def test_skl2onnx_pipeline(fitted):
    kind, model, X = fitted
    register_skl2onnx()
    pipeline = make_pipeline(StandardScaler(), model).fit(X, _data(kind)[1])
    options = {id(model): {"zipmap": False}} if model._frozen.head.is_classifier else None
    onx = skl2onnx.to_onnx(pipeline, X[:1], options=options)
    outputs = ort.InferenceSession(onx.SerializeToString()).run(None, {"X": X})
    expected = pipeline.predict(X)
    got = outputs[0] if model._frozen.head.is_classifier else outputs[0].reshape(expected.shape)
    if model._frozen.head.is_classifier:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_qonnx_output_activation(fitted):
    pytest.importorskip("qonnx", reason="the qonnx extra is not installed")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    from skqat import to_qonnx

    kind, model, X = fitted
    graph = to_qonnx(model, batch_size=len(X))
    out = execute_onnx(ModelWrapper(graph), {"global_in": X})["global_out"]
    outputs = float_plan(model._frozen).outputs(X.astype(model._frozen.dtype))
    # QONNX computes the trained network in float32: its outputs to float32 rounding.
    np.testing.assert_allclose(out, outputs, rtol=1e-4, atol=1e-5)


def test_head_kinds_are_covered_by_every_table():
    from skqat.export import _c_interface, _onnx, _qonnx

    assert set(_c_interface._KIND_TEXT) == set(HEAD_KINDS)
    outputs = {activation for activation in HEAD_KINDS.values() if activation != "identity"}
    assert set(_qonnx._OUTPUT_OPS) == outputs
    assert {"exp"} == set(_onnx._OUTPUT_OPS)


def test_head_rejects_what_it_cannot_mean():
    with pytest.raises(ValueError, match="Unknown head kind"):
        LabelHead("hinge")
    with pytest.raises(ValueError, match="needs classes"):
        LabelHead("binary")
    with pytest.raises(ValueError, match="takes no classes"):
        LabelHead("identity", np.array([0, 1]))
    with pytest.raises(AttributeError, match="classifier"):
        LabelHead("exp").labels(np.zeros((2, 1)))
