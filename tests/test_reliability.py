"""Reliability: bad inputs get clear errors without side effects; faults are survived; results reproduce."""

import math
import pickle
import threading
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.model_selection import GridSearchCV

import skqat._training
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._functional import fake_quantize, grid_limits
from skqat.exceptions import InconsistentVersionWarning

FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
ESTIMATORS = [QuantizedMLPClassifier, QuantizedMLPRegressor]
rng = np.random.RandomState(0)
X_OK = rng.normal(size=(30, 4))
Y_OK = np.arange(30) % 3


def _frame(**columns):
    base = {f"f{i}": X_OK[:, i] for i in range(3)}
    return pd.DataFrame({**base, **columns})


# (name, X, y, sample_weight, expected exception, message regex)
BAD_FIT_INPUTS = [
    ("nan in X", np.where(np.eye(30, 4) == 1, np.nan, X_OK), Y_OK, None, ValueError, "NaN"),
    ("inf in X", np.where(np.eye(30, 4) == 1, np.inf, X_OK), Y_OK, None, ValueError, "infinity"),
    ("empty X", np.empty((0, 4)), np.empty(0), None, ValueError, "0 sample"),
    ("zero features", np.empty((30, 0)), Y_OK, None, ValueError, "0 feature"),
    ("y of the wrong length", X_OK, Y_OK[:-3], None, ValueError, "inconsistent numbers of samples"),
    ("nan in y", X_OK, np.where(np.arange(30) == 3, np.nan, Y_OK), None, ValueError, "NaN"),
    ("3-d X", X_OK.reshape(30, 2, 2), Y_OK, None, ValueError, "dim 3"),
    (
        "text column",
        _frame(colour=np.array(["red", "blue"] * 15)),
        Y_OK,
        None,
        ValueError,
        "OneHotEncoder.*ColumnTransformer",
    ),
    (
        "datetime column",
        _frame(when=pd.date_range("2020-01-01", periods=30)),
        Y_OK,
        None,
        (ValueError, TypeError),
        "OneHotEncoder.*ColumnTransformer",
    ),
    ("complex column", _frame(z=X_OK[:, 0] + 1j), Y_OK, None, ValueError, "ColumnTransformer"),
    (
        "object array of strings",
        np.array([["a", "b"]] * 30, dtype=object),
        Y_OK,
        None,
        ValueError,
        "OneHotEncoder",
    ),
    ("negative sample_weight", X_OK, Y_OK, -np.ones(30), ValueError, "negative"),
    ("nan sample_weight", X_OK, Y_OK, np.where(np.arange(30) == 0, np.nan, 1.0), ValueError, "NaN"),
    ("sample_weight of the wrong length", X_OK, Y_OK, np.ones(10), ValueError, r"sample_weight.shape"),
]


def _copy(value):
    if value is None:
        return None
    return value.copy(deep=True) if isinstance(value, pd.DataFrame) else np.array(value, copy=True)


def _assert_unchanged(original, copy):
    if original is None:
        return
    if isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(original, copy)
    else:
        np.testing.assert_array_equal(original, copy)


def _assert_clear(excinfo, pattern):
    message = str(excinfo.value)
    assert excinfo.match(pattern), message
    # Never a raw torch error: the failure is raised outside torch, in words the user can act on.
    frames = [f.filename for f in traceback.extract_tb(excinfo.tb)]
    assert not any("site-packages/torch" in f for f in frames), frames
    assert "Tensor" not in message


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("case", BAD_FIT_INPUTS, ids=[c[0] for c in BAD_FIT_INPUTS])
def test_bad_fit_inputs_get_clear_errors_and_are_not_modified(Estimator, case):
    _, X, y, sample_weight, error, pattern = case
    copies = [_copy(v) for v in (X, y, sample_weight)]
    with pytest.raises(error) as excinfo:
        Estimator(**FAST).fit(X, y, sample_weight=sample_weight)
    _assert_clear(excinfo, pattern)
    for original, copy in zip((X, y, sample_weight), copies):
        _assert_unchanged(original, copy)


def test_single_class_and_single_sample():
    # One class (or one sample) fits and predicts that class, as in scikit-learn.
    clf = QuantizedMLPClassifier(**FAST).fit(X_OK[:1], Y_OK[:1])
    np.testing.assert_array_equal(clf.predict(X_OK), np.full(len(X_OK), Y_OK[0]))
    # One sample is enough for a regressor, as in scikit-learn.
    reg = QuantizedMLPRegressor(**FAST).fit(X_OK[:1], [1.0])
    assert np.isfinite(reg.predict(X_OK)).all()


@pytest.fixture(scope="module")
def fitted():
    frame = pd.DataFrame(X_OK, columns=["a", "b", "c", "d"])
    return {
        "array": QuantizedMLPClassifier(**FAST).fit(X_OK, Y_OK),
        "frame": QuantizedMLPClassifier(**FAST).fit(frame, Y_OK),
    }


