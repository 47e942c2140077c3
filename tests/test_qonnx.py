"""QONNX export: node types, qonnx's cleanup and executor, and hls4ml's C++ emulation.

The models train on float32 data. The QONNX graph is float32, and for a
float32 model it repeats the trained network's arithmetic (fake quantization
on the trained grids, ``skqat._inference.float_plan``; ``predict`` of a model
trained integer-only runs the integer model instead, whose labels agree with
it on nearly every row, checked below), so the executor's output matches the
trained network's probabilities to 1e-6 on every held-out row. The exception is a
value that lands exactly between two codes, which happens about once in a
million values (see :mod:`skqat.export._qonnx`); the fixed seeds here have
none.
"""

import shutil

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._activations import get_activation
from skqat._inference import float_plan
from skqat.export._qonnx import QONNX_DOMAIN, to_qonnx

pytest.importorskip("onnx")
pytest.importorskip("qonnx")

from qonnx.core.modelwrapper import ModelWrapper  # noqa: E402
from qonnx.core.onnx_exec import execute_onnx  # noqa: E402
from qonnx.util.cleanup import cleanup_model  # noqa: E402

TOL = 1e-6


def _trained_proba(clf, X):
    """Probabilities of the trained network in float: what the QONNX graph computes."""
    return clf._frozen.head.proba(float_plan(clf._frozen).outputs(np.asarray(X, clf._frozen.dtype)))


def _trained_values(reg, X):
    return reg._frozen.head.values(float_plan(reg._frozen).outputs(np.asarray(X, reg._frozen.dtype)))


QUANT_OPS = {"IntQuant", "Quant", "BipolarQuant"}

#: How close (in codes) to a rounding tie a hidden activation must be for two float32 sums in
#: different orders to round it to neighbouring codes: float32's relative 6e-8 on codes of at most
#: a few hundred, with room to spare.
TIE = 1e-4


def _rows_near_a_tie(clf, X) -> np.ndarray:
    """Rows whose trained network puts a hidden activation within ``TIE`` codes of a rounding tie.

    The QONNX graph is a float simulation: it sums the same products as training in
    onnxruntime's order, so on these rows (and only on these) it may round an activation to the
    neighbouring code. On a fixed per-feature input grid the first layer's products are exact
    multiples of its weight scale, and pre-activations can sit on a tie.
    """
    plan = float_plan(clf._frozen)
    x = np.asarray(X, plan.dtype)
    if plan.input_grid is not None:
        x = plan.input_grid(x.copy())
    x = x.astype(np.float64)
    near = np.zeros(len(x), bool)
    hidden = get_activation(plan.activation).numpy
    for weight, bias, grid in zip(plan.weights, plan.biases, plan.activation_grids):
        x = hidden(x @ weight + bias)
        if grid is not None:
            u = x * grid.inverse + (0 if grid.zero is None else grid.zero)
            near |= (np.abs(np.abs(u - np.floor(u)) - 0.5) < TIE).any(axis=1)
            x = grid(x)
    return near


@pytest.fixture(scope="module")
def digits32(digits_split):
    """Standardized float32 digits: the models train in float32."""
    X_train, X_test, y_train, y_test = digits_split
    scaler = StandardScaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        scaler.transform(X_test).astype(np.float32),
        y_train,
        y_test,
    )


def _classifier(data, **params):
    X_train, _, y_train, _ = data
    params = {"hidden_layer_sizes": (16,), "max_iter": 20, "random_state": 0, **params}
    return QuantizedMLPClassifier(**params).fit(X_train, y_train)


def _run(model, X):
    return execute_onnx(ModelWrapper(model), {"global_in": X})["global_out"]


def _producers(model):
    return {out: node for node in model.graph.node for out in node.output}


def _initializer(model, name):
    from onnx import numpy_helper

    (init,) = [i for i in model.graph.initializer if i.name == name]
    return numpy_helper.to_array(init)


def _attrs(node):
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _check_quant(model, node, grid, op_type="IntQuant"):
    """``node`` quantizes on ``grid``: its operator, domain, scale, zero point, bit width and attributes."""
    assert node.op_type == op_type and node.domain == QONNX_DOMAIN
    scale = _initializer(model, node.input[1])
    np.testing.assert_array_equal(scale.ravel(), np.asarray(grid.scale, np.float32).ravel())
    if op_type == "BipolarQuant":
        return
    np.testing.assert_array_equal(_initializer(model, node.input[2]).ravel(), np.ravel(grid.zero_point))
    assert _initializer(model, node.input[3]) == grid.bits
    attrs = _attrs(node)
    assert attrs["signed"] == int(grid.qmin < 0) and attrs["narrow"] == 0
    assert attrs["rounding_mode"] == b"ROUND"


