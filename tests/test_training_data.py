"""The rows fit holds: the caller's array, shared, then integer codes once the input grid is fixed."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_regression

import skqat._training as training
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._training import TrainingData

FAST = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=0, weight_bits=4)


@pytest.fixture
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture
def held_dtypes(monkeypatch):
    """The dtype of ``TrainingData.X`` at each epoch of the fits that follow."""
    seen = []
    real_run_epoch = training.run_epoch

    def recording_run_epoch(module, optimizer, data, *args, **kwargs):
        seen.append(data.X.dtype)
        return real_run_epoch(module, optimizer, data, *args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", recording_run_epoch)
    return seen


@pytest.fixture
def hold_codes():
    """Set ``TrainingData.hold_codes`` for one fit, and put it back."""
    default = TrainingData.hold_codes

    def set_to(value):
        TrainingData.hold_codes = value

    yield set_to
    TrainingData.hold_codes = default


def _same_model(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"quantizer": "minmax"},
        {"quantizer": "pact", "batch_size": 64},
        {"weight_bits": "learned", "target_bits": 3},
        {"early_stopping": True, "max_iter": 8},
        {"symmetric": False},
        {"quant_delay": 2},
    ],
)
def test_codes_train_exactly_the_model_floats_train(digits, hold_codes, params, dtype):
    # The codes decode to what the fixed grid gives for their rows, and the grid's
    # fake quantization leaves those values as they are: the same steps, bit for bit.
    X, y = digits
    X = X.astype(dtype)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    models = []
    for policy in ("always", "never"):
        hold_codes(policy)
        models.append(QuantizedMLPClassifier(**dict(FAST, **params)).fit(X, y, sample_weight=weights))
    assert _same_model(*models)
    np.testing.assert_array_equal(models[0].predict_proba(X), models[1].predict_proba(X))


def test_fit_holds_int8_codes_of_rows_it_copied_once_the_input_grid_is_fixed(digits, held_dtypes):
    X, y = digits
    frame = pd.DataFrame(X)  # validation copies a data frame's rows: fit owns that copy
    QuantizedMLPClassifier(**FAST).fit(frame, y)
    # The default 8-bit per-feature grid is fixed from the first (quantized) epoch.
    assert held_dtypes == [torch.int8] * FAST["max_iter"]
    held_dtypes.clear()
    QuantizedMLPClassifier(**dict(FAST, quant_delay=2)).fit(frame, y)
    # Float epochs before quant_delay: the grid does not apply yet.
    assert held_dtypes == [torch.float64] * 2 + [torch.int8] * (FAST["max_iter"] - 2)
    held_dtypes.clear()
    QuantizedMLPClassifier(**dict(FAST, symmetric=False)).fit(frame, y)
    assert held_dtypes == [torch.uint8] * FAST["max_iter"]
    held_dtypes.clear()
    # A validation split is a copy too.
    QuantizedMLPClassifier(**dict(FAST, early_stopping=True)).fit(X, y)
    assert held_dtypes == [torch.int8] * len(held_dtypes) and held_dtypes


def test_the_callers_float_array_is_read_in_place_not_encoded(digits, held_dtypes, hold_codes):
    # The caller keeps the array anyway: codes would only add a byte per value. (load_digits's
    # array is not C-contiguous: fit would copy it, and then encode the copy.)
    X, y = digits
    X = np.ascontiguousarray(X)
    QuantizedMLPClassifier(**FAST).fit(X, y)
    assert held_dtypes == [torch.float64] * FAST["max_iter"]
    held_dtypes.clear()
    hold_codes("always")
    QuantizedMLPClassifier(**FAST).fit(X, y)
    assert held_dtypes == [torch.int8] * FAST["max_iter"]


@pytest.mark.parametrize(
    "params",
    [{"input_bits": 4}, {"input_granularity": "per_tensor"}, {"input_bits": None, "bias_bits": None}],
)
def test_learned_or_absent_input_grids_keep_float_rows(digits, held_dtypes, params):
    X, y = digits
    QuantizedMLPClassifier(**dict(FAST, **params)).fit(X, y)
    assert held_dtypes == [torch.float64] * FAST["max_iter"]


def test_only_wide_per_feature_input_grids_are_fixed(digits):
    X, y = digits
    fixed = QuantizedMLPClassifier(**FAST).fit(X, y)
    learned = QuantizedMLPClassifier(**dict(FAST, input_bits=4)).fit(X, y)
    assert fixed._module.input_quantizer.frozen
    assert not any(p.requires_grad for p in fixed._module.input_quantizer.parameters())
    assert not learned._module.input_quantizer.frozen
    assert all(p.requires_grad for p in learned._module.input_quantizer.parameters())


def test_partial_fit_holds_codes_per_block(digits, held_dtypes):
    # Blocks as a stream delivers them (data frames, as Dask's partitions): each is encoded.
    X, y = digits
    clf = QuantizedMLPClassifier(**FAST)
    for start in range(0, 600, 200):
        clf.partial_fit(pd.DataFrame(X[start : start + 200]), y[start : start + 200], classes=np.unique(y))
    assert held_dtypes == [torch.int8] * 3


def test_float32_rows_are_shared_not_copied_and_never_written():
    X, y = make_regression(n_samples=300, n_features=6, random_state=0)
    X = np.ascontiguousarray(X, dtype=np.float32)
    data = TrainingData.of(X, y, None, torch.float32, torch.float32, torch.device("cpu"), X)
    assert data.X.data_ptr() == X.ctypes.data and data.shared
    before = X.copy()
    X.flags.writeable = False  # a read-only array (np.load's memory map) trains too, without warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = QuantizedMLPRegressor(**FAST).fit(X, y)
    assert not [w for w in caught if "writable" in str(w.message)]
    np.testing.assert_array_equal(X, before)
    assert np.isfinite(reg.predict(X)).all()


def test_a_model_saved_before_fixed_input_grids_keeps_learning_its_grid(digits, monkeypatch):
    # Such a model's spec lacks "fixed_input_grid" (fitted here with the key dropped, as earlier
    # versions wrote it): a warm start is not a changed network, and its grid keeps training.
    import skqat._base as base

    real_network_spec = base.network_spec

    def earlier_network_spec(*args, **kwargs):
        spec = real_network_spec(*args, **kwargs)
        spec.pop("fixed_input_grid", None)
        return spec

    X, y = digits
    with monkeypatch.context() as patch:
        patch.setattr(base, "network_spec", earlier_network_spec)
        saved = pickle.dumps(QuantizedMLPClassifier(**dict(FAST, warm_start=True)).fit(X, y))
    old = pickle.loads(saved)
    assert "fixed_input_grid" not in old._spec
    assert not old._module.input_quantizer.frozen
    scale = old._module.input_quantizer.effective_scale().clone()
    old.fit(X, y)
    assert not torch.equal(old._module.input_quantizer.effective_scale(), scale)
