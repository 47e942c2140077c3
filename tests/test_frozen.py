"""The frozen network: one record, one convention, one byte count, pickled as it is."""

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import skqat._freeze
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._fixed_point import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    requantize_float32,
)
from skqat._frozen import FrozenGrid, quantize_codes, tensor_nbytes, weight_from_codes
from skqat.plot import model_bytes

CONFIGS = [
    {"weight_bits": 4},
    {"weight_bits": 4, "granularity": "per_channel", "symmetric": False},
    {"weight_bits": 3, "input_bits": 8, "bias_bits": 16},
    {"weight_bits": 2, "activation_bits": None},
    {"weight_bits": (8, 2), "activation": "tanh"},
    {"weight_bits": 1},
    {
        "weight_bits": 4,
        "input_bits": 8,
        "input_granularity": "per_feature",
        "symmetric": False,
        "bias_bits": 32,
    },
    {"weight_bits": (4, None)},
]


def _clf(X, y, **params):
    base = {"hidden_layer_sizes": (16,), "max_iter": 40, "learning_rate_init": 0.01, "random_state": 0}
    return QuantizedMLPClassifier(**{**base, **params}).fit(X, y)


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_one_byte_count_for_report_integer_model_and_plot(iris, params):
    X, y = iris
    clf = _clf(X, y, **params)
    report_bytes = int(clf.quantization_report()["bytes"].sum())
    assert report_bytes == clf._frozen.nbytes()
    assert model_bytes(params, clf) == report_bytes
    if clf._frozen.integer:
        assert clf.export_integer().nbytes == report_bytes


def test_byte_count_formula():
    # 30 four-bit codes are 15 bytes, plus one float32 scale.
    assert tensor_nbytes(30, 4, n_scales=1) == 19
    # Per channel and asymmetric: a scale and a zero point per channel.
    assert tensor_nbytes(10, 8, n_scales=5, asymmetric=True) == 10 + 40


