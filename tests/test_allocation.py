"""Bit widths under a budget: the exact knapsack, its guarantee, and the estimator's life cycle."""

import itertools
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._allocation import mean_bits, solve_allocation
from skqat._schedules import Schedule

LEARNED = dict(hidden_layer_sizes=(32,), weight_bits="learned", max_iter=20, random_state=0)


def _brute_force(costs, sizes, choices, target_bits, bit_lambda):
    best = None
    for widths in itertools.product(choices, repeat=len(sizes)):
        bits = mean_bits(widths, sizes)
        if target_bits is not None and bits > target_bits + 1e-12:
            continue
        value = sum(costs[layer, choices.index(b)] for layer, b in enumerate(widths)) + bit_lambda * bits
        if best is None or value < best[0] - 1e-12:
            best = (value, widths)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_knapsack_is_exact(seed):
    rng = np.random.default_rng(seed)
    n_layers = int(rng.integers(1, 5))
    choices = list(range(int(rng.integers(1, 3)), int(rng.integers(4, 9))))
    sizes = rng.integers(1, 3000, n_layers)
    # Losses that fall with bits, plus noise that can break monotonicity.
    costs = np.sort(rng.exponential(1.0, (n_layers, len(choices))), axis=1)[:, ::-1]
    costs = costs + rng.normal(0, 0.05, costs.shape)
    target = None if seed % 5 == 0 else float(rng.uniform(choices[0], choices[-1]))
    bit_lambda = float(rng.choice([0.0, 0.0, 0.1, 1.0]))
    widths = solve_allocation(costs, sizes, choices, target_bits=target, bit_lambda=bit_lambda)
    value = sum(costs[layer, choices.index(b)] for layer, b in enumerate(widths)) + bit_lambda * mean_bits(
        widths, sizes
    )
    expected, _ = _brute_force(costs, sizes, choices, target, bit_lambda)
    assert value == pytest.approx(expected, abs=1e-9)
    assert target is None or mean_bits(widths, sizes) <= target
    assert all(b in choices for b in widths)


def test_knapsack_spends_the_budget_on_the_sensitive_layer():
    # Layer 0 (small) loses a lot below 8 bits, layer 1 (large) little.
    choices = [2, 4, 8]
    costs = np.array([[5.0, 2.0, 0.0], [0.3, 0.1, 0.0]])
    assert solve_allocation(costs, [100, 10_000], choices, target_bits=2.5) == [8, 2]
    # A budget that fits everything at the top is not binding.
    assert solve_allocation(costs, [100, 10_000], choices, target_bits=8) == [8, 8]
    # Equal losses: the narrowest allocation.
    assert solve_allocation(np.zeros((2, 3)), [10, 10], choices) == [2, 2]


def test_infeasible_knapsack_raises():
    with pytest.raises(ValueError, match="no allocation"):
        solve_allocation(np.zeros((1, 2)), [10], [4, 8], target_bits=3.0)


@pytest.mark.parametrize("target_bits", [2, 2.5, 3, 3.5, 4])
def test_target_bits_is_a_guarantee(digits_split, target_bits):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(target_bits=target_bits, **LEARNED).fit(X_train, y_train)
    sizes = [coef.size for coef in clf.coefs_]
    assert all(isinstance(b, int) and 2 <= b <= 8 for b in clf.weight_bits_)
    assert mean_bits(clf.weight_bits_, sizes) <= target_bits
    report = clf.quantization_report()
    assert list(report.loc[report["tensor"] == "weight", "bits"]) == clf.weight_bits_
    for layer in range(len(clf.coefs_)):
        codes = clf.export_integer().layers[layer].weight_codes
        lo, hi = -(2 ** (clf.weight_bits_[layer] - 1)), 2 ** (clf.weight_bits_[layer] - 1) - 1
        assert codes.min() >= lo and codes.max() <= hi
        assert len(np.unique(codes)) <= 2 ** clf.weight_bits_[layer]


def test_a_budget_between_integers_is_used(digits_split):
    # Layers of different sizes (64x48 and 48x10): 2.5 mean bits fits one layer above 2.
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(**dict(LEARNED, hidden_layer_sizes=(48,), target_bits=2.5)).fit(
        X_train, y_train
    )
    bits = mean_bits(clf.weight_bits_, [coef.size for coef in clf.coefs_])
    assert 2.0 < bits <= 2.5


