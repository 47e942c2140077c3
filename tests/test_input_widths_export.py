"""Learned input widths (``input_bits="learned"``) through every export target, bit for bit.

Each model drops features (0 bits: constant pixel columns of digits,
constant columns of a regression) and gives the others windows of 1 to 5
bits of the 8-bit container, symmetric and asymmetric (a zero point per
feature), in float64 and float32. Every target must compute the window's
codes, ``low + step * clamp(round((x * (1/s) + zp - low) / step), 0,
levels - 1)`` in the model's float type, so that its outputs equal the
numpy integer model's and ``predict``'s on every row: training rows, rows far
outside the training range, +-1e30, zeros, exact window codes and the
float32 values on both sides of every window's half-way points, and rows
whose dropped features hold anything.

Targets: :class:`~skqat.export.IntegerMLP`, the C header (gcc, strict and
picky warnings, UBSan, an FMA build), the default and integer ONNX graphs
(onnxruntime; the integer graph also under an emulated CPU without VNNI),
QONNX (qonnx's executor, to the float simulation's tie tolerance), and a
folded pipeline (``IntegerPipeline``, its C header and its ONNX graphs).
"""

import dataclasses
import platform
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, make_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from test_c_export import PICKY, STRICT, Built, _compile, _has_fma, _record, check_features
from test_c_export import gcc as gcc  # noqa: F401  (the fixture)

import skqat
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat.export import IntegerMLP
from skqat.export._integer import off_window

#: Rows at +-3e38 overflow float32 products and scikit-learn's finite check sums them: warnings only.
QUIET = dict(over="ignore", invalid="ignore")

LEARNED = dict(input_bits="learned", weight_bits=4, hidden_layer_sizes=(16,), max_iter=20, random_state=0)

#: name: (data, estimator, parameters). Each drops features and keeps others at several widths.
CASES = {
    "classifier": ("digits", QuantizedMLPClassifier, dict(input_target_bits=1.5)),
    "asymmetric_float32_tanh": (
        "digits32",
        QuantizedMLPClassifier,
        dict(input_target_bits=2, symmetric=False, activation="tanh"),
    ),
    "regressor_float32_asymmetric_w8": (
        "regression32",
        QuantizedMLPRegressor,
        dict(input_target_bits=1, symmetric=False, weight_bits=8),
    ),
    # activation_bits=None: predict runs the float network (the float ONNX graph, QONNX).
    "float_activations": (
        "digits32",
        QuantizedMLPClassifier,
        dict(input_target_bits=2, activation_bits=None),
    ),
}
INTEGER = [case for case in CASES if case != "float_activations"]
FLOAT32 = [case for case in CASES if CASES[case][0].endswith("32")]