@pytest.mark.parametrize(
    "X, pattern",
    [
        (X_OK[:, :3], "3 features, but QuantizedMLPClassifier is expecting 4"),
        (np.empty((0, 4)), "0 sample"),
        (np.full((2, 4), np.nan), "NaN"),
        (X_OK.reshape(30, 2, 2), "dim 3"),
        (np.array([["x"] * 4]), "OneHotEncoder"),
    ],
)
def test_bad_predict_inputs(fitted, X, pattern):
    with pytest.raises(ValueError) as excinfo:
        fitted["array"].predict(X)
    _assert_clear(excinfo, pattern)


def test_renamed_or_reordered_columns_behave_as_in_scikit_learn(fitted):
    clf = fitted["frame"]
    frame = pd.DataFrame(X_OK, columns=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["d", "c", "b", "a"]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X_OK)


def test_sparse_input_gives_the_same_model_as_dense():
    from scipy import sparse

    dense = QuantizedMLPClassifier(**FAST).fit(X_OK, Y_OK)
    sparse_fit = QuantizedMLPClassifier(**FAST).fit(sparse.csr_matrix(X_OK), Y_OK)
    np.testing.assert_array_equal(
        sparse_fit.predict_proba(sparse.csr_matrix(X_OK)), dense.predict_proba(X_OK)
    )


def test_keyboard_interrupt_keeps_the_last_finished_epoch(monkeypatch):
    reference = QuantizedMLPClassifier(**dict(FAST, max_iter=2, shuffle=False)).fit(X_OK, Y_OK)
    original = skqat._training.run_epoch
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            original(*args, **kwargs)  # the third epoch runs, then ^C arrives before it is recorded
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skqat._training, "run_epoch", interrupted)
    clf = QuantizedMLPClassifier(**dict(FAST, max_iter=10, shuffle=False))
    with pytest.warns(UserWarning, match="interrupted by user after 2 finished epoch"):
        clf.fit(X_OK, Y_OK)
    assert clf.n_iter_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X_OK), reference.predict_proba(X_OK))


@pytest.mark.parametrize("scale", [1e-6, 1e6])
@pytest.mark.parametrize("bits", [1, 2, 8])
def test_extreme_feature_scales_never_produce_nan(scale, bits):
    clf = QuantizedMLPClassifier(**dict(FAST, max_iter=20, weight_bits=bits)).fit(X_OK * scale, Y_OK)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_)
    assert np.all(np.isfinite(clf.predict_proba(X_OK * scale)))


def test_unpickling_another_version_warns():
    clf = QuantizedMLPClassifier(**FAST).fit(X_OK, Y_OK)
    state = clf.__getstate__()
    state["_skqat_version"] = "0.0.1"
    restored = QuantizedMLPClassifier.__new__(QuantizedMLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match="skqat version 0.0.1"):
        restored.__setstate__(state)
    np.testing.assert_array_equal(restored.predict(X_OK), clf.predict(X_OK))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(pickle.dumps(clf))  # same version: silent


def test_grid_search_is_reproducible_across_n_jobs():
    grid = {"weight_bits": [2, 4], "quant_lambda": [0.0, 1e-2]}
    results = []
    for n_jobs in (1, 2):
        search = GridSearchCV(QuantizedMLPClassifier(**dict(FAST, max_iter=20)), grid, cv=3, n_jobs=n_jobs)
        results.append(search.fit(X_OK, Y_OK).cv_results_["mean_test_score"])
    np.testing.assert_array_equal(results[0], results[1])


def test_predict_from_many_threads_matches_serial(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(32,), weight_bits=4, input_bits=8, max_iter=10, random_state=0
    ).fit(X_train, y_train)
    serial = clf.predict_proba(X_test)
    outputs, errors = [None] * 8, []

    def work(i):
        try:
            for _ in range(20):
                outputs[i] = clf.predict_proba(X_test)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for out in outputs:
        np.testing.assert_array_equal(out, serial)


@settings(max_examples=150, deadline=None)
@given(
    bits=st.integers(1, 16),
    signed=st.booleans(),
    scale=st.floats(1e-3, 1e2),
    x=arrays(np.float64, st.integers(2, 40), elements=st.floats(-1e3, 1e3, allow_nan=False)),
)
def test_quantization_is_monotone(bits, signed, scale, x):
    qmin, qmax = grid_limits(bits, signed)
    x = np.sort(x)
    out = fake_quantize(torch.tensor(x), torch.tensor(math.log(scale), dtype=torch.float64), None, qmin, qmax)
    assert np.all(np.diff(out.numpy()) >= 0)


labels = st.sampled_from(
    [np.array([0, 1, 2]), np.array(["a", "b"]), np.array([-1.5, 2.5]), np.array([True, False])]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    classes=labels,
    seed=st.integers(0, 10),
    Estimator=st.sampled_from(ESTIMATORS),
)
def test_fuzzing_fit_and_predict_work_or_raise_clear_errors(n, d, dtype, classes, seed, Estimator):
    generator = np.random.RandomState(seed)
    X = (generator.normal(size=(n, d)) * 3).astype(dtype)
    y = classes[generator.randint(len(classes), size=n)]
    if Estimator is QuantizedMLPRegressor:
        y = generator.normal(size=n)
    estimator = Estimator(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, y)
    except (ValueError, TypeError) as exc:
        assert "Tensor" not in str(exc)
        return
    prediction = estimator.predict(X)
    assert len(prediction) == n
