"""Learned per-feature input widths (``input_bits="learned"``): budget, dropped features, record."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._allocation import _dense_knapsack, _knapsack, _pareto, solve_allocation
from skqat._frozen import levels_bits, window_codes
from skqat._input_widths import InputWidthsQuantizer
from skqat.export import IntegerMLP

LEARNED = dict(
    hidden_layer_sizes=(16,),
    weight_bits=4,
    max_iter=12,
    random_state=0,
    input_bits="learned",
    input_target_bits=2,
)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def digits_model(digits_split):
    X_train, _, y_train, _ = digits_split
    return QuantizedMLPClassifier(**LEARNED).fit(X_train, y_train)


@pytest.mark.parametrize("target", [0.5, 1, 2, 3.25])
def test_input_target_bits_is_a_guarantee(digits_split, target):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(**dict(LEARNED, input_target_bits=target)).fit(X_train, y_train)
    bits = clf.input_bits_
    assert bits.shape == (64,) and bits.dtype.kind == "i"
    assert bits.mean() <= target
    assert bits.min() >= 0 and bits.max() <= 8
    # Digits' pixels take 17 values: more than 5 bits cannot help, and the knapsack is not offered them.
    assert bits.max() <= 5
    # A constant pixel column (one distinct value in the training rows) is dropped.
    constant = np.ptp(X_train, axis=0) == 0
    assert constant.any() and np.all(bits[constant] == 0)
    np.testing.assert_array_equal(clf.input_grid_report()["bits"].to_numpy(), bits)


def test_the_budget_goes_to_the_features_that_matter():
    # Two informative features and four noise columns: at a mean of 2 bits the informative ones get more.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 6))
    y = (X[:, 0] - 0.7 * X[:, 1] > 0).astype(int)
    clf = QuantizedMLPClassifier(**dict(LEARNED, hidden_layer_sizes=(32,), max_iter=30, input_target_bits=2))
    clf.fit(X, y)
    bits = clf.input_bits_
    assert bits[:2].min() > bits[2:].max(), bits
    assert bits.mean() <= 2


def test_dropped_features_do_not_change_predictions(digits_model, digits_split):
    _, X_test, _, _ = digits_split
    dropped = digits_model.input_bits_ == 0
    assert dropped.any() and not dropped.all()
    moved = X_test.copy()
    moved[:, dropped] = np.random.default_rng(1).normal(0, 1e3, (len(X_test), dropped.sum()))
    np.testing.assert_array_equal(digits_model.predict_proba(moved), digits_model.predict_proba(X_test))
    kept = np.flatnonzero(~dropped)[0]
    moved[:, kept] += 50
    assert not np.array_equal(digits_model.predict_proba(moved), digits_model.predict_proba(X_test))


def test_predict_is_the_trained_network(digits_model, digits_split):
    # What you score is what you ship: the torch network in eval mode, the float predict and the
    # integer model give the same labels, and the torch codes are the record's.
    _, X_test, _, _ = digits_split
    rng = np.random.default_rng(0)
    X = np.vstack([X_test, rng.uniform(-40, 60, (200, 64)), np.full((1, 64), 1e30), -np.full((1, 64), 1e30)])
    module = digits_model._module.eval()
    with torch.no_grad():
        x = torch.as_tensor(X, dtype=torch.float32)
        logits = module(x).numpy()
        codes = module.input_quantizer.codes(x.clone()).numpy()
    labels = digits_model.classes_[logits.argmax(axis=1)]
    np.testing.assert_array_equal(digits_model.predict(X), labels)
    integer = digits_model.export_integer()
    np.testing.assert_array_equal(integer.predict(X), labels)
    np.testing.assert_array_equal(integer.quantize_input(X), codes.astype(np.int64))
    low, step, levels = digits_model._frozen.input_grid.window
    on_window = (codes - low) % step == 0
    assert on_window.all()
    assert np.all(codes >= low) and np.all(codes <= low + step * (levels - 1))


def test_window_codes_torch_and_numpy_agree():
    rng = np.random.default_rng(0)
    u = rng.normal(0, 80, (500, 5)).astype(np.float32)
    u[:5] = [0.5, 1.5, -0.5, 2.5, 127.5]  # ties
    low = np.array([-128, -100, 0, 3, -7], np.float32)
    step = np.array([1, 3, 16, 2, 64], np.float32)
    levels = np.array([256, 8, 2, 1, 4], np.float32)
    expected = window_codes(u.copy(), low, step, levels)
    got = window_codes(torch.from_numpy(u.copy()), *map(torch.from_numpy, (low, step, levels))).numpy()
    np.testing.assert_array_equal(got, expected)
    assert np.all(expected[:, 3] == 3)  # one level: the code never moves
    assert np.all((expected - low) % step == 0)


def test_the_window_quantizer_gradients_match_a_finite_difference():
    torch.manual_seed(0)
    quantizer = InputWidthsQuantizer(
        max_bits=8, signed=True, symmetric=False, param_shape=(1, 3), dtype=torch.float64
    )
    x = torch.randn(400, 3, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.2], dtype=torch.float64)
    quantizer.initialize(x)
    scale = torch.tensor([[0.3, 0.9, 0.05]], dtype=torch.float64)
    quantizer.allocate(
        np.array([2, 3, 0]), scale, torch.tensor([[2.0, 10.0, 40.0]]), torch.tensor([[20.0, 9.0, 1.0]])
    )
    out, state = quantizer.forward_explicit(x)
    grad_out = torch.randn_like(out)
    _, grads = quantizer.backward_explicit(grad_out.clone(), state)
    x.requires_grad_(True)
    auto = torch.autograd.grad(
        (quantizer.quantize(x) * grad_out).sum(), [quantizer.log_scale, quantizer.zero_point]
    )
    for explicit, reference in zip(grads, auto):
        torch.testing.assert_close(explicit, reference)
    # The dropped feature (one level) learns nothing; the others do.
    assert grads[0][0, 2] == 0 and grads[1][0, 2] == 0
    assert torch.all(grads[0][0, :2] != 0)


def test_explicit_gradients_match_autograd(digits_split):
    from test_backprop import _check_same_gradients

    X, _, y, _ = digits_split
    for symmetric in (True, False):
        estimator = QuantizedMLPClassifier(**dict(LEARNED, max_iter=6, symmetric=symmetric)).fit(X, y)
        assert estimator._module.input_quantizer.allocated
        _check_same_gradients(estimator, X[:64], y[:64], quant_lambda=0.01)


def test_one_hot_columns_take_at_most_one_bit(adult_like_frame):
    X, y = adult_like_frame
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), ["age", "hours"]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["job", "city"]),
            ],
            sparse_threshold=0,
        ),
        QuantizedMLPClassifier(**dict(LEARNED, input_target_bits=2)),
    ).fit(X, y)
    model = pipe[-1]
    assert model.input_bits_[2:].max() <= 1
    assert model.input_bits_.mean() <= 2
    assert pipe.score(X, y) > 0.6


@pytest.fixture(scope="module")
def adult_like_frame():
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame(
        {
            "age": rng.integers(17, 90, n).astype(float),
            "hours": rng.normal(40, 10, n),
            "job": rng.choice(["a", "b", "c", "d"], n),
            "city": rng.choice(["x", "y"], n),
        }
    )
    y = ((X["age"] > 40) ^ (X["job"] == "b")).astype(int)
    return X, y


def test_price_alone_chooses_widths(digits_split):
    X_train, _, y_train, _ = digits_split
    cheap = QuantizedMLPClassifier(**dict(LEARNED, input_target_bits=None, input_bit_lambda=1e-4)).fit(
        X_train, y_train
    )
    dear = QuantizedMLPClassifier(**dict(LEARNED, input_target_bits=None, input_bit_lambda=1.0)).fit(
        X_train, y_train
    )
    assert dear.input_bits_.mean() < cheap.input_bits_.mean()


def test_regressor_and_asymmetric_grids(digits_split):
    X_train, X_test, y_train, _ = digits_split
    # Pixels shifted below zero: the asymmetric grids' zero points are then not 0.
    X_train, X_test = X_train - 5.0, X_test - 5.0
    reg = QuantizedMLPRegressor(**dict(LEARNED, symmetric=False)).fit(X_train, y_train.astype(float))
    assert reg.input_bits_.mean() <= 2
    assert reg._frozen.input_grid.nonzero_zero_point
    np.testing.assert_array_equal(reg.export_integer().predict(X_test), reg.predict(X_test))


def test_pickle_warm_start_and_partial_fit_keep_the_widths(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(**dict(LEARNED, warm_start=True)).fit(X_train, y_train)
    widths = clf.input_bits_.copy()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(restored.input_bits_, widths)
    restored.fit(X_train, y_train)
    np.testing.assert_array_equal(restored.input_bits_, widths)
    restored.set_params(input_target_bits=3)
    with pytest.raises(ValueError, match="network changed.*input_target_bits"):
        restored.fit(X_train, y_train)

    # partial_fit allocates at the end of its first call and keeps the widths after.
    inc = QuantizedMLPClassifier(**LEARNED)
    inc.partial_fit(X_train[:500], y_train[:500], classes=np.unique(y_train))
    first = inc.input_bits_.copy()
    assert first.mean() <= 2 and inc._module.input_quantizer.allocated
    inc.partial_fit(X_train[500:], y_train[500:])
    np.testing.assert_array_equal(inc.input_bits_, first)


def test_grid_search_over_input_target_bits(digits_split):
    X_train, _, y_train, _ = digits_split
    search = GridSearchCV(
        QuantizedMLPClassifier(**dict(LEARNED, max_iter=6)), {"input_target_bits": [1, 3]}, cv=2
    ).fit(X_train, y_train)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.input_bits_.mean() <= search.best_estimator_.input_target_bits


def test_model_file_round_trip_and_a_damaged_window(digits_model, digits_split, tmp_path):
    _, X_test, _, _ = digits_split
    path = tmp_path / "model.npz"
    digits_model.export_integer().save(path)
    loaded = IntegerMLP.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test), digits_model.predict(X_test))
    np.testing.assert_array_equal(loaded.input_grid.window, digits_model._frozen.input_grid.window)


def test_record_check_refuses_a_window_outside_the_container(digits_model):
    from dataclasses import replace

    from skqat._record_checks import check_network

    grid = digits_model._frozen.input_grid
    low, step, levels = (np.array(w) for w in grid.window)
    levels[np.argmax(levels)] = 512
    bad = replace(digits_model._frozen, input_grid=replace(grid, window=(low, step, levels)))
    with pytest.raises(ValueError, match="window"):
        check_network(bad, "test")
    levels = np.array(grid.window[2])
    levels[0] = 3  # not a power of 2
    bad = replace(digits_model._frozen, input_grid=replace(grid, window=(low, step, levels)))
    with pytest.raises(ValueError, match="power of 2"):
        check_network(bad, "test")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"input_bits": "learned"}, "under a budget"),
        ({"input_bits": "learned", "input_target_bits": 2, "input_granularity": "per_tensor"}, "per_feature"),
        ({"input_bits": "learned", "input_target_bits": 2, "quantizer": "minmax"}, "minmax"),
        ({"input_bits": "learned", "input_target_bits": 2, "input_bit_bounds": (0, 9)}, "input_bit_bounds"),
        ({"input_bits": "learned", "input_target_bits": 2, "input_bit_bounds": (3, 2)}, "input_bit_bounds"),
        ({"input_bits": "learned", "input_target_bits": 1, "input_bit_bounds": (2, 8)}, "cannot be met"),
        ({"input_bits": 8, "input_target_bits": 2}, "input_bits='learned'"),
        ({"input_bit_lambda": 0.1}, "input_bits='learned'"),
    ],
)
def test_settings_errors(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, **params).fit(X, y)


def test_levels_bits():
    np.testing.assert_array_equal(levels_bits([1, 2, 3, 4, 256]), [0, 1, 2, 2, 8])


@pytest.mark.parametrize("seed", range(20))
def test_dense_knapsack_equals_the_pareto_front(seed):
    rng = np.random.default_rng(seed)
    n_rows, choices = int(rng.integers(1, 30)), list(range(0, int(rng.integers(2, 9))))
    costs = np.sort(rng.exponential(1.0, (n_rows, len(choices))), axis=1)[:, ::-1] + rng.normal(
        0, 0.05, (n_rows, len(choices))
    )
    if seed % 3 == 0:
        costs[rng.random(costs.shape) < 0.2] = np.inf  # choices not offered
        costs[:, 0] = np.where(np.isinf(costs[:, 0]), 1.0, costs[:, 0])
    weights = np.tile(np.asarray(choices), (n_rows, 1))
    capacity = int(rng.integers(0, n_rows * choices[-1] + 1))
    dense = _dense_knapsack(costs, weights, capacity)
    front = {0: (0.0, ())}
    for row_values, row_weights in zip(costs, weights):
        grown = {}
        for used, (value, picked) in front.items():
            for j, (v, w) in enumerate(zip(row_values, row_weights)):
                key = used + int(w)
                if key <= capacity and (key not in grown or value + v < grown[key][0]):
                    grown[key] = (value + float(v), (*picked, j))
        front = _pareto(grown)
    best = min(front.items(), key=lambda item: (item[1][0], item[0]))
    value = sum(costs[i, j] for i, j in enumerate(dense))
    assert value == pytest.approx(best[1][0])
    assert sum(weights[i, j] for i, j in enumerate(dense)) <= capacity
    # The solver picks the dense path for many rows; the result meets the same budget.
    widths = solve_allocation(costs, [1] * n_rows, choices, target_bits=capacity / n_rows)
    assert sum(widths) <= capacity
    assert _knapsack(costs, weights, None) == tuple(int(np.argmin(row)) for row in costs)


def test_the_windows_count_in_the_packed_size(digits_model):
    from dataclasses import replace

    network = digits_model._frozen
    without = replace(network, input_grid=replace(network.input_grid, window=None))
    # low, step and levels per feature, 4 bytes each as the model file stores them.
    assert network.nbytes() - without.nbytes() == 3 * 4 * network.n_features
    assert digits_model.export_integer().nbytes == network.nbytes()
