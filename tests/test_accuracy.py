"""Accuracy of quantized models against the float model on real data."""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from skqat import QuantizedMLPClassifier


def _digits_accuracy(digits_split, **params):
    X_train, X_test, y_train, y_test = digits_split
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(100,), max_iter=200, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    return clf.score(X_test, y_test)


@pytest.fixture(scope="module")
def float_accuracy(digits_split):
    return _digits_accuracy(digits_split, weight_bits=None, activation_bits=None)


def test_float_baseline_is_sensible(float_accuracy):
    assert float_accuracy > 0.95


@pytest.mark.parametrize("weight_bits,allowed_drop", [(8, 0.01), (4, 0.01), (2, 0.03)])
def test_low_bit_digits_stays_close_to_float(digits_split, float_accuracy, weight_bits, allowed_drop):
    # The core issue's bar: 4-bit weights / 8-bit activations within 1 point of
    # float, 2-bit weights within 3 points (75/25 stratified split, (100,), 200 epochs).
    accuracy = _digits_accuracy(digits_split, weight_bits=weight_bits, activation_bits=8)
    assert accuracy >= float_accuracy - allowed_drop


def test_per_channel_asymmetric_2_bit(digits_split, float_accuracy):
    accuracy = _digits_accuracy(
        digits_split, weight_bits=2, activation_bits=8, granularity="per_channel", symmetric=False
    )
    assert accuracy >= float_accuracy - 0.03