@pytest.mark.parametrize("params", CONFIGS[:7], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_record_holds_what_predict_uses(iris, params):
    X, y = iris
    clf = _clf(X, y, **params)
    input_grid = clf._frozen.input_grid
    folded = input_grid if input_grid is not None and input_grid.per_feature else None
    for i, (layer, coef, intercept) in enumerate(zip(clf._frozen.layers, clf.coefs_, clf.intercepts_)):
        np.testing.assert_array_equal(layer.weight, coef.T)
        np.testing.assert_array_equal(layer.bias, intercept)
        grid = layer.weight_grid
        # Codes and grid give back the weights exactly: s * (q - zp), over the per-feature input
        # scales where the first layer's codes multiply input codes.
        weight = weight_from_codes(layer.weight_codes, grid, coef.dtype, folded if i == 0 else None)
        np.testing.assert_array_equal(weight, coef.T)
        assert grid.qmin <= layer.weight_codes.min() and layer.weight_codes.max() <= grid.qmax
        assert layer.bias_codes.dtype == np.int32


def test_zero_point_follows_the_onnx_convention(iris):
    X, y = iris
    # Float inputs: the first layer's weights then lie on its grid (not divided by input scales).
    clf = _clf(X, y, weight_bits=4, granularity="per_channel", symmetric=False, input_bits=None)
    quantizer = clf._module.layers[0].weight_quantizer
    grid = clf._frozen.layers[0].weight_grid
    # Training learns zp in the same convention the record holds.
    np.testing.assert_array_equal(grid.zero_point, quantizer.effective_zero_point().numpy().ravel())
    assert np.any(grid.zero_point != 0)
    # q = clamp(round(x / s + zp)): a value x = s * (k - zp) has code k.
    weight = clf._frozen.layers[0].weight
    codes = quantize_codes(weight, grid)
    np.testing.assert_array_equal(codes, clf._frozen.layers[0].weight_codes)
    report = clf.quantization_report()
    np.testing.assert_array_equal(report.loc[1, "zero_point"], grid.zero_point)


def test_pickle_holds_the_record_and_recomputes_nothing(iris, monkeypatch):
    X, y = iris
    clf = _clf(X, y, weight_bits=4, granularity="per_channel", symmetric=False)
    data = pickle.dumps(clf)

    def fail(*args, **kwargs):
        raise AssertionError("freeze called on load")

    monkeypatch.setattr(skqat._freeze, "freeze", fail)
    monkeypatch.setattr("skqat._base.freeze", fail)
    loaded = pickle.loads(data)
    for a, b in zip(loaded._frozen.layers, clf._frozen.layers):
        assert a.weight_grid.scale.tobytes() == b.weight_grid.scale.tobytes()
        np.testing.assert_array_equal(a.weight_codes, b.weight_codes)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(
        loaded.export_integer().integer_logits(loaded.export_integer().quantize_input(X)),
        clf.export_integer().integer_logits(clf.export_integer().quantize_input(X)),
    )


def test_calibrated_input_grid_spans_every_row_seen(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, input_bits=None, random_state=0)
    clf.partial_fit(X[:50], y[:50], classes=np.unique(y))
    clf.partial_fit(X[50:] * 3, y[50:])
    grid = clf._frozen.input_grid
    assert grid.calibrated and grid.bits == 8
    low = float(grid.scale) * (grid.qmin - int(grid.zero_point))
    high = float(grid.scale) * (grid.qmax - int(grid.zero_point))
    seen = np.vstack([X[:50], X[50:] * 3])
    assert low <= seen.min() + float(grid.scale) / 2
    assert high >= seen.max() - float(grid.scale) / 2
    # predict does not quantize its input with a calibrated grid.
    assert clf._plan.input_grid is None


def test_regressor_record(iris):
    X, _ = iris
    reg = QuantizedMLPRegressor(hidden_layer_sizes=(8,), weight_bits=4, max_iter=30).fit(X, X[:, 0])
    assert reg._frozen.integer and reg._frozen.out_activation == "identity"


# --------------------------------------------------------------------------
# Fixed-point arithmetic against a scalar transcription of gemmlowp's C code
# --------------------------------------------------------------------------
def _srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul on Python ints (C semantics)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    return int(v / 2**31) if abs(v) < 2**52 else (abs(v) // 2**31) * (1 if v >= 0 else -1)


def _rdbpot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _mbqm(x: int, m0: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    shifted = min(max(x * (1 << left), INT32_MIN), INT32_MAX)
    return _rdbpot(_srdhm(shifted, m0), right)


@settings(max_examples=300, deadline=None)
@given(
    x=st.integers(INT32_MIN, INT32_MAX),
    multiplier=st.floats(1e-9, 40.0, allow_nan=False, allow_infinity=False),
)
def test_fixed_point_matches_gemmlowp(x, multiplier):
    m0, shift = quantize_multiplier(multiplier)
    assert 2**30 <= m0 < 2**31
    assert abs(m0 * 2.0 ** (shift - 31) - multiplier) <= multiplier * 2**-30
    got = int(multiply_by_quantized_multiplier(np.array([x]), m0, shift)[0])
    assert got == _mbqm(x, m0, shift)
    if abs(x * multiplier) < 2**30 and shift <= 0:
        # Within one unit of the real product (two roundings).
        assert abs(got - x * multiplier) <= 1.0


def test_quantize_multiplier_edge_cases():
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(float("nan")) == (0, 0)
    assert quantize_multiplier(1e-12) == (0, 0)
    # A collapsed output scale makes the multiplier infinite: every code saturates.
    assert quantize_multiplier(float("inf")) == (INT32_MAX, 31)
    high, low, zero = multiply_by_quantized_multiplier(np.array([1, -1, 0]), INT32_MAX, 31).tolist()
    assert high >= INT32_MAX - 1 and low <= INT32_MIN + 1 and zero == 0


def test_float32_requantization_rounds_half_to_even():
    got = requantize_float32(np.array([1, 3, 5, -1, -3]), np.float32(0.5))
    np.testing.assert_array_equal(got, [0, 2, 2, 0, -2])


def test_quantize_codes_matches_training(iris):
    # The numpy codes function reproduces the torch fake quantizer's levels exactly.
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000) * 3
    grid = FrozenGrid(4, 0, 15, np.array(0.37), np.array(6, np.int32), symmetric=False)
    from skqat._functional import fake_quantize

    fq = fake_quantize(
        torch.as_tensor(x),
        torch.tensor(0.37, dtype=torch.float64).log(),
        torch.tensor(6.0, dtype=torch.float64),
        0,
        15,
    ).numpy()
    scale = skqat._functional.scale_from_log(torch.tensor(0.37, dtype=torch.float64).log()).numpy()
    grid = FrozenGrid(4, 0, 15, scale, np.array(6, np.int32), symmetric=False)
    np.testing.assert_array_equal(grid.dequantize(quantize_codes(x, grid), np.float64), fq)
