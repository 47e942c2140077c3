"""The explicit training gradients (skqat._backprop) against autograd's.

Every configuration the explicit path claims to support must give autograd's
loss and gradients; the others must fall back to autograd.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._backprop import ExplicitGradients, explicit_gradients_supported
from skqat._training import Objective


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _targets(estimator, y):
    """Training targets as the estimators feed them to the loss."""
    if estimator._loss_name() == "log_loss":
        return torch.as_tensor(np.searchsorted(estimator.classes_, y))
    if estimator._loss_name() == "binary_log_loss":
        return torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(len(y), -1))
    return torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(len(y), -1))


def _gradients(estimator, X, y, sample_weight, explicit, quant_lambda):
    """Loss and gradients of one batch, leaving the module as it was (min-max grids observe)."""
    module = estimator._module
    state = {k: v.clone() for k, v in module.state_dict().items()}
    module.train()
    objective = Objective(estimator._loss_name(), alpha=estimator.alpha, quant_lambda=quant_lambda)
    objective.explicit = explicit
    loss_and_grads = objective.gradient_function(module, estimator._optimizer.params)
    loss, grads = loss_and_grads(X, y, sample_weight)
    module.load_state_dict(state)
    return float(loss), [g.detach().clone() for g in grads]


def _check_same_gradients(estimator, X, y, sample_weight=None, quant_lambda=0.0):
    assert explicit_gradients_supported(estimator._module, estimator._loss_name())
    X = torch.as_tensor(X)
    y = _targets(estimator, y)
    sw = None if sample_weight is None else torch.as_tensor(sample_weight)
    loss_a, grads_a = _gradients(estimator, X, y, sw, False, quant_lambda)
    loss_e, grads_e = _gradients(estimator, X, y, sw, True, quant_lambda)
    assert loss_e == pytest.approx(loss_a, rel=1e-10)
    assert len(grads_a) == len(grads_e)
    for a, e in zip(grads_a, grads_e):
        assert a.shape == e.shape
        torch.testing.assert_close(e, a, rtol=1e-8, atol=1e-10)
    # Some gradient is not zero: the comparison is not vacuous.
    assert any(float(g.abs().max()) > 0 for g in grads_e)


CLASSIFIER_CONFIGS = [
    {},
    {"weight_bits": None, "activation_bits": None},
    {"activation": "tanh"},
    {"activation": "logistic"},
    {"activation": "identity"},
    {"activation": "tanh", "symmetric": False},
    {"granularity": "per_channel"},
    {"granularity": "per_channel", "symmetric": False},
    {"symmetric": False},
    {"quantizer": "pact"},
    {"quantizer": "pact", "symmetric": False, "activation": "tanh"},
    {"quantizer": "minmax"},
    {"quantizer": "minmax", "activation": "logistic", "granularity": "per_channel"},
    {"weight_bits": 1},
    {"weight_bits": 2, "activation_bits": None},
    {"weight_bits": None, "activation_bits": 4},
    {"weight_bits": (4, 8)},
    {"input_bits": 8},
    {"input_bits": 6, "quantizer": "pact"},
    {"input_bits": None, "bias_bits": None},
    {"input_bits": None},
    {"input_granularity": "per_tensor", "bias_bits": 16},
    {"sparsity": 0.5},
    {"ste": "identity"},
    {"ste": "identity", "quantizer": "pact"},
    {"alpha": 0.1},
    {"hidden_layer_sizes": (16, 12, 8)},
    {"hidden_layer_sizes": (16, 12), "activation": "tanh", "granularity": "per_channel"},
]


def _config_id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.parametrize("params", CLASSIFIER_CONFIGS, ids=_config_id)
def test_explicit_gradients_match_autograd_classifier(digits, params):
    X, y = digits
    settings = {"hidden_layer_sizes": (24,), "weight_bits": 4, "activation_bits": 8, "max_iter": 3}
    settings.update(params)
    estimator = QuantizedMLPClassifier(random_state=0, **settings).fit(X, y)
    _check_same_gradients(estimator, X[:64], y[:64])


def test_explicit_gradients_match_autograd_with_sample_weight_and_penalty(digits):
    X, y = digits
    estimator = QuantizedMLPClassifier(
        hidden_layer_sizes=(24,),
        weight_bits=3,
        activation_bits=8,
        symmetric=False,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    weights = np.random.RandomState(0).uniform(0, 2, 64)
    weights[:5] = 0.0
    _check_same_gradients(estimator, X[:64], y[:64], sample_weight=weights)
    _check_same_gradients(estimator, X[:64], y[:64], quant_lambda=0.05)
    _check_same_gradients(estimator, X[:64], y[:64], sample_weight=weights, quant_lambda=0.5)


def test_explicit_gradients_before_quantization_starts(digits):
    X, y = digits
    estimator = QuantizedMLPClassifier(
        hidden_layer_sizes=(24,), weight_bits=4, activation_bits=8, quant_delay=10, max_iter=2, random_state=0
    ).fit(X, y)
    assert not estimator._module._quantizing
    _check_same_gradients(estimator, X[:64], y[:64])


@pytest.mark.parametrize("sample_weight", [False, True])
def test_explicit_gradients_match_autograd_multilabel(digits, sample_weight):
    X, y = digits
    Y = np.stack([y % 2, (y > 4)], axis=1).astype(int)
    estimator = QuantizedMLPClassifier(
        hidden_layer_sizes=(24,), weight_bits=4, activation_bits=8, max_iter=3, random_state=0
    ).fit(X, Y)
    assert estimator._loss_name() == "binary_log_loss"
    weights = np.linspace(0.1, 2, 64) if sample_weight else None
    _check_same_gradients(estimator, X[:64], Y[:64], sample_weight=weights)


@pytest.mark.parametrize("sample_weight", [False, True])
def test_explicit_gradients_match_autograd_regressor(digits, sample_weight):
    X, y = digits
    Y = np.stack([y / 9.0, X[:, 20]], axis=1)
    estimator = QuantizedMLPRegressor(
        hidden_layer_sizes=(24,),
        weight_bits=4,
        activation_bits=8,
        symmetric=False,
        max_iter=3,
        random_state=0,
    ).fit(X, Y)
    weights = np.linspace(0.1, 2, 64) if sample_weight else None
    _check_same_gradients(estimator, X[:64], Y[:64], sample_weight=weights, quant_lambda=0.01)


def test_explicit_gradients_match_autograd_learned_bit_widths(digits):
    X, y = digits
    # max_iter=8: past the 8-bit warm-up, so the allocated widths are in use.
    estimator = QuantizedMLPClassifier(
        hidden_layer_sizes=(24, 12), weight_bits="learned", target_bits=3, max_iter=8, random_state=0
    ).fit(X, y)
    assert sum(estimator.weight_bits_) / 3 < 8
    _check_same_gradients(estimator, X[:64], y[:64], quant_lambda=0.01)


@pytest.mark.parametrize("sample_weight", [False, True])
def test_explicit_gradients_match_autograd_poisson(digits, sample_weight):
    X, y = digits
    Y = np.stack([y, np.round(X[:, 20] * 16)], axis=1)  # two count targets
    estimator = QuantizedMLPRegressor(
        loss="poisson", hidden_layer_sizes=(24,), weight_bits=4, max_iter=3, random_state=0
    ).fit(X, Y)
    assert estimator._loss_name() == "poisson"
    weights = np.linspace(0.1, 2, 64) if sample_weight else None
    _check_same_gradients(estimator, X[:64], Y[:64], sample_weight=weights, quant_lambda=0.01)


@pytest.mark.parametrize(
    "params",
    [
        {"quantizer": "noise"},
        {"quantizer": "penalty"},
    ],
    ids=str,
)
def test_other_networks_train_through_autograd(digits, params):
    X, y = digits
    settings = {"hidden_layer_sizes": (8,), "weight_bits": 4, "activation_bits": 8, "max_iter": 1}
    settings.update(params)
    estimator = QuantizedMLPClassifier(random_state=0, **settings).fit(X, y)
    assert not explicit_gradients_supported(estimator._module, estimator._loss_name())


def test_explicit_and_autograd_fits_agree(digits, monkeypatch):
    """Whole fits, explicit against autograd: the same model up to rounding."""
    import skqat._backprop

    X, y = digits
    calls = []
    original_call = skqat._backprop.ExplicitGradients.__call__

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(skqat._backprop.ExplicitGradients, "__call__", counted)
    fits, n_calls = [], []
    for explicit in (True, False):
        monkeypatch.setattr(Objective, "explicit", explicit)
        estimator = QuantizedMLPClassifier(
            hidden_layer_sizes=(24,), weight_bits=4, activation_bits=8, max_iter=5, random_state=0
        )
        fits.append(estimator.fit(X, y))
        n_calls.append(len(calls))
    # 5 epochs of 2 batches through the explicit path, then none.
    assert n_calls == [10, 10]
    explicit_fit, autograd_fit = fits
    np.testing.assert_allclose(explicit_fit.loss_curve_, autograd_fit.loss_curve_, rtol=1e-6)
    assert np.mean(explicit_fit.predict(X) == autograd_fit.predict(X)) > 0.98


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_adam_matches_scikit_learn_update(dtype):
    """The fused kernel and the foreach fallback both follow scikit-learn's Adam."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    from skqat._optim import Adam

    rng = np.random.RandomState(0)
    shapes = [(5, 3), (5,), ()]
    start = [rng.normal(size=shape) for shape in shapes]
    gradients = [[rng.normal(size=shape) for shape in shapes] for _ in range(20)]

    reference = [p.copy() for p in start]
    sklearn_adam = AdamOptimizer(reference, learning_rate_init=0.01)
    for grads in gradients:
        sklearn_adam.update_params(reference, grads)

    results = {}
    for fused in (True, False):
        params = [torch.tensor(p, dtype=dtype) for p in start]
        adam = Adam(params, learning_rate_init=0.01)
        if fused:
            assert adam._fused, "torch 2.4+ has a fused CPU Adam kernel"
        adam._fused = fused
        for grads in gradients:
            adam.step([torch.tensor(g, dtype=dtype) for g in grads])
        results[fused] = [p.numpy() for p in params]
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    for fused in (True, False):
        for ours, theirs in zip(results[fused], reference):
            np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


