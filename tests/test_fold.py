"""Folding a fitted Pipeline into the integer model (``skqat.export_integer``, ``IntegerPipeline``).

The contract: wherever ``pipeline.predict`` answers, the folded numpy model
gives the same labels and probabilities (regression values), on held-out
rows and fuzzed ones (``tests/_pipelines.py``: NaN in every column, None
and ``pd.NA``, unknown categories, extremes, code-boundary ties). Where it
raises a ``ValueError`` (NaN nothing imputes, infinity, an unknown category
under ``handle_unknown="error"``), the folded model raises one too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import _pipelines as P
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

import skqat
from skqat import IntegerPipeline, QuantizedMLPClassifier, QuantizedMLPRegressor

NUMERIC = make_column_selector(dtype_include="number")
CATEGORICAL = make_column_selector(dtype_exclude="number")


@pytest.fixture(scope="module")
def adult(shared_data):
    return P.adult_frames()


def fit(pipe, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipe.fit(X, y)


def agreement(pipe, model, X_train, X_test, seed=0, n_random=100):
    """Rows compared and disagreements over every fuzzed block ``pipeline.predict`` accepts.

    Blocks it refuses with a ValueError must be refused by the folded model too.
    Returns ``(rows, disagreements, refused_blocks)``.
    """
    rng = np.random.default_rng(seed)
    rows = bad = refused = 0
    for block in P.fuzz_rows(model, X_train, X_test, rng, n_random=n_random):
        try:
            expected = pipe.predict(block)
        except ValueError:
            refused += 1
            with pytest.raises(ValueError):
                model.predict(block)
            continue
        except TypeError:
            # scikit-learn's encoders raise TypeError on None mixed with strings where
            # nothing imputes them; the folded model reads them as missing (documented).
            refused += 1
            continue
        got = model.predict(block)
        rows += len(block)
        bad += int((np.asarray(expected) != np.asarray(got)).reshape(len(block), -1).any(axis=1).sum())
        if hasattr(pipe, "predict_proba") and not getattr(model.head, "kind", "") == "multilabel":
            np.testing.assert_array_equal(model.predict_proba(block), pipe.predict_proba(block))
    return rows, bad, refused


def assert_agrees(pipe, X_train, X_test, **kwargs):
    model = skqat.export_integer(pipe)
    rows, bad, _ = agreement(pipe, model, X_train, X_test, **kwargs)
    assert rows > len(X_test)
    assert bad == 0, f"{bad} of {rows} rows differ from pipeline.predict"
    return model


# ----------------------------------------------------------------------
# Real data
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "encoder",
    [
        OneHotEncoder(handle_unknown="ignore"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=5, drop="first"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=50, drop="if_binary", sparse_output=False
        ),
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
    ],
    ids=["onehot-ignore", "onehot-infrequent-first", "onehot-minfreq-ifbinary", "ordinal"],
)
def test_adult_pipeline_equals_predict(shared_data, encoder):
    pipe, X_train, X_test = P.adult_pipeline(encoder=encoder)
    model = assert_agrees(pipe, X_train, X_test)
    assert model.numeric_columns == [
        "age",
        "fnlwgt",
        "education-num",
        "capital-gain",
        "capital-loss",
        "hours-per-week",
    ]
    assert len(model.categorical_columns) == 8


def test_mushroom_pipeline_equals_predict(shared_data):
    pipe, X_train, X_test = P.mushroom_pipeline()
    model = assert_agrees(pipe, X_train, X_test)
    assert model.numeric_columns == [] and len(model.categorical_columns) == 22


@pytest.mark.parametrize(
    "scaler",
    [
        StandardScaler(),
        StandardScaler(with_mean=False),
        StandardScaler(with_std=False),
        MinMaxScaler(),
        MinMaxScaler(feature_range=(-2, 3), clip=True),
        MaxAbsScaler(),
        MaxAbsScaler(clip=True),
        RobustScaler(),
        RobustScaler(with_centering=False, quantile_range=(10, 90)),
    ],
    ids=repr,
)
def test_letter_scalers_equal_predict(shared_data, scaler):
    pipe, X_train, X_test = P.letter_pipeline(scaler=scaler)
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    assert model.categorical_columns == [] and len(model.numeric_columns) == 16


def test_mnist_pipeline_equals_predict(shared_data):
    pipe, X_train, X_test = P.mnist_pipeline()
    assert_agrees(pipe, X_train, X_test, n_random=20)


def test_ties_are_exercised(shared_data):
    """The fuzzed ties straddle code boundaries: both sides give different codes."""
    pipe, X_train, X_test = P.adult_pipeline()
    model = skqat.export_integer(pipe)
    ties = P.model_tie_values(model)
    assert set(ties) == set(model.folded.numeric_columns)
    column = model.folded.numeric_columns.index(0)
    values = np.array(ties[0])
    a, b = np.split(values, 3)[:2]
    probe = np.zeros((len(a), len(model.folded.numeric_columns)))
    probe[:, column] = a
    below = model._numeric_codes(probe.copy())[:, 0]
    probe[:, column] = b
    above = model._numeric_codes(probe)[:, 0]
    assert (above == below + 1).all()
    assert (np.nextafter(a, np.inf) == b).all()


# ----------------------------------------------------------------------
# Every foldable step and parameter
# ----------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_imputers(adult, strategy):
    X_train, X_test, y = adult
    numeric = SimpleImputer(strategy=strategy, fill_value=-7)
    categorical = SimpleImputer(
        strategy="most_frequent" if strategy in ("mean", "median") else strategy, fill_value="none"
    )
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(numeric, StandardScaler()), NUMERIC),
            ("cat", make_pipeline(categorical, OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
        ]
    )
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    assert_agrees(pipe, X_train, X_test, n_random=50)


def test_imputer_with_a_number_for_missing(adult):
    X_train, X_test, y = adult
    X_train = X_train.fillna({"age": -1})
    X_test = X_test.fillna({"age": -1})
    ct = ColumnTransformer(
        [
            ("age", SimpleImputer(missing_values=-1, strategy="median"), ["age"]),
            ("num", SimpleImputer(), ["hours-per-week", "capital-gain"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
        ]
    )
    X_train.loc[X_train.index[:50], "age"] = -1
    pipe = fit(make_pipeline(ct, StandardScaler(), P.model()), X_train, y)
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    assert ("fill", -1.0, float(pipe[0].named_transformers_["age"].statistics_[0])) in [
        op[:3] for op in model.folded.numeric[0].ops
    ]


@pytest.mark.parametrize("encode", ["ordinal", "onehot", "onehot-dense"])
@pytest.mark.parametrize("strategy", ["uniform", "quantile", "kmeans"])
def test_kbins(adult, encode, strategy):
    X_train, X_test, y = adult
    ct = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    KBinsDiscretizer(n_bins=6, encode=encode, strategy=strategy),
                ),
                NUMERIC,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="NA"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                CATEGORICAL,
            ),
        ]
    )
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    bins = [s for s in model.folded.sources if s.categories is None]
    assert len(bins) == 6 and model.folded.numeric == ()


def test_kbins_then_scaler_and_values_at_edges(adult):
    X_train, X_test, y = adult
    kbins = KBinsDiscretizer(
        n_bins=4, encode="ordinal", strategy="quantile", quantile_method="averaged_inverted_cdf"
    )
    ct = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(), StandardScaler(), kbins, MinMaxScaler()),
                ["age", "hours-per-week"],
            )
        ]
    )
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    model = skqat.export_integer(pipe)
    # Raw values whose scaled value sits on a bin edge, and their neighbours.
    edges = [pipe[0].named_transformers_["num"][2].bin_edges_[j][1:-1] for j in range(2)]
    scaler = pipe[0].named_transformers_["num"][1]
    rows = []
    for j, column in enumerate(["age", "hours-per-week"]):
        raw = edges[j] * scaler.scale_[j] + scaler.mean_[j]
        for value in np.concatenate([raw, np.nextafter(raw, np.inf), np.nextafter(raw, -np.inf)]):
            row = X_test.iloc[:1].copy()
            row[column] = value
            rows.append(row)
    block = pd.concat(rows)
    np.testing.assert_array_equal(model.predict(block), pipe.predict(block))
    np.testing.assert_array_equal(model.predict_proba(block), pipe.predict_proba(block))


def test_ordinal_encoder_missing_and_unknown_values(adult):
    X_train, X_test, y = adult
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-3, encoded_missing_value=-5)
    ct = ColumnTransformer(
        [("cat", encoder, CATEGORICAL), ("num", "passthrough", ["age", "hours-per-week"])],
    )
    pipe = fit(make_pipeline(ct, MinMaxScaler(), P.model()), X_train, y)
    assert_agrees(pipe, X_train, X_test, n_random=50)


def _selectors(kind: str, frame: pd.DataFrame):
    """("age", "fnlwgt") and ("sex", "race") of ``frame`` as names, positions, a mask or a selector."""
    names = list(frame.columns)
    if kind == "names":
        return ["age", "fnlwgt"], ["sex", "race"]
    if kind == "indices":
        return [names.index("age"), names.index("fnlwgt")], [names.index("sex"), names.index("race")]
    return np.array([c in ("age", "fnlwgt") for c in names]), make_column_selector(pattern="^(sex|race)$")


@pytest.mark.parametrize("kind", ["names", "indices", "mask-and-selector"])
@pytest.mark.parametrize("remainder", ["drop", "passthrough"])
def test_column_selection(adult, kind, remainder):
    X_train, X_test, y = adult
    if remainder == "passthrough":  # the remainder: numeric columns, through an imputer
        X_train = X_train[["age", "sex", "fnlwgt", "workclass", "race", "hours-per-week", "capital-loss"]]
        X_test = X_test[X_train.columns]
    numeric, categorical = _selectors(kind, X_train)
    ct = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="error"), categorical),
            ("gone", "drop", ["workclass"]),
        ],
        remainder="drop" if remainder == "drop" else SimpleImputer(),
    )
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    used = model.numeric_columns + model.categorical_columns
    assert "workclass" not in used
    assert ("hours-per-week" in used) == (remainder == "passthrough")


def test_unknown_category_under_handle_unknown_error_raises(adult):
    X_train, X_test, y = adult
    ct = ColumnTransformer([("cat", OneHotEncoder(), ["sex"]), ("num", StandardScaler(), ["age"])])
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    model = skqat.export_integer(pipe)
    row = X_test.iloc[:2].copy()
    row["sex"] = ["Female", "unseen"]
    with pytest.raises(ValueError):
        pipe.predict(row)
    with pytest.raises(ValueError, match="'sex'.*did not see"):
        model.predict(row)


def test_nested_pipelines_set_output_and_scaler_after_the_column_transformer(adult):
    X_train, X_test, y = adult
    inner = make_pipeline("passthrough", SimpleImputer(), make_pipeline(RobustScaler(), MaxAbsScaler()))
    ct = ColumnTransformer(
        [
            ("num", inner, NUMERIC),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
                ),
                CATEGORICAL,
            ),
        ]
    ).set_output(transform="pandas")
    pipe = fit(make_pipeline(ct, StandardScaler(), "passthrough", P.model()), X_train, y)
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    # The scaler after the encoder reached the one-hot columns' stored values.
    assert any(
        len(np.unique(f.values)) == 2 and not set(np.unique(f.values)) <= {0.0, 1.0}
        for f in model.folded.state_features
    )


def test_sparse_output_then_scaler(adult):
    """A sparse ColumnTransformer output reaches StandardScaler(with_mean=False): it multiplies by 1/scale."""
    X_train, X_test, y = adult
    ct = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder=SimpleImputer()
    )
    pipe = fit(make_pipeline(ct, StandardScaler(with_mean=False), P.model()), X_train, y)
    assert pipe[0].sparse_output_
    model = assert_agrees(pipe, X_train, X_test, n_random=50)
    assert all(kind == "mul" for f in model.folded.numeric for kind, *_ in f.ops if kind != "fill")


def test_regressor_and_bare_estimator(adult):
    X_train, X_test, _ = adult
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "fnlwgt", "capital-gain"]),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                CATEGORICAL,
            ),
        ]
    )
    regressor = QuantizedMLPRegressor(hidden_layer_sizes=(8,), weight_bits=4, max_iter=10, random_state=0)
    pipe = fit(make_pipeline(ct, regressor), X_train, X_train["hours-per-week"])
    assert_agrees(pipe, X_train, X_test, n_random=50)
    # A bare estimator folds with no preprocessing: its predict, from the same columns.
    X = X_train[["age", "hours-per-week"]].to_numpy(float)
    clf = fit(QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0), X, X[:, 0] > 40)
    model = skqat.export_integer(clf)
    np.testing.assert_array_equal(model.predict(X), clf.predict(X))
    assert model.folded.steps == ()


# ----------------------------------------------------------------------
# Refusals
# ----------------------------------------------------------------------
class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, float) * 2


@pytest.mark.parametrize(
    "step, name",
    [
        (FunctionTransformer(np.log1p), "FunctionTransformer"),
        (PolynomialFeatures(2), "PolynomialFeatures"),
        (Doubler(), "Doubler"),
        (SimpleImputer(add_indicator=True), "SimpleImputer"),
    ],
)
def test_unfoldable_steps_are_refused_by_name(adult, step, name):
    X_train, _, y = adult
    ct = ColumnTransformer([("num", make_pipeline(SimpleImputer(), step), ["age", "hours-per-week"])])
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    with pytest.raises(
        ValueError, match=rf"'columntransformer__num__.*' \({name}\) cannot be folded"
    ) as info:
        skqat.export_integer(pipe)
    message = str(info.value)
    for foldable in ("StandardScaler", "OneHotEncoder", "KBinsDiscretizer", "ColumnTransformer"):
        assert foldable in message


def test_not_a_skqat_pipeline_or_not_integer(adult):
    from sklearn.linear_model import LogisticRegression

    X_train, _, y = adult
    pipe = fit(make_pipeline(StandardScaler(), LogisticRegression()), X_train[["age"]], y)
    with pytest.raises(TypeError, match="last step is LogisticRegression"):
        skqat.export_integer(pipe)
    float_net = fit(make_pipeline(StandardScaler(), P.model(weight_bits=None)), X_train[["age"]], y)
    with pytest.raises(ValueError, match="integer-only"):
        skqat.export_integer(float_net)


def test_column_read_as_number_and_category_is_refused(adult):
    X_train, _, y = adult
    ct = ColumnTransformer(
        [("a", StandardScaler(), ["age"]), ("b", OneHotEncoder(handle_unknown="ignore"), ["age"])]
    )
    pipe = fit(make_pipeline(ct, P.model()), X_train, y)
    with pytest.raises(ValueError, match="'age' is read both as a number and as a category"):
        skqat.export_integer(pipe)


def test_bad_raw_input(adult):
    pipe, X_train, X_test = P.adult_pipeline()
    model = skqat.export_integer(pipe)
    with pytest.raises(ValueError, match="lacks the columns \\['age'\\]"):
        model.predict(X_test.drop(columns="age"))
    bad = X_test.iloc[:3].copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[bad.index[0], "age"] = "old"
    with pytest.raises(ValueError, match="'age' must hold numbers"):
        model.predict(bad)
    inf = X_test.iloc[:3].copy()
    inf["fnlwgt"] = np.inf
    with pytest.raises(ValueError, match="infinity in column 'fnlwgt'"):
        model.predict(inf)
    with pytest.raises(ValueError):
        pipe.predict(inf)
    before = X_test.copy()
    model.predict(X_test)
    pd.testing.assert_frame_equal(X_test, before)


# ----------------------------------------------------------------------
# The model's parts, file and size
# ----------------------------------------------------------------------
def test_quantize_input_and_integer_logits(shared_data):
    pipe, X_train, X_test = P.adult_pipeline()
    model = skqat.export_integer(pipe)
    codes, states = model.quantize_input(X_test)
    assert codes.shape == (len(X_test), 6) and codes.dtype.kind == "i"
    assert states.shape == (len(X_test), 8)
    logits = model.integer_logits(codes, states)
    assert logits.dtype == np.int32
    np.testing.assert_array_equal(model.head.labels(logits, logits=True), pipe.predict(X_test))
    # The same first-layer accumulators as the one-hot product on the estimator's codes.
    network = pipe[-1].export_integer()
    Xt = pipe[0].transform(X_test).toarray()
    np.testing.assert_array_equal(logits, network.integer_logits(network.quantize_input(Xt)))
    # Category indices: -2 for missing, -1 for unknown.
    row = X_test.iloc[:2].copy()
    row["workclass"] = [None, "never-seen"]
    _, states = model.quantize_input(row)
    column = model.categorical_columns.index("workclass")
    source = [s.column for s in model.folded.sources].index(model.columns.index("workclass"))
    assert column == source and states[:, source].tolist() == [-2, -1]
    assert model.categories("workclass")[:2] == ["Federal-gov", "Local-gov"]


def test_save_load_without_torch_or_scikit_learn(shared_data, tmp_path):
    pipe, X_train, X_test = P.adult_pipeline()
    model = skqat.export_integer(pipe)
    path = tmp_path / "adult.npz"
    model.save(path)
    rows = P.fuzz_rows(model, X_train, X_test, np.random.default_rng(1), n_random=30)
    accepted = pd.concat(rows[:4])  # held-out rows and NaN in the first columns: all imputed
    accepted.to_pickle(tmp_path / "rows.pkl")
    np.save(tmp_path / "expected.npy", pipe.predict_proba(accepted))
    script = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "sklearn", "scipy"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np, pandas as pd
        from skqat.export._integer_pipeline import IntegerPipeline
        model = IntegerPipeline.load({str(path)!r})
        rows = pd.read_pickle({str(tmp_path / "rows.pkl")!r})
        np.testing.assert_array_equal(model.predict_proba(rows), np.load({str(tmp_path / "expected.npy")!r}))
        assert not any(m.split(".")[0] in ("torch", "sklearn") for m in sys.modules)
        print("ok", len(rows))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
    loaded = IntegerPipeline.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test), pipe.predict(X_test))
    # A network file is not a pipeline file.
    network_path = tmp_path / "net.npz"
    pipe[-1].export_integer().save(network_path)
    with pytest.raises(ValueError, match="fold is missing.*not a folded pipeline"):
        IntegerPipeline.load(network_path)


def test_nbytes(shared_data):
    """Numeric features add their operations' float64 constants; categorical columns swap their one-hot
    weights and grids for the accumulator tables."""
    pipe, _, _ = P.letter_pipeline()
    model = skqat.export_integer(pipe)
    assert model.nbytes == pipe[-1].export_integer().nbytes + 8 * 2 * 16  # mean and scale per column
    pipe, _, _ = P.adult_pipeline()
    model = skqat.export_integer(pipe)
    tables = sum(t.size * np.min_scalar_type(-int(np.abs(t).max())).itemsize for t in model._tables)
    assert tables > 0
    n_state = len(model.folded.state_features)
    one_hot = 4 * 16 * n_state // 8 + 8 * n_state  # 4-bit weights of 16 units; a scale and zero point each
    numeric = 8 * 4 * 6  # per numeric column: fill (missing value, statistic), sub (mean), div (scale)
    assert model.nbytes == pipe[-1].export_integer().nbytes - one_hot + tables + numeric