def test_binary_lower_bound(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(**dict(LEARNED, target_bits=1.5, bit_bounds=(1, 4))).fit(X_train, y_train)
    assert mean_bits(clf.weight_bits_, [coef.size for coef in clf.coefs_]) <= 1.5
    assert 1 in clf.weight_bits_


def test_bit_lambda_prices_bits(digits_split):
    X_train, _, y_train, _ = digits_split
    means = []
    for bit_lambda in (1e-6, 0.05, 100.0):
        clf = QuantizedMLPClassifier(bit_lambda=bit_lambda, **LEARNED).fit(X_train, y_train)
        means.append(mean_bits(clf.weight_bits_, [coef.size for coef in clf.coefs_]))
    assert means[0] >= means[1] >= means[2]
    assert means[2] == 2.0 and means[0] > 2.0


@pytest.mark.parametrize(
    "params,message",
    [
        ({"weight_bits": "learned"}, "needs? a budget|give one"),
        ({"weight_bits": "learned", "target_bits": 1.5}, "cannot be met"),
        ({"weight_bits": 4, "target_bits": 3.0}, "target_bits, target_bytes and bit_lambda set the budget"),
        ({"weight_bits": 4, "bit_lambda": 0.1}, "target_bits, target_bytes and bit_lambda set the budget"),
        ({"weight_bits": 4, "target_bytes": 900}, "target_bits, target_bytes and bit_lambda set the budget"),
        ({"weight_bits": "learned", "target_bits": 3, "target_bytes": 900}, "two budgets"),
        ({"weight_bits": "learned", "target_bytes": 50}, "cannot be met.*packs into"),
    ],
)
def test_budget_errors(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        QuantizedMLPClassifier(max_iter=2, **params).fit(X, y)


def test_early_stop_and_partial_fit_still_meet_the_budget(iris):
    X, y = iris
    # One epoch ends before the warm-up: the allocation runs at the end of fit.
    short = QuantizedMLPClassifier(**dict(LEARNED, max_iter=1, target_bits=3)).fit(X, y)
    assert mean_bits(short.weight_bits_, [c.size for c in short.coefs_]) <= 3
    reg = QuantizedMLPRegressor(**dict(LEARNED, target_bits=2.5))
    reg.partial_fit(X, y)
    first = list(reg.weight_bits_)
    assert mean_bits(first, [c.size for c in reg.coefs_]) <= 2.5
    for _ in range(3):
        reg.partial_fit(X, y)
    # Chosen once per model.
    assert reg.weight_bits_ == first


def test_warm_start_pickle_and_changed_budget(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(LEARNED, target_bits=3, warm_start=True)).fit(X, y)
    widths = list(clf.weight_bits_)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.weight_bits_ == widths
    assert restored._module.layers[0].weight_quantizer.bits == widths[0]
    restored.fit(X, y)
    assert restored.weight_bits_ == widths
    restored.set_params(target_bits=2)
    with pytest.raises(ValueError, match="network changed.*target_bits"):
        restored.fit(X, y)


def test_grid_search_over_target_bits(iris):
    X, y = iris
    search = GridSearchCV(
        QuantizedMLPClassifier(**dict(LEARNED, max_iter=10)),
        {"target_bits": [2, 3.5, 6]},
        cv=2,
    )
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert mean_bits(best.weight_bits_, [c.size for c in best.coefs_]) <= best.target_bits


@pytest.mark.parametrize("target_bytes", [1100, 1500, 2300])
def test_target_bytes_bounds_the_packed_model(digits_split, target_bytes):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(target_bytes=target_bytes, **LEARNED).fit(X_train, y_train)
    packed = int(clf.quantization_report()["bytes"].sum())
    assert packed == clf.export_integer().nbytes
    assert packed <= target_bytes
    assert all(2 <= b <= 8 for b in clf.weight_bits_)


def test_a_tight_byte_budget_is_used(digits_split):
    # Everything at 2 bits packs into 1028 bytes (64x32 and 32x10 weights, biases, grids: the
    # per-feature input grid stores 64 scales); 1300 bytes leaves room to widen a layer, and the
    # allocation takes it.
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(target_bytes=1300, **LEARNED).fit(X_train, y_train)
    assert 1028 < clf.quantization_report()["bytes"].sum() <= 1300


def test_early_stopping_sees_only_allocated_epochs(digits_split):
    # The widths are chosen on a warm-up before fit's epochs, so every epoch early stopping
    # scores (and may restore) is one of the allocated model. (Before, the 8-bit warm-up's
    # epochs were scored too, and here it scored best: 0.926 against at most 0.904.)
    X_train, _, y_train, _ = digits_split
    params = dict(
        LEARNED,
        max_iter=40,
        target_bits=1,
        bit_bounds=(1, 8),
        early_stopping=True,
        learning_rate_init=0.01,
        input_bits=None,
        bias_bits=None,
    )
    clf = QuantizedMLPClassifier(**params).fit(X_train, y_train)
    assert clf._module.layers[0].weight_quantizer.allocated
    assert clf.weight_bits_ == [1, 1]
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_the_chosen_widths_train_for_all_epochs(iris, monkeypatch):
    # The warm-up's epochs come on top of max_iter: the widths chosen after it train for all
    # max_iter epochs (benchmarks/allocation.py measured what a shorter share cost).
    import skqat._training as training

    epochs = []
    real_run_epoch = training.run_epoch

    def counting_run_epoch(module, *args, **kwargs):
        epochs.append(module.bits_unallocated())
        return real_run_epoch(module, *args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", counting_run_epoch)
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(LEARNED, target_bits=3, tol=0.0, n_iter_no_change=100)).fit(X, y)
    warmup = Schedule.of(clf).allocation_epoch()
    assert epochs == [True] * warmup + [False] * clf.max_iter
    assert clf.n_iter_ == len(clf.loss_curve_) == clf.max_iter


def test_learned_bits_fit_warns_nothing(iris):
    # A client library saw torch's "Converting a tensor with requires_grad=True to
    # a scalar" on every learned-bits fit (the retired soft-bit quantizer's
    # float(tensor)); the allocation reads integer widths, so nothing warns.
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        QuantizedMLPClassifier(**dict(LEARNED, max_iter=8, target_bits=3)).fit(X, y)