def test_nodes_on_inputs_weights_biases_and_activations(digits32):
    clf = _classifier(
        digits32,
        hidden_layer_sizes=(16, 8),
        weight_bits=4,
        input_bits=8,
        bias_bits=16,
        input_granularity="per_tensor",
    )
    network = clf._frozen
    model = to_qonnx(clf)
    producers = _producers(model)
    assert {(op.domain, op.version) for op in model.opset_import} >= {("", 13), (QONNX_DOMAIN, 1)}
    assert [i.name for i in model.graph.input] == ["global_in"]
    assert [o.name for o in model.graph.output] == ["global_out"]

    matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
    adds = [n for n in model.graph.node if n.op_type == "Add"]
    assert len(matmuls) == len(adds) == 3
    # The input grid quantizes global_in, before the first MatMul.
    _check_quant(model, producers[matmuls[0].input[0]], network.input_grid)
    assert producers[matmuls[0].input[0]].input[0] == "global_in"
    for i, (matmul, add, layer) in enumerate(zip(matmuls, adds, network.layers)):
        weight = producers[matmul.input[1]]
        _check_quant(model, weight, layer.weight_grid)
        np.testing.assert_array_equal(_initializer(model, weight.input[0]), layer.weight.T)
        bias = producers[add.input[1]]
        assert bias.op_type == "IntQuant" and _initializer(model, bias.input[3]) == 16
        expected = np.float32(float(layer.weight_grid.scale) * float(network.grids()[i].scale))
        assert _initializer(model, bias.input[1]) == expected
    # Each hidden Add -> Relu -> IntQuant on the activation grid -> next MatMul.
    for i, grid in enumerate(network.activation_grids):
        quant = producers[matmuls[i + 1].input[0]]
        _check_quant(model, quant, grid)
        relu = producers[quant.input[0]]
        assert relu.op_type == "Relu" and relu.input[0] == adds[i].output[0]
    assert model.graph.node[-1].op_type == "Softmax"


def test_per_channel_scales_lie_along_matmul_columns(digits32):
    clf = _classifier(digits32, granularity="per_channel", symmetric=False)
    model = to_qonnx(clf)
    producers = _producers(model)
    for matmul, layer in zip([n for n in model.graph.node if n.op_type == "MatMul"], clf._frozen.layers):
        node = producers[matmul.input[1]]
        n_out = layer.weight.shape[0]
        assert _initializer(model, node.input[1]).shape == (1, n_out)
        assert _initializer(model, node.input[2]).shape == (1, n_out)
        assert _attrs(node)["signed"] == 0  # asymmetric weights: unsigned codes with a zero point
        _check_quant(model, node, layer.weight_grid)


def test_binary_weights_use_bipolar_quant(digits32):
    clf = _classifier(digits32, weight_bits=1)
    model = to_qonnx(clf)
    producers = _producers(model)
    for matmul, layer in zip([n for n in model.graph.node if n.op_type == "MatMul"], clf._frozen.layers):
        _check_quant(model, producers[matmul.input[1]], layer.weight_grid, "BipolarQuant")


def test_float_bias_and_calibrated_grids_are_left_out(digits32):
    clf = _classifier(digits32, activation_bits=None)
    assert clf._frozen.input_grid.calibrated and clf._frozen.activation_grids[0].calibrated
    model = to_qonnx(clf)
    ops = [n.op_type for n in model.graph.node]
    # Only the two weight quantizers: predict applies no input, activation or bias grid.
    assert ops == ["IntQuant", "MatMul", "Add", "Relu", "IntQuant", "MatMul", "Add", "Softmax"]
    adds = [n for n in model.graph.node if n.op_type == "Add"]
    assert all(a.input[1] in {i.name for i in model.graph.initializer} for a in adds)


CONFIGS = [
    *[
        pytest.param(
            {"weight_bits": bits, "granularity": granularity, "symmetric": symmetric},
            id=f"w{bits}-{granularity}-{'sym' if symmetric else 'asym'}",
        )
        for bits in (1, 2, 4, 8)
        for granularity in ("per_tensor", "per_channel")
        for symmetric in (True, False)
    ],
    *[pytest.param({"activation": act, "weight_bits": 4}, id=f"act-{act}") for act in ("tanh", "logistic")],
    pytest.param({"activation": "identity", "weight_bits": 4}, id="act-identity"),
    pytest.param({"activation_bits": 4, "weight_bits": 2, "hidden_layer_sizes": (16, 8)}, id="a4-two-hidden"),
    pytest.param({"input_bits": 8, "bias_bits": 16}, id="input8-bias16"),
    pytest.param({"input_bits": 8, "bias_bits": 32, "granularity": "per_channel"}, id="input8-bias32-pc"),
    pytest.param(
        {"weight_bits": "learned", "target_bits": 3, "hidden_layer_sizes": (16, 8)}, id="learned-widths"
    ),
    pytest.param({"bias_bits": 16, "activation_bits": None}, id="bias16-float-input"),
    pytest.param(
        {"input_bits": 8, "input_granularity": "per_feature", "symmetric": False, "bias_bits": 32},
        id="per-feature-input",
    ),
    pytest.param({"weight_bits": (8, None)}, id="float-last-layer"),
]


