"""``QuantizedMLPRegressor(loss="poisson")``: scikit-learn 1.9's Poisson MLP, quantized."""

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.neural_network._base import poisson_loss
from sklearn.utils._param_validation import InvalidParameterError

from skqat import QuantizedMLPRegressor
from skqat._inference import float_plan


def _glm_like(loss, **params):
    """One identity hidden unit and no penalty: a GLM with the loss's link (scikit-learn's own trick)."""
    return QuantizedMLPRegressor(
        loss=loss,
        hidden_layer_sizes=(1,),
        activation="identity",
        alpha=0,
        weight_bits=None,
        activation_bits=None,
        learning_rate_init=0.01,
        max_iter=2000,
        tol=1e-7,
        n_iter_no_change=50,
        random_state=0,
        **params,
    )


def test_float_poisson_mlp_is_the_poisson_glm(counts):
    """scikit-learn's test_mlp_vs_poisson_glm_equivalent, with Adam in place of lbfgs."""
    X, y = counts
    glm = PoissonRegressor(alpha=0, tol=1e-8).fit(X, y)
    poisson = _glm_like("poisson").fit(X, y)
    assert poisson.out_activation_ == "exp"
    # Adam stops at tol=1e-7 short of the optimum: measured 3.8e-3 at most, after 145 epochs.
    np.testing.assert_allclose(poisson.predict(X), glm.predict(X), rtol=1e-2)
    squared = _glm_like("squared_error").fit(X, y)
    assert squared.out_activation_ == "identity"
    assert not np.allclose(squared.predict(X), glm.predict(X), rtol=1e-2)


def test_loss_curve_is_scikit_learns_half_poisson_deviance(counts):
    """One full-batch epoch with a vanishing step: its loss is the deviance of the (unchanged) model."""
    X, y = counts
    reg = QuantizedMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(8,),
        weight_bits=4,
        alpha=0,
        solver="sgd",
        momentum=0,
        learning_rate_init=1e-12,
        batch_size=len(X),
        max_iter=1,
        random_state=0,
    ).fit(X, y)
    # The trained network in float (predict runs the integer model, which rounds it further).
    trained = float_plan(reg._frozen).outputs(np.asarray(X, reg._frozen.dtype)).ravel()
    assert reg.loss_curve_[0] == pytest.approx(poisson_loss(y, trained), rel=1e-9)


@pytest.mark.parametrize(
    "params", [dict(weight_bits=4), dict(weight_bits=2, input_bits=8, activation="tanh")], ids=str
)
def test_quantized_poisson_fits_counts(counts, params):
    X, y = counts
    reg = QuantizedMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(16,),
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
        **params,
    ).fit(X, y)
    prediction = reg.predict(X)
    assert prediction.shape == y.shape and (prediction > 0).all()
    baseline = mean_poisson_deviance(y, np.full_like(y, y.mean()))
    assert mean_poisson_deviance(y, prediction) < 0.8 * baseline
    integer = reg.export_integer()
    np.testing.assert_allclose(integer.predict(X), prediction, rtol=0.05)


def test_negative_targets_are_refused_and_y_is_left_alone(counts):
    X, y = counts
    shifted = y - 1.0
    before = shifted.copy()
    with pytest.raises(ValueError, match=r"loss='poisson' needs non-negative targets.*minimum of -1"):
        QuantizedMLPRegressor(loss="poisson", max_iter=2).fit(X, shifted)
    np.testing.assert_array_equal(shifted, before)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        QuantizedMLPRegressor(loss="huber").fit(X, y)


def test_the_loss_cannot_change_on_a_warm_start(counts):
    X, y = counts
    reg = QuantizedMLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=2, warm_start=True).fit(
        X, y
    )
    with pytest.raises(ValueError, match="differs from the loss the model was fitted with"):
        reg.set_params(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="differs from the loss"):
        reg.partial_fit(X, y)
    # A fresh fit may change it.
    reg.set_params(warm_start=False).fit(X, y)
    assert reg.out_activation_ == "identity"
