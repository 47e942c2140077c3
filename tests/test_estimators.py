"""Behaviour of QuantizedMLPClassifier and QuantizedMLPRegressor that users rely on."""

import inspect
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from _grids import grid_coefs
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

FAST = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, batch_size=32, max_iter=60, random_state=0)


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("granularity", ["per_tensor", "per_channel"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_coefs_lie_on_the_grid(iris, bits, granularity, symmetric):
    X, y = iris
    clf = QuantizedMLPClassifier(weight_bits=bits, granularity=granularity, symmetric=symmetric, **FAST).fit(
        X, y
    )
    report = clf.quantization_report().set_index(["layer", "tensor"])
    assert clf._frozen.input_grid.per_feature  # the default: 8-bit per-feature inputs
    for layer in range(len(clf.coefs_)):
        coef = grid_coefs(clf, layer)
        scale = np.broadcast_to(report.loc[(layer, "weight"), "scale"], coef.shape[1])
        zero = np.broadcast_to(report.loc[(layer, "weight"), "zero_point"], coef.shape[1])
        codes = coef / scale - zero
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)
        # At most 2**bits distinct values per output unit (a column of coefs_).
        for column in np.round(codes).T:
            assert len(np.unique(column)) <= 2**bits
        assert report.loc[(layer, "weight"), "levels_used"] <= 2**bits


def test_coefs_are_what_predict_uses(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(weight_bits=3, activation_bits=None, **FAST).fit(X, y)
    hidden = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    logits = hidden @ clf.coefs_[1] + clf.intercepts_[1]
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-6, atol=1e-9)


def test_float_model_is_unconstrained(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(weight_bits=None, activation_bits=None, **FAST).fit(X, y)
    assert len(np.unique(clf.coefs_[0])) == clf.coefs_[0].size
    assert clf.score(X, y) > 0.9


def test_pandas_and_string_labels_in_a_pipeline(wine_frame):
    X, y = wine_frame
    pipe = Pipeline(
        [
            ("prep", ColumnTransformer([("num", StandardScaler(), list(X.columns))])),
            ("clf", QuantizedMLPClassifier(weight_bits=4, **FAST)),
        ]
    )
    pipe.fit(X, pd.Series(y, name="cultivar"))
    predictions = pipe.predict(X)
    assert predictions.dtype.kind in "OU" and set(predictions) <= set(y)
    assert pipe.score(X, y) > 0.9
    assert list(pipe.named_steps["clf"].classes_) == sorted(set(y))


def test_feature_names_from_dataframe(wine_frame):
    X, y = wine_frame
    clf = QuantizedMLPClassifier(**FAST).fit(
        StandardScaler().set_output(transform="pandas").fit_transform(X), y
    )
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert clf.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(
    "labels",
    [
        np.array([10, 20, 30]),
        np.array(["a", "b", "c"], dtype=object),
        pd.Categorical(["low", "mid", "high"]).categories.to_numpy(),
    ],
)
def test_labels_are_returned_as_given(iris, labels):
    X, y = iris
    y_user = labels[y]
    clf = QuantizedMLPClassifier(**FAST).fit(X, y_user)
    assert set(clf.predict(X)) <= set(labels)
    assert clf.predict(X).dtype.kind == np.asarray(y_user).dtype.kind or (
        clf.predict(X).dtype.kind in "OU" and np.asarray(y_user).dtype.kind in "OU"
    )
    assert clf.score(X, y_user) > 0.9


def test_pandas_categorical_series_labels(iris):
    X, y = iris
    y_cat = pd.Series(pd.Categorical.from_codes(y, ["setosa", "versicolor", "virginica"]))
    clf = QuantizedMLPClassifier(**FAST).fit(X, y_cat)
    assert set(clf.predict(X)) == {"setosa", "versicolor", "virginica"}


def test_grid_search_over_bits_and_lambda_in_parallel(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("clf", QuantizedMLPClassifier(**FAST))])
    search = GridSearchCV(
        pipe,
        {"clf__weight_bits": [2, 4, 8], "clf__quant_lambda": [0.0, 1e-3]},
        cv=3,
        n_jobs=2,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ > 0.85


@pytest.mark.parametrize("dump,load", [(pickle.dumps, pickle.loads), (None, None)])
def test_pickle_round_trip_gives_identical_predictions(iris, tmp_path, dump, load):
    X, y = iris
    clf = QuantizedMLPClassifier(weight_bits=4, symmetric=False, **FAST).fit(X, y)
    if dump is None:
        joblib.dump(clf, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = load(dump(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    pd.testing.assert_frame_equal(restored.quantization_report(), clf.quantization_report())


def test_pickle_holds_no_torch_objects(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**FAST).fit(X, y)
    state = clf.__getstate__()
    assert "_module" not in state and "_optimizer" not in state
    assert all(isinstance(v, np.ndarray) for v in state["_module_arrays"].values())


def test_unpickled_model_continues_training(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(warm_start=True, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    clf.fit(X, y)
    restored.fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.loss_curve_ == clf.loss_curve_


@pytest.mark.parametrize("Estimator", [QuantizedMLPClassifier, QuantizedMLPRegressor])
def test_same_random_state_is_bit_identical(iris, Estimator):
    X, y = iris
    first = Estimator(weight_bits=3, **FAST).fit(X, y)
    second = Estimator(weight_bits=3, **FAST).fit(X, y)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    for a, b in zip(first.coefs_, second.coefs_):
        np.testing.assert_array_equal(a, b)
    other = Estimator(weight_bits=3, **{**FAST, "random_state": 1}).fit(X, y)
    assert other.loss_curve_ != first.loss_curve_


def test_global_random_state_is_untouched(iris):

    X, y = iris
    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    QuantizedMLPClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64_input(iris, dtype):
    X, y = iris
    clf = QuantizedMLPClassifier(**FAST).fit(X.astype(dtype), y)
    assert clf.coefs_[0].dtype == dtype
    assert clf.predict_proba(X.astype(dtype)).dtype == dtype
    assert clf.score(X, y) > 0.9


def test_caller_arrays_are_not_modified(iris):
    X, y = iris
    X = np.asfortranarray(X.copy())
    sample_weight = np.linspace(0.5, 2.0, len(y))
    copies = X.copy(), y.copy(), sample_weight.copy()
    clf = QuantizedMLPClassifier(**FAST).fit(X, y, sample_weight=sample_weight)
    clf.partial_fit(X, y, sample_weight=sample_weight)
    clf.predict(X)
    for original, copy in zip((X, y, sample_weight), copies):
        np.testing.assert_array_equal(original, copy)


def test_convergence_warning_when_max_iter_is_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        QuantizedMLPClassifier(**{**FAST, "max_iter": 3}).fit(X, y)


def test_convergence_warning_points_at_the_users_fit_call(iris):
    # Not at skqat, nor at scikit-learn's _fit_context wrapper (sklearn/base.py) around fit,
    # nor inside a Pipeline that fits the estimator: at the line that called fit.
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("reg", QuantizedMLPRegressor(**{**FAST, "max_iter": 3}))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)  # pytest's configuration ignores it
        lines = [inspect.currentframe().f_lineno + 1]
        QuantizedMLPClassifier(**{**FAST, "max_iter": 3}).fit(X, y)
        lines.append(inspect.currentframe().f_lineno + 1)
        pipe.fit(X, y.astype(float))
    found = [(Path(w.filename).resolve(), w.lineno) for w in caught if w.category is ConvergenceWarning]
    assert found == [(Path(__file__).resolve(), line) for line in lines]


def test_divergence_raises_a_clear_error(iris):
    X, y = iris
    clf = QuantizedMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e6,
        momentum=0.0,
        max_iter=50,
        random_state=0,
    )
    with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
        clf.fit(X * 1e3, y * 1e6)
    assert not hasattr(clf, "coefs_")


def test_divergence_under_warm_start_keeps_the_previous_model(iris):
    X, y = iris
    reg = QuantizedMLPRegressor(warm_start=True, solver="sgd", **FAST).fit(X, y)
    before = reg.predict(X)
    reg.set_params(learning_rate_init=1e6, momentum=0.0)
    with pytest.raises(ValueError, match="diverged"):
        reg.fit(X * 1e3, y * 1e6)
    np.testing.assert_array_equal(reg.predict(X), before)


@pytest.mark.parametrize(
    "params",
    [
        {"weight_bits": 0},
        {"weight_bits": 17},
        {"activation_bits": 1},
        {"quantizer": "nope"},
        {"granularity": "per_row"},
        {"quant_lambda": -1.0},
        {"device": "tpu"},
        {"solver": "lbfgs"},
        {"symmetric": "yes"},
        {"learning_rate_init": 0.0},
        {"alpha": -1},
        {"max_iter": 0},
    ],
)
def test_invalid_parameters_raise_invalid_parameter_error(iris, params):
    X, y = iris
    with pytest.raises(InvalidParameterError):
        QuantizedMLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (10, -1), ("a",)])
def test_invalid_hidden_layer_sizes(iris, sizes):
    X, y = iris
    with pytest.raises((ValueError, TypeError), match="hidden_layer_sizes"):
        QuantizedMLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a machine without CUDA (tests/test_cuda.py covers GPUs)"
)
def test_cuda_request_without_cuda_is_a_clear_error(iris):
    X, y = iris
    with pytest.raises(ValueError, match="no CUDA device"):
        QuantizedMLPClassifier(device="cuda", **FAST).fit(X, y)
    clf = QuantizedMLPClassifier(device="auto", **FAST).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_single_class_fits_and_predicts_that_class_as_scikit_learn(iris):
    # scikit-learn's MLPClassifier fits a single-class y and predicts that class;
    # so does skqat (and predict_proba keeps scikit-learn's two columns).
    X, _ = iris
    y = np.full(len(X), "only")
    clf = QuantizedMLPClassifier(**FAST).fit(X, y)
    reference = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["only"]
    np.testing.assert_array_equal(clf.predict(X), reference.predict(X))
    assert clf.predict_proba(X).shape == reference.predict_proba(X).shape == (len(X), 2)


def test_multilabel_classification():
    X, Y = make_multilabel_classification(n_samples=300, n_classes=4, random_state=0)
    clf = QuantizedMLPClassifier(weight_bits=4, **{**FAST, "max_iter": 150}).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba >= 0) & (proba <= 1))
    assert clf.score(X, Y) > 0.5