@pytest.mark.parametrize("params", CONFIGS)
def test_execute_onnx_reproduces_predict_proba(digits32, params):
    _, X_test, _, _ = digits32
    clf = _classifier(digits32, **params)
    model = to_qonnx(clf, batch_size=len(X_test))
    assert QUANT_OPS & {n.op_type for n in model.graph.node}
    proba = _trained_proba(clf, X_test)
    # Every row agrees, except rows that sit on a rounding tie (_rows_near_a_tie), at most 1%.
    ties = _rows_near_a_tie(clf, X_test)
    assert ties.mean() <= 0.01
    np.testing.assert_allclose(_run(model, X_test)[~ties], proba[~ties], rtol=0, atol=TOL)
    # qonnx's cleanup accepts the graph, and it computes the same.
    cleaned = cleanup_model(ModelWrapper(model))
    assert [i.name for i in cleaned.graph.input] == ["global_in"]
    out = execute_onnx(cleaned, {"global_in": X_test})["global_out"]
    np.testing.assert_allclose(out[~ties], proba[~ties], rtol=0, atol=TOL)


def test_cleanup_keeps_activation_quantizers_and_quant_weights(digits32):
    _, X_test, _, _ = digits32
    clf = _classifier(digits32, weight_bits=4, input_bits=8)
    model = to_qonnx(clf, batch_size=len(X_test))
    cleaned = cleanup_model(ModelWrapper(model))
    ops = [n.op_type for n in cleaned.graph.node]
    # qonnx 1.0's cleanup folds IntQuant nodes on constants; those on the input and activations stay.
    assert ops.count("IntQuant") >= 2
    # The pre-1.0 name "Quant" keeps the weight quantizers through cleanup, and executes the same.
    legacy = to_qonnx(clf, batch_size=len(X_test), op_type="Quant")
    cleaned = cleanup_model(ModelWrapper(legacy))
    # Input, activation, two weights and the last layer's int32 bias (bias_bits="auto": 32; the
    # per-feature first layer's bias holds its centers' shift and stays float).
    assert [n.op_type for n in cleaned.graph.node].count("Quant") == 5
    proba = _trained_proba(clf, X_test)
    np.testing.assert_allclose(execute_onnx(cleaned, {"global_in": X_test})["global_out"], proba, atol=TOL)


def test_calibrated_grids_make_a_fully_quantized_graph(digits32):
    _, X_test, _, _ = digits32
    clf = _classifier(digits32, activation_bits=None)
    model = to_qonnx(clf, batch_size=len(X_test), calibrated_grids=True)
    producers = _producers(model)
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
    for matmul, grid in zip(matmuls, clf._frozen.grids()):
        _check_quant(model, producers[matmul.input[0]], grid)
    # No longer predict's arithmetic, but the same classifier.
    labels = _run(model, X_test).argmax(axis=1)
    assert np.mean(labels == _trained_proba(clf, X_test).argmax(axis=1)) > 0.9


def test_logits_only(digits32):
    _, X_test, _, _ = digits32
    clf = _classifier(digits32)
    model = to_qonnx(clf, batch_size=len(X_test), output_activation=False)
    assert model.graph.node[-1].op_type == "Add"
    labels = clf.classes_[_run(model, X_test).argmax(axis=1)]
    np.testing.assert_array_equal(labels, clf.classes_[_trained_proba(clf, X_test).argmax(axis=1)])
    # The integer model predict runs: the same labels on nearly every row.
    assert np.mean(labels == clf.predict(X_test)) >= 0.99


def test_binary_classifier_outputs_the_positive_probability():
    X, y = make_classification(n_samples=300, n_features=10, random_state=0)
    X = X.astype(np.float32)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0).fit(X_train, y_train)
    model = to_qonnx(clf, batch_size=len(X_test))
    assert model.graph.node[-1].op_type == "Sigmoid"
    np.testing.assert_allclose(_run(model, X_test)[:, 0], _trained_proba(clf, X_test)[:, 1], rtol=0, atol=TOL)