def test_autograd_only_quantizers_are_marked_and_refuse_the_explicit_pass():
    from skqat._quantizers import NoiseQuantizer, PenaltyQuantizer

    for cls in (NoiseQuantizer, PenaltyQuantizer):
        assert cls.explicit is False
    from skqat._quantizers import Quantizer

    class AutogradOnly(Quantizer):
        def quantize(self, x):
            return x

        def effective_scale(self):
            return torch.ones(())

        def initialize(self, x):
            pass

    with pytest.raises(TypeError, match="autograd only"):
        AutogradOnly(4, signed=True, symmetric=True).forward_explicit(torch.zeros(3))


@pytest.mark.parametrize(
    "params",
    [{"input_bits": 8}, {"activation": "tanh", "symmetric": False, "input_bits": None}],
    ids=_config_id,
)
def test_explicit_step_reuses_its_buffers_without_changing_results(digits, params):
    X, y = digits
    estimator = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=1, random_state=0, **params)
    estimator.fit(X, y)
    module, trained = estimator._module, estimator._optimizer.params
    module.train()
    X_t, y_t = torch.as_tensor(X), _targets(estimator, y)
    reused = ExplicitGradients(module, trained, estimator._loss_name())
    for rows in (slice(0, 100), slice(100, 200), slice(200, 260)):
        loss, grads = reused(X_t[rows], y_t[rows], None)
        fresh_loss, fresh_grads = ExplicitGradients(module, trained, estimator._loss_name())(
            X_t[rows], y_t[rows], None
        )
        assert float(loss) == float(fresh_loss)
        for g, f in zip(grads, fresh_grads):
            assert torch.equal(g, f)
    # One buffer per quantizer output and shape: the 2 weights', and the
    # activation's (and the input's) for batches of 100 and 60 rows; the
    # second batch of 100 rows reused the first's.
    per_batch = 1 + (params["input_bits"] is not None)
    assert len(reused._buffers) == 2 + 2 * per_batch