def test_binary_classification_has_one_logistic_output(iris):
    X, y = iris
    mask = y < 2
    clf = QuantizedMLPClassifier(**FAST).fit(X[mask], np.where(y[mask] == 0, "no", "yes"))
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    proba = clf.predict_proba(X[mask])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X[mask]), np.log(proba))
    assert clf.score(X[mask], np.where(y[mask] == 0, "no", "yes")) == 1.0


def test_multi_output_regression():
    X, Y = make_regression(n_samples=300, n_features=6, n_targets=3, noise=1.0, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = QuantizedMLPRegressor(weight_bits=6, **{**FAST, "max_iter": 200}).fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == Y.shape
    assert reg.score(X, Y) > 0.9
    assert reg.out_activation_ == "identity"


def test_partial_fit_matches_epochs_of_fit(iris):
    X, y = iris
    params = dict(FAST, shuffle=False, max_iter=5)
    full = QuantizedMLPClassifier(**params).fit(X, y)
    incremental = QuantizedMLPClassifier(**params)
    for _ in range(5):
        incremental.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(incremental.predict_proba(X), full.predict_proba(X))
    assert incremental.t_ == full.t_ == 5 * len(X)


def test_partial_fit_needs_classes_first_and_rejects_unseen_labels(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X, np.where(y == 2, 7, y))


def test_warm_start_continues_and_keeps_the_grid(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(warm_start=True, **{**FAST, "max_iter": 10}).fit(X, y)
    curve = list(clf.loss_curve_)
    clf.fit(X, y)
    assert clf.loss_curve_[: len(curve)] == curve and len(clf.loss_curve_) == 2 * len(curve)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


@pytest.mark.parametrize(
    "change",
    [
        {"weight_bits": 2},
        {"hidden_layer_sizes": (8,)},
        {"granularity": "per_channel"},
        {"activation_bits": None},
    ],
)
def test_warm_start_refuses_a_changed_network(iris, change):
    X, y = iris
    clf = QuantizedMLPClassifier(warm_start=True, **{**FAST, "max_iter": 5}).fit(X, y)
    clf.set_params(**change)
    with pytest.raises(ValueError, match="network changed since the last fit"):
        clf.fit(X, y)


def test_early_stopping_restores_the_best_epoch(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        weight_bits=4,
        early_stopping=True,
        n_iter_no_change=3,
        hidden_layer_sizes=(32,),
        learning_rate_init=0.02,
        max_iter=100,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ < 100
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Training stopped after epochs without improvement, so the best epoch is
    # not the last one, and the model holds the best epoch's weights.
    assert clf.validation_scores_.index(clf.best_validation_score_) < clf.n_iter_ - 1
    for name, value in clf._module.state_dict().items():
        assert torch.equal(value, clf._monitor.best_state[name]), name


def test_sample_weight_zero_is_the_same_as_dropping(iris):
    X, y = iris
    keep = np.arange(len(y)) % 3 != 0
    params = dict(FAST, batch_size=len(y), shuffle=False)
    weighted = QuantizedMLPClassifier(**params).fit(X, y, sample_weight=keep.astype(float))
    dropped = QuantizedMLPClassifier(**{**params, "batch_size": int(keep.sum())}).fit(X[keep], y[keep])
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_negative_sample_weight_is_rejected(iris):
    X, y = iris
    with pytest.raises(ValueError, match="negative"):
        QuantizedMLPClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))


def test_quantization_report(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(weight_bits=4, activation_bits=8, granularity="per_channel", **FAST).fit(
        X, y
    )
    report = clf.quantization_report()
    assert list(report["tensor"]) == ["input", "weight", "bias", "activation", "weight", "bias"]
    # By default the input grid is trained: 8 bits, one scale per feature.
    assert not report.loc[0, "calibrated"] and report.loc[0, "bits"] == 8
    assert np.shape(report.loc[0, "scale"]) == (4,)
    # Without input_bits it is the 8-bit one calibrated for integer deployment.
    float_input = clone(clf).set_params(input_bits=None).fit(X, y).quantization_report()
    assert float_input.loc[0, "calibrated"] and float_input.loc[0, "bits"] == 8
    weights = report[report["tensor"] == "weight"]
    assert list(weights["bits"]) == [4, 4]
    assert weights["scale"].iloc[0].shape == (16,)
    np.testing.assert_array_equal(
        weights["bytes"], [np.ceil(4 * 16 * 4 / 8) + 4 * 16, np.ceil(16 * 3 * 4 / 8) + 4 * 3]
    )
    assert np.all(weights["compression"] > 1)
    assert report.loc[report["tensor"] == "activation", "bits"].item() == 8


def test_threads_are_restored_after_fit(iris):

    X, y = iris
    before = torch.get_num_threads()
    QuantizedMLPClassifier(**FAST).fit(X, y)
    assert torch.get_num_threads() == before


def test_verbose_false_prints_nothing(iris, capsys):
    X, y = iris
    QuantizedMLPClassifier(**FAST).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_shows_a_progress_bar(iris, capsys):
    X, y = iris
    QuantizedMLPClassifier(verbose=True, **{**FAST, "max_iter": 5}).fit(X, y)
    assert "loss=" in capsys.readouterr().err


def test_divergence_message_starts_with_scikit_learns_sentence(iris):
    # Code that matches MLPRegressor's divergence error keeps working. Float inputs and biases:
    # with the default 8-bit input and int32 bias grids 3 of 10 seeds stay finite (measured).
    X, y = iris
    clf = QuantizedMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e6,
        momentum=0.0,
        input_bits=None,
        bias_bits=None,
        random_state=0,
    )
    with pytest.raises(ValueError, match=r"^Solver produced non-finite parameter weights\."):
        clf.fit(X * 1e3, y * 1e6)


# ----------------------------------------------------------------------
# Behaviour scikit-learn's own MLP tests pin down (tests/sklearn_suite/ runs them)
# ----------------------------------------------------------------------
def test_n_iter_no_change_inf_never_stops_early(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(**dict(FAST, max_iter=15, tol=1e9, n_iter_no_change=np.inf)).fit(X, y)
    assert clf.n_iter_ == 15


def test_invscaling_decays_over_every_sample_seen(iris):
    # scikit-learn's rate after t samples in all calls: lr / (t + 1) ** power_t.
    X, y = iris
    clf = QuantizedMLPClassifier(solver="sgd", learning_rate="invscaling", power_t=0.5, **FAST)
    for _ in range(5):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.t_ == 5 * len(X)
    assert clf._optimizer.learning_rate == pytest.approx(FAST["learning_rate_init"] / (clf.t_ + 1) ** 0.5)


def test_warm_start_fit_resets_the_optimizer_and_reads_new_stopping_parameters(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(
        solver="sgd", learning_rate="adaptive", warm_start=True, **dict(FAST, tol=1e9, n_iter_no_change=1)
    )
    clf.fit(X, y)
    assert clf._optimizer.learning_rate < FAST["learning_rate_init"]  # the schedule lowered it
    clf.set_params(tol=0.0, n_iter_no_change=1000, max_iter=7)
    clf.fit(X, y)
    # A fresh optimizer (scikit-learn resets it on every fit) and the new stopping rule: all 7 epochs.
    assert clf._optimizer.learning_rate == FAST["learning_rate_init"]
    assert clf.n_iter_ == 7


def test_divergence_under_early_stopping_keeps_the_best_epoch(iris):
    X, y = iris
    reg = QuantizedMLPRegressor(
        hidden_layer_sizes=(32,),
        activation="identity",
        solver="sgd",
        learning_rate_init=1.0,
        early_stopping=True,
        weight_bits=None,
        activation_bits=None,
        random_state=0,
        max_iter=20,
    )
    reg.fit(X, y)
    assert np.isnan(reg.validation_scores_[-1])
    assert np.isfinite(reg.best_validation_score_)
    assert np.all(np.isfinite(reg.predict(X)))


def test_verbose_lines_and_bar(iris, capsys):
    X, y = iris
    QuantizedMLPClassifier(verbose=2, **dict(FAST, max_iter=3)).fit(X, y)
    assert capsys.readouterr().out.count("Iteration") == 3
    clf = QuantizedMLPClassifier(verbose=True, **dict(FAST, max_iter=3)).fit(X, y)
    captured = capsys.readouterr()
    assert "Iteration" not in captured.out and "epoch" in captured.err  # the tqdm bar
    clf.partial_fit(X, y)
    assert "Iteration 1, loss = " in capsys.readouterr().out


def test_divergence_under_warm_start_restores_the_optimizer_in_use(iris):
    """The snapshot goes back into the optimizer the estimator holds, not the one it replaced."""
    X, y = iris
    reg = QuantizedMLPRegressor(warm_start=True, **FAST).fit(X, y)
    before = [t.clone() for t in reg._optimizer.state_tensors()]
    assert before and any(bool(t.abs().sum()) for t in before)
    reg.set_params(learning_rate_init=1e6)
    with pytest.raises(ValueError, match="diverged"):
        reg.fit(X * 1e3, y * 1e6)
    after = reg._optimizer.state_tensors()
    assert len(after) == len(before)
    for saved, restored in zip(before, after):
        torch.testing.assert_close(restored, saved, rtol=0, atol=0)
