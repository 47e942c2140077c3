"""Integer export: parity with the estimator, packed size, persistence, torch-free inference."""

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat.export import IntegerMLP
from skqat.export._integer import pack_codes, unpack_codes

ROOT = Path(__file__).resolve().parents[1]


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


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
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(64,), weight_bits=bits, max_iter=60, random_state=0, **params
        ),
        X_train,
        y_train,
    )
    model = clf.export_integer()
    # At least 99.9% of rows agree; on 450 rows that allows one. With inputs,
    # weights and biases all on grids, a pre-activation can fall exactly on a
    # rounding boundary of the activation grid, where float summation order
    # (integer accumulation, numpy, torch) decides the tie.
    mismatches = np.sum(model.predict(X_test) != clf.predict(X_test))
    assert mismatches <= max(1, int(0.001 * len(X_test)))
    np.testing.assert_allclose(model.predict_proba(X_test), clf.predict_proba(X_test), atol=5e-3)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_regressor_parity(regression_split, bits):
    X_train, X_test, y_train, _ = regression_split
    reg = _fit(
        QuantizedMLPRegressor(
            hidden_layer_sizes=(32,), weight_bits=bits, max_iter=80, learning_rate_init=0.01, random_state=0
        ),
        X_train,
        y_train,
    )
    model = reg.export_integer()
    close = np.isclose(model.predict(X_test), reg.predict(X_test), rtol=0, atol=1e-2)
    assert close.mean() >= 0.999


@pytest.mark.parametrize(
    "params",
    [
        {"weight_bits": 1},
        {"weight_bits": "learned", "bit_lambda": 0.5},
        {"weight_bits": 3, "quantizer": "minmax"},
        {"weight_bits": 4, "sparsity": 0.5, "symmetric": False},
        {"weight_bits": (8, 3)},
        {"weight_bits": 4, "activation": "tanh"},
        {"weight_bits": 4, "quantizer": "noise"},
    ],
)
def test_every_kind_of_grid_exports(iris, params):
    X, y = iris
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(16,), max_iter=80, learning_rate_init=0.01, random_state=0, **params
        ),
        X,
        y,
    )
    model = clf.export_integer()
    # Not 0.999: on 150 training rows, a 3-bit min-max model has rows whose two
    # top classes tie once the bias is rounded to its int32 grid s_a * s_w.
    assert np.mean(model.predict(X) == clf.predict(X)) >= 0.98
    for layer, coef in zip(model.layers, clf.coefs_):
        np.testing.assert_allclose(layer.dequantized_weight().T, coef, rtol=1e-6, atol=1e-7)
        assert layer.weight_codes.dtype.itemsize <= 2
        assert layer.weight_codes.min() >= layer.qmin and layer.weight_codes.max() <= layer.qmax


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_packed_size_against_float32(digits_split, bits):
    X_train, _, y_train, _ = digits_split
    clf = _fit(QuantizedMLPClassifier(weight_bits=bits, max_iter=5, random_state=0), X_train, y_train)
    model = clf.export_integer()
    ratio = model.nbytes / model.float32_nbytes
    assert ratio <= bits / 32 + 0.03
    if bits == 4:
        assert ratio <= 0.15


def test_save_and_load_round_trip(tmp_path, wine_frame):
    X, y = wine_frame
    X = (X - X.mean()) / X.std()
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(16,),
            weight_bits=3,
            input_bits=6,
            max_iter=80,
            learning_rate_init=0.01,
            random_state=0,
        ),
        X,
        y,
    )
    model = clf.export_integer()
    model.save(tmp_path / "model.npz")
    loaded = IntegerMLP.load(tmp_path / "model.npz")
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
    clf = _fit(
        QuantizedMLPClassifier(
            hidden_layer_sizes=(16,), weight_bits=4, max_iter=80, learning_rate_init=0.01, random_state=0
        ),
        X,
        y,
    )
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
    clf = _fit(QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=(4, None), max_iter=5), X, y)
    with pytest.raises(ValueError, match="float layer"):
        clf.export_integer()


def test_integer_model_checks_its_input(iris):
    X, y = iris
    model = _fit(QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5), X, y).export_integer()
    with pytest.raises(ValueError, match="shape"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full_like(X, np.nan))


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
    estimator = _fit(
        Estimator(hidden_layer_sizes=(8,), weight_bits=4, early_stopping=True, max_iter=30, random_state=0),
        X,
        y,
    )
    sio.dump(estimator, tmp_path / "model.skops")
    assert set(sio.get_untrusted_types(file=tmp_path / "model.skops")) <= set(skqat.SKOPS_TRUSTED_TYPES)
    loaded = sio.load(tmp_path / "model.skops", trusted=skqat.SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
