"""Integer export: parity with the estimator, packed size, persistence, torch-free inference."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from sklearn.datasets import make_regression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._activations import ACTIVATIONS
from skqat._frozen import weight_from_codes
from skqat._integer_codes import pack_codes, unpack_codes, weight_levels
from skqat.export import IntegerMLP

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def regression_split():
    X, y = make_regression(n_samples=1500, n_features=12, n_informative=8, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y / y.std(), test_size=0.3, random_state=0)


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize(
    "params",
    [{}, {"granularity": "per_channel", "symmetric": False}, {"input_bits": 8, "bias_bits": 32}],
    ids=["per_tensor", "per_channel_asymmetric", "integer_inputs"],
)
def test_classifier_parity_on_held_out_digits(digits_split, bits, params):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(64,), weight_bits=bits, max_iter=60, random_state=0, **params
    ).fit(X_train, y_train)
    model = clf.export_integer()
    # At least 99.9% of rows agree; on 450 rows that allows one. With inputs,
    # weights and biases all on grids, a pre-activation can fall exactly on a
    # rounding boundary of the activation grid, where float summation order
    # (integer accumulation, numpy, torch) decides the tie.
    # The integer model also quantizes the features (on the 8-bit grid
    # calibrated at the end of fit unless input_bits is set), which predict
    # does not: probabilities move by up to a few 1e-2 on a few rows.
    # At 4 and 8 bits at least 99.9% of rows agree (one row of 450); at 2 bits,
    # where a small change of the input moves more logits across a tie, 99%.
    mismatches = np.sum(model.predict(X_test) != clf.predict(X_test))
    assert mismatches <= max(1, int((0.001 if bits >= 4 else 0.01) * len(X_test)))
    assert np.abs(model.predict_proba(X_test) - clf.predict_proba(X_test)).mean() < 2e-3


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("input_bits", [None, 8])
def test_regressor_parity(regression_split, bits, input_bits):
    X_train, X_test, y_train, y_test = regression_split
    reg = QuantizedMLPRegressor(
        hidden_layer_sizes=(32,),
        weight_bits=bits,
        input_bits=input_bits,
        max_iter=80,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X_train, y_train)
    model = reg.export_integer()
    if input_bits is None:
        # The integer model quantizes the features on the calibrated 8-bit
        # grid, which predict does not: values move, the fit's quality does not.
        assert abs(r2_score(y_test, model.predict(X_test)) - reg.score(X_test, y_test)) < 0.01
    else:
        # One hidden code rounded the other way (the int32 bias is on the
        # s_in * s_w grid, predict's is not) moves a 2-bit output by about
        # s_w * s_a = 0.2 * 0.012; a few such flips stay under 0.02.
        close = np.isclose(model.predict(X_test), reg.predict(X_test), rtol=0, atol=2e-2)
        assert close.mean() >= 0.999


@pytest.mark.parametrize(
    "params",
    [
        {"weight_bits": 1},
        {"weight_bits": "learned", "target_bits": 3.0},
        {"weight_bits": 3, "quantizer": "minmax"},
        {"weight_bits": 4, "sparsity": 0.5, "symmetric": False},
        {"weight_bits": (8, 3)},
        {"weight_bits": 4, "activation": "tanh"},
        {"weight_bits": 4, "quantizer": "noise"},
    ],
)
def test_every_kind_of_grid_exports(iris, params):
    X, y = iris
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=80, learning_rate_init=0.01, random_state=0, **params
    ).fit(X, y)
    model = clf.export_integer()
    # predict is the integer model.
    np.testing.assert_array_equal(model.predict(X), clf.predict(X))
    for i, (layer, coef) in enumerate(zip(model.layers, clf.coefs_)):
        grid = layer.weight_grid
        # The first layer's codes multiply the per-feature input codes: coefs_ are them over the input scales.
        folded = model.input_grid if i == 0 and model.input_grid.per_feature else None
        np.testing.assert_array_equal(weight_from_codes(layer.weight_codes, grid, coef.dtype, folded).T, coef)
        assert layer.weight_codes.dtype.itemsize <= 2
        assert layer.weight_codes.min() >= grid.qmin and layer.weight_codes.max() <= grid.qmax


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_packed_size_against_float32(digits_split, bits):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(weight_bits=bits, max_iter=5, random_state=0).fit(X_train, y_train)
    model = clf.export_integer()
    ratio = model.nbytes / model.float32_nbytes
    assert ratio <= bits / 32 + 0.03
    if bits == 4:
        assert ratio <= 0.15


def test_save_and_load_round_trip(tmp_path, wine_frame):
    X, y = wine_frame
    X = (X - X.mean()) / X.std()
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(16,),
        weight_bits=3,
        input_bits=6,
        max_iter=80,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    model = clf.export_integer()
    model.save(tmp_path / "model.npz")
    loaded = IntegerMLP.load(tmp_path / "model.npz")
    codes = model.quantize_input(X)
    np.testing.assert_array_equal(loaded.quantize_input(X), codes)
    np.testing.assert_array_equal(loaded.integer_logits(codes), model.integer_logits(codes))
    for a, b in zip(loaded.layers, model.layers):
        assert a.weight_grid.scale.tobytes() == b.weight_grid.scale.tobytes()
        np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.nbytes == model.nbytes
    assert list(loaded.classes_) == list(clf.classes_)
    # Columns are matched by name, as the estimator does.
    np.testing.assert_array_equal(loaded.predict(X[X.columns[::-1]]), model.predict(X))


def test_load_rejects_foreign_and_future_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an skqat IntegerMLP"):
        IntegerMLP.load(tmp_path / "other.npz")
    np.savez(tmp_path / "future.npz", format=np.array("skqat.IntegerMLP"), format_version=np.array(99))
    with pytest.raises(ValueError, match="version 99"):
        IntegerMLP.load(tmp_path / "future.npz")


def test_integer_inference_runs_without_torch(tmp_path, iris):
    X, y = iris
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(16,), weight_bits=4, max_iter=80, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    model = clf.export_integer()
    model.save(tmp_path / "model.npz")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", model.predict_proba(X))
    script = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        import numpy as np
        from skqat.export import IntegerMLP
        model = IntegerMLP.load({str(tmp_path / "model.npz")!r})
        proba = model.predict_proba(np.load({str(tmp_path / "X.npy")!r}))
        np.testing.assert_array_equal(proba, np.load({str(tmp_path / "expected.npy")!r}))
        import skqat
        assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok", model.predict(np.load({str(tmp_path / "X.npy")!r}))[:3])
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_float_layers_cannot_be_exported(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=(4, None), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="float layer"):
        clf.export_integer()


def test_integer_model_checks_its_input(iris):
    X, y = iris
    model = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5).fit(X, y).export_integer()
    with pytest.raises(ValueError, match="shape"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full_like(X, np.nan))
    with pytest.raises(ValueError, match="integer array"):
        model.integer_logits(X)
    with pytest.raises(ValueError, match="lie in"):
        model.integer_logits(np.full(X.shape, 1000))
    with pytest.raises(ValueError, match="requantize"):
        QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5).fit(X, y).export_integer("float16")


@pytest.mark.parametrize("activation", ["relu", "identity", "tanh", "logistic"])
@pytest.mark.parametrize("requantize", ["fixed_point", "float32"])
def test_integer_logits_track_the_float_logits(digits_split, activation, requantize):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(32,), weight_bits=8, activation=activation, max_iter=40, random_state=0
    ).fit(X_train, y_train)
    model = clf.export_integer(requantize)
    logits = model.integer_logits(model.quantize_input(X_test))
    assert logits.dtype == np.int32
    # Integer-only arithmetic, from codes to logits; the real logits follow
    # the float network's up to input quantization and requantization rounding.
    with np.errstate(divide="ignore"):
        reference = np.log(clf.predict_proba(X_test))
    real = logits * model.logit_scale
    log_proba = real - logsumexp(real, axis=1, keepdims=True)
    finite = np.isfinite(reference) & (reference > -20)
    assert np.abs(log_proba - reference)[finite].mean() < 0.05
    assert np.mean(model.predict(X_test) == clf.predict(X_test)) >= 0.99


@pytest.mark.parametrize("activation", [a.name for a in ACTIVATIONS.values() if a.integer == "table"])
def test_threshold_tables_step_where_the_activation_rounds(activation):
    from skqat._freeze import _thresholds
    from skqat._frozen import FrozenGrid, float_codes

    grid = (
        FrozenGrid(4, 0, 15, np.array(1 / 15), np.array(0, np.int32))
        if ACTIVATIONS[activation].nonnegative
        else FrozenGrid(8, -128, 127, np.array(1 / 127), np.array(0, np.int32))
    )
    fine = float(grid.scale) / 256
    table = _thresholds(activation, grid, fine)
    assert np.all(np.diff(table.astype(np.int64)) >= 0)
    y = np.arange(-300_000, 300_000, 7)
    looked_up = grid.qmin + np.searchsorted(table, y, side="right")
    exact = float_codes(ACTIVATIONS[activation].numpy(y * fine), grid)
    # Equal except where y * fine lies within rounding error of a step.
    assert np.mean(looked_up == exact) > 0.9999
    assert np.abs(looked_up - exact).max() <= 1


def test_requantization_modes_agree_on_labels(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(weight_bits=4, max_iter=30, random_state=0).fit(X_train, y_train)
    fixed, float32 = clf.export_integer(), clf.export_integer("float32")
    # Held-out rows and random codes over the whole input grid (more hidden values near a rounding tie).
    rng = np.random.default_rng(0)
    grid = fixed.input_grid
    random_codes = rng.integers(grid.qmin, grid.qmax + 1, (5000, fixed.n_features_in_)).astype(np.int8)
    codes = np.concatenate([fixed.quantize_input(X_test), random_codes])
    difference = np.abs(fixed.integer_logits(codes).astype(np.int64) - float32.integer_logits(codes))
    # The two roundings of M * acc differ by at most one unit per hidden code, so a logit by at
    # most the sum of its weight levels' magnitudes.
    bound = np.abs(weight_levels(fixed.layers[-1]).astype(np.int64)).sum(axis=1)
    assert np.all(difference <= bound) and np.any(difference > 0)
    assert np.mean(fixed.predict(X_test) == float32.predict(X_test)) >= 0.99


@settings(max_examples=100, deadline=None)
@given(bits=st.integers(1, 16), data=st.data())
def test_pack_unpack_round_trip(bits, data):
    if bits == 1:
        qmin, qmax = -1, 1
        codes = np.array(data.draw(st.lists(st.sampled_from([-1, 1]), min_size=1, max_size=50)))
    else:
        qmin = data.draw(st.sampled_from([-(2 ** (bits - 1)), 0]))
        qmax = qmin + 2**bits - 1
        codes = np.array(data.draw(st.lists(st.integers(qmin, qmax), min_size=1, max_size=50)))
    packed = pack_codes(codes, bits, qmin)
    assert packed.nbytes == int(np.ceil(codes.size * bits / 8))
    np.testing.assert_array_equal(unpack_codes(packed, codes.size, bits, qmin), codes)


@pytest.mark.parametrize("Estimator", [QuantizedMLPClassifier, QuantizedMLPRegressor])
def test_skops_round_trip_with_trusted_types(tmp_path, iris, Estimator):
    sio = pytest.importorskip("skops.io", reason="skops is not installed")
    import skqat

    X, y = iris
    estimator = Estimator(
        hidden_layer_sizes=(8,), weight_bits=4, early_stopping=True, max_iter=30, random_state=0
    ).fit(X, y)
    sio.dump(estimator, tmp_path / "model.skops")
    assert set(sio.get_untrusted_types(file=tmp_path / "model.skops")) <= set(skqat.SKOPS_TRUSTED_TYPES)
    loaded = sio.load(tmp_path / "model.skops", trusted=skqat.SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
