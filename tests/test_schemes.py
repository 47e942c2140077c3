"""The family of quantization schemes: every scheme on the grid, deterministic, and a full estimator."""

import pickle

import numpy as np
import pytest
import torch
from _grids import grid_coefs
from sklearn.model_selection import GridSearchCV

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._functional import grid_limits
from skqat._quantizers import (
    AllocatedBitsQuantizer,
    LSQQuantizer,
    MinMaxQuantizer,
    NoiseQuantizer,
    PACTQuantizer,
    PenaltyQuantizer,
)
from skqat._schedules import Schedule

SCHEMES = ["lsq", "pact", "minmax", "noise", "penalty"]
FAST = {
    "hidden_layer_sizes": (16,),
    "learning_rate_init": 0.01,
    "batch_size": 32,
    "max_iter": 40,
    "random_state": 0,
}


def _assert_on_grid(estimator, bits):
    report = estimator.quantization_report().set_index(["layer", "tensor"])
    for layer in range(len(estimator.coefs_)):
        coef = grid_coefs(estimator, layer)
        row = report.loc[(layer, "weight")]
        assert row["bits"] == bits[layer]
        scale = np.broadcast_to(row["scale"], coef.shape[1])
        zero = np.broadcast_to(row["zero_point"], coef.shape[1])
        # x = s * (q - zp): the codes q lie on the grid's integer range.
        codes = coef / scale + zero
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)
        qmin, qmax = grid_limits(bits[layer], estimator.symmetric)
        assert qmin - 1e-4 <= codes.min() and codes.max() <= qmax + 1e-4
        for column in np.round(codes).T:
            assert len(np.unique(column)) <= 2 ** bits[layer]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("Estimator", [QuantizedMLPClassifier, QuantizedMLPRegressor])
def test_every_scheme_trains_on_the_grid_and_is_deterministic(iris, scheme, Estimator):
    X, y = iris
    params = dict(FAST, weight_bits=3, activation_bits=6, quantizer=scheme, quant_lambda=1e-3)
    first = Estimator(**params).fit(X, y)
    second = Estimator(**params).fit(X, y)
    _assert_on_grid(first, [3, 3])
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert np.all(np.isfinite(first.loss_curve_))
    assert first.score(X, y) > (0.85 if Estimator is QuantizedMLPClassifier else 0.6)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_supports_partial_fit_warm_start_and_pickle(iris, scheme):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, weight_bits=4, quantizer=scheme, warm_start=True))
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    clf.fit(X, y)
    restored.fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    _assert_on_grid(clf, [4, 4])


def test_grid_search_over_schemes(iris):
    X, y = iris
    search = GridSearchCV(
        QuantizedMLPClassifier(**FAST), {"quantizer": SCHEMES, "weight_bits": [2, 4]}, cv=2, n_jobs=2
    )
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert len(search.cv_results_["params"]) == 10


def _grad(quantizer, x, train=True):
    quantizer.train(train)
    x = x.clone().requires_grad_(True)
    quantizer(x).sum().backward()
    return x.grad


def _make(cls, **kwargs):
    quantizer = cls(3, signed=True, symmetric=True, dtype=torch.float64, **kwargs)
    quantizer.initialize(torch.linspace(-1.0, 1.0, 101, dtype=torch.float64))
    return quantizer


X_GRAD = torch.tensor([-50.0, -0.3, 0.0, 0.2, 50.0], dtype=torch.float64)


@pytest.mark.parametrize("cls", [LSQQuantizer, PACTQuantizer, MinMaxQuantizer, AllocatedBitsQuantizer])
@pytest.mark.parametrize("ste", ["clipped", "identity"])
def test_ste_gradients_by_scheme(cls, ste):
    quantizer = _make(cls, clipped_ste=ste == "clipped")
    expected = [0, 1, 1, 1, 0] if ste == "clipped" else [1, 1, 1, 1, 1]
    np.testing.assert_array_equal(_grad(quantizer, X_GRAD).numpy(), expected)


def test_noise_scheme_passes_gradient_everywhere_in_float_and_clipped_where_quantized():
    quantizer = _make(NoiseQuantizer, noise_rate=1.0)
    np.testing.assert_array_equal(_grad(quantizer, X_GRAD).numpy(), [0, 1, 1, 1, 0])
    quantizer = _make(NoiseQuantizer, noise_rate=0.5)
    quantizer.generator = torch.Generator().manual_seed(0)
    x = torch.linspace(-0.9, 0.9, 400, dtype=torch.float64)
    quantizer.train()
    out = quantizer(x).detach()
    quantized = torch.isclose(out, quantizer.quantize(x).detach())
    # About half the values are on the grid in a training step, all at inference.
    assert 0.3 < quantized.double().mean() < 0.8
    quantizer.eval()
    torch.testing.assert_close(quantizer(x), quantizer.quantize(x))