def test_multilabel():
    X, Y = make_multilabel_classification(n_samples=300, n_features=12, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    X_train, X_test, Y_train, _ = train_test_split(X, Y, random_state=0)
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), weight_bits=4, max_iter=40, random_state=0)
    clf = clf.fit(X_train, Y_train)
    out = _run(to_qonnx(clf, batch_size=len(X_test)), X_test)
    assert out.shape == (len(X_test), 4)
    np.testing.assert_allclose(out, _trained_proba(clf, X_test), rtol=0, atol=TOL)


@pytest.mark.parametrize("params", [{}, {"input_bits": 8, "bias_bits": 32, "activation": "tanh"}])
def test_regressor(params):
    X, y = make_regression(n_samples=300, n_features=8, n_targets=2, noise=0.1, random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    y = StandardScaler().fit_transform(y).astype(np.float32)  # outputs of order 1: an absolute tolerance
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    reg = QuantizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=40, random_state=0, **params)
    reg = reg.fit(X_train, y_train)
    model = to_qonnx(reg, batch_size=len(X_test))
    assert model.graph.node[-1].op_type == "Add"  # identity output: the last layer writes global_out
    np.testing.assert_allclose(_run(model, X_test), _trained_values(reg, X_test), rtol=0, atol=TOL)


def test_poisson_regressor_ends_with_exp(counts):
    X, y = counts
    X = X.astype(np.float32)
    reg = QuantizedMLPRegressor(
        loss="poisson", hidden_layer_sizes=(16,), input_bits=8, max_iter=40, random_state=0
    ).fit(X, y)
    model = to_qonnx(reg, batch_size=len(X))
    assert model.graph.node[-1].op_type == "Exp"
    # float32 execution of a float32 model; onnxruntime's float32 Exp is not numpy's (measured: 2 ulps).
    np.testing.assert_allclose(_run(model, X).ravel(), _trained_values(reg, X), rtol=1e-6)
    logits = to_qonnx(reg, batch_size=len(X), output_activation=False)
    np.testing.assert_allclose(np.exp(_run(logits, X)).ravel(), _trained_values(reg, X), rtol=1e-5)


def test_float64_model_runs_in_float32(digits32):
    X_train, X_test, y_train, _ = digits32
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(
        X_train.astype(np.float64), y_train
    )
    out = _run(to_qonnx(clf, batch_size=len(X_test)), X_test)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _trained_proba(clf, X_test.astype(np.float64)), rtol=0, atol=TOL)


def test_checks(digits32):
    X_train, _, y_train, _ = digits32
    with pytest.raises(NotFittedError):
        to_qonnx(QuantizedMLPClassifier())
    clf = _classifier(digits32)
    with pytest.raises(ValueError, match="features"):
        to_qonnx(clf, X_train[:, :3])
    with pytest.raises(ValueError, match="batch_size"):
        to_qonnx(clf, batch_size=0)
    with pytest.raises(ValueError, match="op_type"):
        to_qonnx(clf, op_type="QuantizeLinear")
    assert to_qonnx(clf, X_train).graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1


# hls4ml warns where it cannot move a scale below a bias Add; it keeps the scale there, still correct.
@pytest.mark.filterwarnings("ignore:Failed to propagate quantization:UserWarning")
@pytest.mark.parametrize("input_granularity", ["per_tensor", "per_feature"])
def test_hls4ml_emulation_agrees_with_predict(digits32, tmp_path, input_granularity):
    """hls4ml converts the cleaned graph and compiles its C++ emulation with g++: same labels as predict."""
    hls4ml = pytest.importorskip("hls4ml")
    if shutil.which("g++") is None:
        pytest.skip("hls4ml's emulation library needs g++")
    _, X_test, _, _ = digits32
    clf = _classifier(digits32, weight_bits=4, input_bits=8, input_granularity=input_granularity)
    # Logits: hls4ml's softmax tables need a narrow input type, and argmax needs no softmax.
    model = cleanup_model(ModelWrapper(to_qonnx(clf, output_activation=False)))
    config = hls4ml.utils.config.config_from_onnx_model(
        model, granularity="model", backend="Vitis", default_precision="fixed<32,16>"
    )
    hls_model = hls4ml.converters.convert_from_onnx_model(
        model, output_dir=str(tmp_path / "hls"), io_type="io_parallel", backend="Vitis", hls_config=config
    )
    hls_model.compile()
    logits = hls_model.predict(np.ascontiguousarray(X_test[:200]))
    agreement = np.mean(clf.classes_[logits.argmax(axis=1)] == clf.predict(X_test[:200]))
    assert agreement >= 0.97
