"""The activation table: torch, numpy, backward, ONNX and integer parts agree; unknown names raise."""

import numpy as np
import pytest
import torch

from skqat import QuantizedMLPClassifier
from skqat._activations import ACTIVATIONS, get_activation
from skqat._integer_codes import output_bounds
from skqat._record_checks import check_network

NAMES = list(ACTIVATIONS)
X = np.linspace(-6.0, 6.0, 241)


@pytest.mark.parametrize("name", NAMES)
def test_torch_and_numpy_functions_agree(name):
    entry = ACTIVATIONS[name]
    expected = entry.torch_function()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(entry.numpy(X.copy()), expected, rtol=1e-12, atol=1e-15)
    assert np.all(expected >= 0) == entry.nonnegative


@pytest.mark.parametrize("name", NAMES)
def test_backward_kernel_is_autograds(name):
    entry = ACTIVATIONS[name]
    x = torch.as_tensor(X, dtype=torch.float64).requires_grad_()
    out = entry.torch_function()(x)
    grad = torch.linspace(-1, 1, len(X), dtype=torch.float64)
    (expected,) = torch.autograd.grad(out, x, grad)
    np.testing.assert_allclose(entry.backward(grad, out.detach()).numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_onnx_operator_computes_the_function(name):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from onnx import TensorProto, helper

    entry = ACTIVATIONS[name]
    if entry.onnx_op is None:
        assert np.array_equal(entry.numpy(X.copy()), X), "only the identity adds no node"
        return
    node = helper.make_node(entry.onnx_op, ["x"], ["y"])
    value = [helper.make_tensor_value_info(n, TensorProto.DOUBLE, [None]) for n in ("x", "y")]
    model = helper.make_model(helper.make_graph([node], "g", value[:1], value[1:]))
    model.opset_import[0].version = 17
    model.ir_version = 9
    got = ort.InferenceSession(model.SerializeToString()).run(None, {"x": X})[0]
    np.testing.assert_allclose(got, entry.numpy(X.copy()), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_integer_strategy(name):
    entry = ACTIVATIONS[name]
    assert entry.integer in ("clamp", "table")
    if entry.integer == "table":
        low, high = entry.output_range
        inside = np.linspace(low, high, 101)[1:-1]
        np.testing.assert_allclose(entry.numpy(entry.inverse(inside)), inside, rtol=1e-9)
    else:
        assert entry.inverse is None


@pytest.mark.parametrize("name", NAMES)
def test_init_gain_is_scikit_learns(name):
    from sklearn.neural_network import MLPClassifier

    sizes = (5, 7)
    model = MLPClassifier(hidden_layer_sizes=(7,), activation=name)
    model._random_state = np.random.RandomState(0)
    coef, _ = model._init_coef(*sizes, np.float64)
    assert np.abs(coef).max() <= np.sqrt(ACTIVATIONS[name].init_factor / sum(sizes))
    assert np.abs(coef).max() > 0.8 * np.sqrt(ACTIVATIONS[name].init_factor / sum(sizes))


@pytest.mark.parametrize("name", NAMES)
def test_every_name_trains_predicts_and_exports(iris, name):
    X, y = iris
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(6,), activation=name, weight_bits=4, input_bits=8, max_iter=5, random_state=0
    ).fit(X, y)
    model = clf.export_integer()
    assert np.mean(model.predict(X) == clf.predict(X)) > 0.9


def test_unknown_names_raise_in_every_consumer(iris):
    import dataclasses

    from skqat._frozen import FrozenGrid

    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        get_activation("swish")
    with pytest.raises(ValueError, match="activation"):
        QuantizedMLPClassifier(activation="swish").fit(*iris)
    grid = FrozenGrid(4, 0, 15, np.array(0.1), np.array(0, np.int32))
    with pytest.raises(ValueError, match="Unknown activation"):
        output_bounds("swish", grid)
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(4,), weight_bits=4, max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="activation 'swish' is not one of"):
        check_network(dataclasses.replace(clf._frozen, activation="swish"))