def test_penalty_scheme_is_float_in_training_and_on_grid_at_inference():
    quantizer = _make(PenaltyQuantizer)
    x = torch.linspace(-0.9, 0.9, 50, dtype=torch.float64)
    quantizer.train()
    torch.testing.assert_close(quantizer(x), x)
    np.testing.assert_array_equal(_grad(quantizer, X_GRAD).numpy(), np.ones(5))
    quantizer.eval()
    assert len(torch.unique(quantizer(x))) <= 8


def test_pact_scale_gradient_comes_only_from_clipped_values():
    quantizer = _make(PACTQuantizer)
    log_scale = quantizer.log_scale
    inside = torch.tensor([-0.3, 0.1, 0.2], dtype=torch.float64)
    quantizer(inside).sum().backward()
    assert log_scale.grad.item() == 0.0
    quantizer(torch.tensor([50.0], dtype=torch.float64)).sum().backward()
    assert log_scale.grad.item() > 0.0


def test_minmax_grid_spans_the_observed_range():
    quantizer = MinMaxQuantizer(4, signed=True, symmetric=True, momentum=1.0, dtype=torch.float64)
    quantizer.train()
    x = torch.tensor([-2.0, 0.5, 3.5], dtype=torch.float64)
    quantizer(x)
    assert quantizer.effective_scale().item() == pytest.approx(3.5 / 7)
    assert not any(p.requires_grad for p in quantizer.parameters())


def test_penalty_with_lambda_pulls_weights_to_the_grid(iris):
    X, y = iris
    params = dict(FAST, weight_bits=2, quantizer="penalty", max_iter=60)
    free = QuantizedMLPClassifier(quant_lambda=0.0, **params).fit(X, y)
    pulled = QuantizedMLPClassifier(quant_lambda=1.0, **params).fit(X, y)
    assert pulled.grid_distance_ < 0.5 * free.grid_distance_
    _assert_on_grid(free, [2, 2])


def test_quant_delay_trains_float_first(iris):
    X, y = iris
    float_model = QuantizedMLPClassifier(weight_bits=None, activation_bits=None, **FAST).fit(X, y)
    delayed = QuantizedMLPClassifier(
        weight_bits=4, activation_bits=None, quant_delay=FAST["max_iter"], **FAST
    ).fit(X, y)
    # The whole fit ran in float, so the latent weights match the float model's...
    for layer, coef in zip(delayed._module.layers, float_model.coefs_):
        np.testing.assert_array_equal(layer.weight.detach().numpy().T, coef)
    assert delayed.loss_curve_ == float_model.loss_curve_
    # ...and the model is quantized at the end (post-training quantization).
    _assert_on_grid(delayed, [4, 4])
    partly = QuantizedMLPClassifier(weight_bits=4, activation_bits=None, quant_delay=5, **FAST).fit(X, y)
    assert partly.loss_curve_[:5] == float_model.loss_curve_[:5]
    assert partly.loss_curve_[5:] != float_model.loss_curve_[5:]


def test_quant_delay_holds_across_partial_fit(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, weight_bits=3, activation_bits=None, quant_delay=3))
    for call in range(5):
        clf.partial_fit(X, y, classes=np.unique(y))
        # Each call leaves a quantized model, but training stays float until the delay is over.
        assert clf._module._quantizing == (call >= 3)
        _assert_on_grid(clf, [3, 3])


def test_linear_lambda_schedule_ramps_up():
    clf = QuantizedMLPClassifier(quant_lambda=0.1, quant_lambda_schedule="linear", quant_delay=2, max_iter=12)
    ramp = [Schedule.of(clf).quant_lambda_at(epoch) for epoch in range(2, 12)]
    np.testing.assert_allclose(ramp, 0.1 * np.arange(1, 11) / 10)
    assert Schedule.of(clf.set_params(quant_lambda_schedule="constant")).quant_lambda_at(3) == 0.1