def _data(kind):
    if kind == "digits":
        return load_digits(return_X_y=True)
    if kind == "digits32":
        # Standardized: negative values, so asymmetric grids get nonzero zero points.
        X, y = load_digits(return_X_y=True)
        return StandardScaler().fit_transform(X).astype(np.float32), y
    X, y = make_regression(n_samples=500, n_features=8, n_informative=5, noise=1.0, random_state=0)
    X = np.column_stack([X[:, :3], np.full(len(X), 2.5), X[:, 3:], np.zeros(len(X))])  # two constant
    return X.astype(np.float32), (y / y.std()).astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    """``fitted(case)``: the estimator and its training rows, fitted once per module."""
    cache = {}

    def get(case):
        if case not in cache:
            data, estimator, params = CASES[case]
            X, y = _data(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[case] = (estimator(**{**LEARNED, **params}).fit(X, y), X)
        return cache[case]

    return get


# ----------------------------------------------------------------------
# Rows and the codes they must get
# ----------------------------------------------------------------------
def _window(grid):
    return tuple(np.asarray(w, np.int64) for w in grid.window)


def spec_codes(grid, rows, dtype) -> np.ndarray:
    """The window's codes, restated from the definition (not through skqat's functions), as int64."""
    low, step, levels = (w.astype(dtype) for w in _window(grid))
    with np.errstate(**QUIET):
        u = rows.astype(dtype) * np.reciprocal(np.asarray(grid.scale, dtype)) + np.asarray(
            grid.zero_point, dtype
        )
        k = np.minimum(np.maximum(np.round((u - low) / step), 0), levels - 1)
    return (low + step * k).astype(np.int64)


def window_ties(grid, rows, dtype) -> int:
    """Values of ``rows`` exactly half-way between two codes of their feature's window (in ``dtype``)."""
    low, step, levels = (w.astype(dtype) for w in _window(grid))
    with np.errstate(**QUIET):
        u = rows.astype(dtype) * np.reciprocal(np.asarray(grid.scale, dtype)) + np.asarray(
            grid.zero_point, dtype
        )
        v = (u - low) / step
        return int(np.sum(np.isfinite(v) & (v > 0) & (v < levels - 1) & (v - np.floor(v) == 0.5)))


def fuzz_rows(est, X, n=300, seed=0) -> np.ndarray:
    """float32 rows: training rows, far out of range, +-1e30, zeros, window codes and half-way points
    (and their float32 neighbours), and rows whose dropped features hold anything."""
    rng = np.random.default_rng(seed)
    grid = est._frozen.input_grid
    X = np.asarray(X, np.float32)
    n_features = X.shape[1]
    low, step, levels = _window(grid)
    scale, zero = np.asarray(grid.scale, np.float64), np.asarray(grid.zero_point, np.float64)
    k = rng.integers(0, levels, (n, n_features))
    # A feature's window codes, the half-way points between them, and just past both ends.
    codes = scale * (low + step * k - zero)
    halves = scale * (low + step * (k + 0.5) - zero)
    ends = scale * (np.stack([low - step, low, low + step * (levels - 1), low + step * levels]) - zero)
    blocks = [X[rng.permutation(len(X))[:n]], codes, halves, ends]
    halves32 = halves.astype(np.float32)
    blocks += [np.nextafter(halves32, np.float32(np.inf)), np.nextafter(halves32, np.float32(-np.inf))]
    blocks += [X[:50] * 20, -X[:50] * 20, rng.normal(0, 1e4, (50, n_features))]
    blocks += [np.full((3, n_features), v) for v in (1e30, -1e30, 0.0, 3e38, -3e38)]
    # Dropped features set to extremes, the others as trained.
    moved = X[:60].copy()
    dropped = grid.feature_bits == 0
    moved[:, dropped] = rng.choice([1e30, -1e30, 0.0, 7.5, -1e4], (60, int(dropped.sum())))
    blocks.append(moved)
    return np.vstack([np.asarray(b, np.float32) for b in blocks])


def test_models_drop_features_and_keep_several_widths(fitted):
    for case in CASES:
        est, _ = fitted(case)
        grid = est._frozen.input_grid
        assert grid.window is not None and grid.per_feature
        bits = est.input_bits_
        np.testing.assert_array_equal(grid.feature_bits, bits)
        assert (bits == 0).any(), case
        assert len(np.unique(bits[bits > 0])) >= 2, case
        if not grid.symmetric:
            assert grid.nonzero_zero_point, case


# ----------------------------------------------------------------------
# The numpy integer model
# ----------------------------------------------------------------------
@pytest.mark.parametrize("case", INTEGER)
def test_integer_model_codes_and_predictions(case, fitted):
    est, X = fitted(case)
    model = est.export_integer()
    grid, dtype = model.input_grid, model.network.dtype
    rows = fuzz_rows(est, X)
    with np.errstate(**QUIET):
        codes = model.quantize_input(rows)
        np.testing.assert_array_equal(model.predict(rows), est.predict(rows))
    np.testing.assert_array_equal(codes, spec_codes(grid, rows, dtype))
    assert off_window(codes, grid.window) is None
    low = _window(grid)[0]
    dropped = grid.feature_bits == 0
    np.testing.assert_array_equal(codes[:, dropped], np.broadcast_to(low[dropped], codes[:, dropped].shape))
    if dtype == np.float32:
        assert window_ties(grid, rows, dtype) > 0
    # A code of the container off a feature's window is refused.
    kept = int(np.flatnonzero(_window(grid)[1] > 1)[0])
    wrong = codes[:1].copy()
    wrong[0, kept] += 1
    with pytest.raises(ValueError, match="learned width"):
        model.integer_logits(wrong)


# ----------------------------------------------------------------------
# The C header
# ----------------------------------------------------------------------
def _window_code_rows(grid, n=400, seed=2) -> np.ndarray:
    """int32 rows of codes on every feature's window: random, then all lowest, all highest."""
    low, step, levels = _window(grid)
    k = np.random.default_rng(seed).integers(0, levels, (n, len(low)))
    k[0], k[1] = 0, levels - 1
    return (low + step * k).astype(np.int32)


def _check_c_rows(model, exe_run, rows, est):
    """The header's codes, logits and predictions on float32 ``rows`` against the numpy model's."""
    kind = "regressor" if model.classes_ is None else "classifier"
    out = np.frombuffer(exe_run(rows), dtype=_record(model, kind))
    assert len(out) == len(rows)
    codes = spec_codes(model.input_grid, rows, model.network.dtype)
    np.testing.assert_array_equal(out["codes"], codes)
    logits = model.integer_logits(codes)
    np.testing.assert_array_equal(out["logits"], logits)
    np.testing.assert_array_equal(out["again"], logits)
    with np.errstate(**QUIET):
        expected = est.predict(rows)
    if kind == "classifier":
        np.testing.assert_array_equal(model.classes_[out["predict"]], expected)
    else:
        np.testing.assert_array_equal(out["values"], expected.reshape(len(rows), -1).astype(np.float32))


@pytest.mark.parametrize("case", INTEGER)
def test_c_header_bit_exact(case, fitted, gcc, tmp_path):
    est, X = fitted(case)
    model = est.export_integer()
    built = Built(model, X, tmp_path, gcc, "lw")
    text = built.header.read_text()
    assert "lw_input_step" in text and "LW_INPUT_FEATURE_BITS" in text
    # The C test suite's own rows (grid probes, +-inf, NaN), then the window's.
    check_features(built)
    rows = fuzz_rows(est, X)
    _check_c_rows(model, lambda r: built.run("x", r), rows, est)
    code_rows = _window_code_rows(model.input_grid)
    logits = np.frombuffer(built.run("codes", code_rows), np.int32).reshape(len(code_rows), -1)
    np.testing.assert_array_equal(logits, model.integer_logits(code_rows))
    # Picky warnings, and (where the CPU has FMA) contraction on: the codes do not move.
    driver = tmp_path / "driver.c"
    _compile(gcc, driver, tmp_path / "picky", [*STRICT, *PICKY, "-O2"])
    if platform.machine() == "x86_64" and _has_fma():
        fused = _compile(
            gcc, driver, tmp_path / "fused", ["-std=gnu99", "-O2", "-mfma", "-ffp-contract=fast"]
        )

        def run_fused(r):
            (tmp_path / "f.bin").write_bytes(np.ascontiguousarray(r).tobytes())
            subprocess.run([str(fused), "x", str(tmp_path / "f.bin"), str(tmp_path / "f.out")], check=True)
            return (tmp_path / "f.out").read_bytes()

        _check_c_rows(model, run_fused, rows, est)


# ----------------------------------------------------------------------
# ONNX
# ----------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_onnx_graphs(case, fitted):
    pytest.importorskip("onnxruntime")
    from test_onnx import _run

    est, X = fitted(case)
    rows = fuzz_rows(est, X)
    with np.errstate(**QUIET):
        expected = est.predict(rows)
        proba = est.predict_proba(rows) if hasattr(est, "predict_proba") else None
    # The default graph: predict's arithmetic (the fixed-point integer model, or the float network),
    # fed the model's own float type. onnxruntime's exp is not numpy's: probabilities to a few ulps.
    dtype = est._frozen.dtype
    outputs = _run(skqat.to_onnx(est, rows[:1].astype(dtype)), rows.astype(dtype))
    if proba is None:
        np.testing.assert_array_equal(outputs[0].ravel(), expected.ravel())
    else:
        np.testing.assert_array_equal(outputs[0], expected)
        assert np.abs(outputs[1] - proba).max() <= 8 * np.finfo(dtype).eps
    if case not in INTEGER:
        return
    # The integer graph: export_integer(requantize="float32")'s int32 logits, from either input type,
    # and its labels (its regression values, in float64, are cast to the input's type).
    reference = est.export_integer(requantize="float32")
    with np.errstate(**QUIET):
        logits = reference.integer_logits(reference.quantize_input(rows))
        predicted = reference.predict(rows)
    if reference.classes_ is None:
        predicted = (logits * reference.logit_scale).reshape(predicted.shape)
    for dtype in (np.float32, np.float64):
        outputs = _run(skqat.to_onnx(est, rows[:1].astype(dtype), integer_ops=True), rows.astype(dtype))
        np.testing.assert_array_equal(outputs[-1], logits)
        np.testing.assert_array_equal(outputs[0].reshape(predicted.shape), predicted.astype(outputs[0].dtype))


def test_integer_onnx_graph_without_vnni(fitted, tmp_path, monkeypatch):
    """The integer graphs give the same logits on onnxruntime's AVX2 kernels (emulated, no VNNI).

    Control: the 8-bit regressor with int8 weights, which those kernels saturate, must go wrong there.
    """
    pytest.importorskip("onnxruntime")
    from test_onnx_cpus import QEMU, _emulated_mismatches, _save

    from skqat.export import _onnx_integer

    if platform.machine() != "x86_64" or QEMU is None:
        pytest.skip("needs an x86_64 host and qemu-user's qemu-x86_64")
    names = ["classifier", "regressor_float32_asymmetric_w8"]
    for name in names:
        est, X = fitted(name)
        with np.errstate(**QUIET):
            _save(tmp_path, name, est, fuzz_rows(est, X, n=100))
    monkeypatch.setattr(_onnx_integer, "_signed_weights_exact", lambda layer, grid: True)
    with np.errstate(**QUIET):
        _save(tmp_path, "control", est, fuzz_rows(est, X, n=100))
    mismatches = _emulated_mismatches(tmp_path, [*names, "control"])
    assert mismatches.pop("control") > 0
    assert mismatches == dict.fromkeys(names, 0)


def _graph_logits(network, rows, integer_ops: bool) -> np.ndarray:
    """The logits of the default (exact) or integer ONNX graph of ``network``, run on ``rows``."""
    from onnx import helper
    from test_onnx import _run

    from skqat.export import _onnx
    from skqat.export._onnx_exact import build_exact_network
    from skqat.export._onnx_integer import build_integer_network

    g = _onnx.StandaloneGraph()
    build = build_integer_network if integer_ops else build_exact_network
    logits, dtype = build(g, network, "X", rows.dtype)
    inputs = [helper.make_tensor_value_info("X", _onnx.onnx_type(rows.dtype), [None, network.n_features])]
    outputs = [helper.make_tensor_value_info(logits, _onnx.onnx_type(dtype), [None, network.n_outputs])]
    return _run(_onnx.make_model(g, "logits", inputs, outputs, _onnx.DEFAULT_OPSET), rows)[0]


@pytest.mark.parametrize("case", ["classifier", "asymmetric_float32_tanh"])
def test_window_ties_round_half_to_even(case, fitted, gcc, tmp_path):
    """Input scales of 2**-4 make the windows' half-way points exact in float64 and float32: the C
    header and both ONNX graphs round them half to even, as the numpy model."""
    pytest.importorskip("onnxruntime")
    est, X = fitted(case)
    network = est._frozen
    grid, dtype = network.input_grid, network.dtype
    grid = dataclasses.replace(grid, scale=np.full(np.shape(grid.scale), 2.0**-4, dtype))
    network = dataclasses.replace(network, input_grid=grid)
    low, step, levels = _window(grid)
    k = np.random.default_rng(4).integers(0, np.maximum(levels - 1, 1), (400, len(low)))
    half = np.where(np.arange(400)[:, None] % 2 == 0, 0.5, 0.0)  # every other row on the codes
    rows = (2.0**-4 * (low + step * (k + half) - grid.zero_point)).astype(np.float32)
    assert window_ties(grid, rows, dtype) > 1000
    model = IntegerMLP(network)
    codes = model.quantize_input(rows)
    np.testing.assert_array_equal(codes, spec_codes(grid, rows, dtype))
    logits = model.integer_logits(codes)
    _check_c_rows(model, lambda r: Built(model, X, tmp_path, gcc, "ties").run("x", r), rows, model)
    for x in (rows, rows.astype(np.float64)):
        np.testing.assert_array_equal(_graph_logits(network, x, integer_ops=False), logits)
        reference = IntegerMLP(network, requantize="float32")
        np.testing.assert_array_equal(
            _graph_logits(network, x, integer_ops=True), reference.integer_logits(codes)
        )


# ----------------------------------------------------------------------
# QONNX
# ----------------------------------------------------------------------
@pytest.mark.parametrize("case", FLOAT32)
def test_qonnx_reproduces_the_trained_network(case, fitted):
    pytest.importorskip("qonnx")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model
    from test_qonnx import TOL, _attrs, _initializer, _rows_near_a_tie, _run, _trained_proba, _trained_values

    from skqat.export._qonnx import to_qonnx

    est, X = fitted(case)
    grid = est._frozen.input_grid
    rows = fuzz_rows(est, X)
    model = to_qonnx(est, batch_size=len(rows))
    # One unsigned IntQuant per width on the inputs (scale: each feature's step), no node for 0 bits.
    inputs = [n for n in model.graph.node if n.output[0].startswith("input_b")]
    quant = [n for n in inputs if n.op_type in ("IntQuant", "Quant")]
    assert {n.op_type for n in inputs} <= {"Gather", "IntQuant", "Quant"} and quant
    assert all(_attrs(n)["signed"] == 0 for n in quant)
    widths = sorted(int(_initializer(model, n.input[3])) for n in quant)
    assert widths == sorted(np.unique(grid.feature_bits[grid.feature_bits > 0]).tolist())
    gathered = [_initializer(model, n.input[1]) for n in model.graph.node if n.op_type == "Gather"]
    assert not set(np.concatenate(gathered).tolist()) & set(np.flatnonzero(grid.feature_bits == 0).tolist())
    trained = _trained_proba if hasattr(est, "predict_proba") else _trained_values
    with np.errstate(**QUIET):
        expected = trained(est, rows).reshape(len(rows), -1)
        ties = _rows_near_a_tie(est, rows)
    assert ties.mean() <= 0.02
    np.testing.assert_allclose(
        _run(model, rows)[~ties], expected[~ties], rtol=0, atol=TOL * max(1, np.abs(expected).max())
    )
    cleaned = cleanup_model(ModelWrapper(model))
    out = execute_onnx(cleaned, {"global_in": rows})["global_out"]
    np.testing.assert_allclose(out[~ties], expected[~ties], rtol=0, atol=TOL * max(1, np.abs(expected).max()))


# ----------------------------------------------------------------------
# A folded pipeline: StandardScaler and OneHotEncoder in front
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pipeline():
    from test_c_pipeline import _synthetic_frame

    X = _synthetic_frame(900)
    X["constant"] = 4.0  # standardized to 0 everywhere: dropped
    y = (X.a + 2 * X.b + 3 * (X.color == "red") > 12).astype(int) + (X.c > 2)
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b", "c", "d", "constant"]),
            ("oh", OneHotEncoder(handle_unknown="ignore"), ["color"]),
        ]
    )
    params = {**LEARNED, "hidden_layer_sizes": (8,), "max_iter": 30, "input_target_bits": 1.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(ct, QuantizedMLPClassifier(symmetric=False, **params)).fit(X[:600], y[:600])
    return pipe, X[:600], X[600:]


def test_pipeline_targets(pipeline, gcc, tmp_path):
    from test_c_pipeline import Built as PipelineBuilt
    from test_c_pipeline import accepted_rows, check_rows

    pipe, X_train, X_test = pipeline
    est = pipe[-1]
    bits = est.input_bits_
    assert bits[list(pipe[0].get_feature_names_out()).index("num__constant")] == 0
    assert (bits > 0).any() and est._frozen.input_grid.nonzero_zero_point
    model = skqat.export_integer(pipe)
    # IntegerPipeline and its C header: codes, states, logits and predictions on fuzzed raw rows.
    X, predicted, _ = accepted_rows(pipe, model, X_train, X_test)
    assert len(X) >= 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(model.predict(X), predicted)
    check_rows(PipelineBuilt(model, tmp_path, gcc, "lwp"), pipe, X, predicted)
    numeric = [f.feature for f in model.folded.numeric]
    assert (
        off_window(
            model.quantize_input(X)[0], tuple(np.asarray(w)[numeric] for w in est._frozen.input_grid.window)
        )
        is None
    )
    # Its ONNX graphs: labels equal pipeline.predict (default) and the float32 model's logits (integer).
    pytest.importorskip("onnxruntime")
    from _pipelines import fuzz_rows as pipeline_rows
    from test_onnx_pipeline import _check_graphs

    blocks = pipeline_rows(model, X_train, X_test, np.random.default_rng(0))
    assert _check_graphs(pipe, X_train, blocks) > len(X_test)


def test_qonnx_refuses_a_model_with_every_feature_dropped(iris):
    """Every feature at 0 bits: the QONNX graph would not read its input (qonnx has no 0-bit quantizer),
    so it is refused with the way out; the ONNX graph still predicts (constant inputs)."""
    pytest.importorskip("onnxruntime")
    from test_onnx import _run

    from skqat.export._qonnx import to_qonnx

    X, y = iris[0].astype(np.float32), iris[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = QuantizedMLPClassifier(**{**LEARNED, "max_iter": 5, "input_target_bits": 0}).fit(X, y)
    assert not clf.input_bits_.any()
    with pytest.raises(ValueError, match="input_target_bits above 0"):
        to_qonnx(clf)
    np.testing.assert_array_equal(_run(skqat.to_onnx(clf, X, integer_ops=True), X)[0], clf.predict(X))
