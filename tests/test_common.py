"""scikit-learn's own estimator checks, on quantized settings, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

# Quantized throughout: 4-bit per-channel weights and 8-bit activations for the
# classifier, asymmetric 6-bit grids with the grid penalty for the regressor, and a
# classifier with learned input widths.
# Small networks and a larger learning rate keep the ~60 checks fast.
ESTIMATORS = [
    QuantizedMLPClassifier(
        hidden_layer_sizes=(16,),
        weight_bits=4,
        activation_bits=8,
        granularity="per_channel",
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    ),
    QuantizedMLPRegressor(
        hidden_layer_sizes=(16,),
        weight_bits=6,
        activation_bits=8,
        symmetric=False,
        quant_lambda=1e-3,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    ),
    # Learned per-feature input widths: the allocation measures weighted rows, so the
    # sample-weight checks hold for it too.
    QuantizedMLPClassifier(
        hidden_layer_sizes=(16,),
        weight_bits=4,
        input_bits="learned",
        input_target_bits=3,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_checks_run_quantized(estimator):
    # The checks above are only meaningful if the instances really quantize:
    # fitted, their reports show low-bit weights and activations.
    from sklearn.base import clone
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    report = clone(estimator).set_params(max_iter=5).fit(X, y).quantization_report()
    stored = report[report["tensor"].isin(["weight", "activation"]) & ~report["calibrated"]]
    assert set(stored["tensor"]) == {"weight", "activation"}
    assert (stored["bits"] <= 8).all()