def test_mixed_precision_per_layer(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, hidden_layer_sizes=(16, 8), weight_bits=(8, 3, None))).fit(X, y)
    report = clf.quantization_report()
    assert list(report.loc[report["tensor"] == "weight", "bits"]) == [8, 3, 32]
    assert clf.weight_bits_ == [8, 3, 32]
    assert len(np.unique(clf.coefs_[1])) <= 8
    with pytest.raises(ValueError, match="one per layer"):
        QuantizedMLPClassifier(**dict(FAST, weight_bits=(4, 4, 4))).fit(X, y)
    with pytest.raises(ValueError, match=r"int in \[1, 16\]"):
        QuantizedMLPClassifier(**dict(FAST, weight_bits=(4, 40))).fit(X, y)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"quantizer": "minmax"}, "works with quantizer"),
        ({"symmetric": False}, "symmetric=True"),
        ({"bit_bounds": (0, 8)}, "bit_bounds must be"),
        ({"bit_bounds": (6, 4)}, "bit_bounds must be"),
        ({"bit_bounds": (1, 8), "sparsity": 0.5}, "binary"),
    ],
)
def test_learned_bits_invalid_combinations(iris, change, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        QuantizedMLPClassifier(**dict(FAST, weight_bits="learned", target_bits=4, **change)).fit(X, y)


@pytest.mark.parametrize("granularity", ["per_feature", "per_tensor"])
def test_input_quantization_makes_features_integers(iris, granularity):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, input_bits=4, input_granularity=granularity)).fit(X, y)
    report = clf.quantization_report()
    row = report[report["tensor"] == "input"].iloc[0]
    assert row["bits"] == 4
    scale = np.asarray(row["scale"], dtype=float)  # one per feature, or one for all
    assert scale.shape == ((X.shape[1],) if granularity == "per_feature" else ())
    quantized = clf._module.input_quantizer(torch.as_tensor(X)).detach().numpy()
    codes = quantized / scale
    np.testing.assert_allclose(codes, np.round(codes), atol=1e-6)
    assert max(len(np.unique(codes[:, j])) for j in range(X.shape[1])) <= 16
    assert clf.score(X, y) > 0.85


@pytest.mark.parametrize("granularity", ["per_tensor", "per_channel"])
def test_bias_on_the_product_grid(iris, granularity):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, bias_bits=8, input_bits=8, granularity=granularity)).fit(X, y)
    report = clf.quantization_report().set_index(["layer", "tensor"])
    for layer in range(2):
        w_scale = np.broadcast_to(report.loc[(layer, "weight"), "scale"], clf.intercepts_[layer].shape)
        in_tensor = "input" if layer == 0 else "activation"
        in_scale = report.loc[(0, in_tensor), "scale"]
        if layer == 0 and clf._frozen.input_grid.per_feature:
            in_scale = 1.0  # the first layer multiplies input codes: its accumulator is on s_w alone
        codes = clf.intercepts_[layer] / (w_scale * in_scale)
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-5)
        assert np.all(np.abs(codes) <= 128 + 1e-6)
        assert report.loc[(layer, "bias"), "bits"] == 8


@pytest.mark.parametrize("symmetric", [True, False])
def test_sparsity_gives_exact_zeros(iris, symmetric):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, weight_bits=4, sparsity=0.5, symmetric=symmetric)).fit(X, y)
    for coef in clf.coefs_:
        assert np.mean(coef == 0) >= 0.5 - 1 / coef.size
    report = clf.quantization_report()
    assert np.all(report.loc[report["tensor"] == "weight", "sparsity"] >= 0.45)
    assert clf.score(X, y) > 0.85


def test_sparsity_ramps_gradually():
    clf = QuantizedMLPClassifier(sparsity=0.8, max_iter=20)
    ramp = [Schedule.of(clf).sparsity_at(epoch) for epoch in range(20)]
    assert ramp[0] > 0 and np.all(np.diff(ramp) >= 0) and ramp[9] == pytest.approx(0.8) and ramp[-1] == 0.8


def test_sparsity_refuses_binary_weights(iris):
    X, y = iris
    with pytest.raises(ValueError, match="binary"):
        QuantizedMLPClassifier(**dict(FAST, weight_bits=1, sparsity=0.3)).fit(X, y)


@pytest.mark.parametrize("bits", [1, 2])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_low_bits_never_produce_nan(digits_split, bits, scheme):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(32,),
        weight_bits=bits,
        activation_bits=2,
        quantizer=scheme,
        learning_rate_init=0.05,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    assert np.all(np.isfinite(clf.loss_curve_))
    report = clf.quantization_report()
    scales = np.concatenate([np.ravel(s) for s in report["scale"].dropna()])
    assert np.all(scales > 0) and np.all(np.isfinite(scales))
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_)
