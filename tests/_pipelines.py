"""Fitted pipelines on real data and fuzzed raw rows, shared by the folded-pipeline tests.

Each builder returns ``(pipeline, X_train, X_test)`` with raw DataFrames.
:func:`fuzz_rows` appends to held-out rows the hard cases: NaN in every
column, unknown categories, numbers far outside the training range, and
values tied at every input code boundary (found by bisection on the
pipeline's own preprocessing).
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

ADULT_COLUMNS = (
    "age workclass fnlwgt education education-num marital-status occupation relationship race sex "
    "capital-gain capital-loss hours-per-week native-country income"
).split()


def adult_frames(n_train=4000, n_test=3000):
    """Adult's train and test files as raw DataFrames ("?" read as NaN), the first rows of each."""
    options = {"header": None, "names": ADULT_COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(DATA_DIR / "adult" / "adult.data", nrows=n_train, **options)
    test = pd.read_csv(DATA_DIR / "adult" / "adult.test", skiprows=1, nrows=n_test, **options)
    y = train.pop("income")
    test.pop("income")
    return train, test, y


def model(seed=0, **params):
    defaults = dict(hidden_layer_sizes=(16,), weight_bits=4, max_iter=15, random_state=seed)
    return QuantizedMLPClassifier(**{**defaults, **params})


def adult_pipeline(seed=0, encoder=None, **params):
    """Numeric columns imputed and standardized, categorical imputed and one-hot encoded."""
    train, test, y = adult_frames()
    encoder = encoder or OneHotEncoder(handle_unknown="ignore")
    ct = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="most_frequent"), encoder),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(ct, model(seed, **params)).fit(train, y)
    return pipe, train, test


def mushroom_pipeline(seed=0):
    """Mushroom's 22 letter-coded columns, one-hot encoded with infrequent categories and drop="if_binary"."""
    frame = pd.read_csv(DATA_DIR / "mushroom" / "agaricus-lepiota.data", header=None, na_values="?")
    frame.columns = [f"c{i}" for i in range(frame.shape[1])]
    y = frame.pop("c0")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    train, test = frame.iloc[order[:3000]], frame.iloc[order[3000:6000]]
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20, drop="if_binary")
    pipe = make_pipeline(
        make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"), encoder),
        model(seed, hidden_layer_sizes=(8,)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(train, y.iloc[order[:3000]])
    return pipe, train, test


def letter_pipeline(seed=0, scaler=None):
    """UCI Letter's 16 integer columns through a scaler (a numeric-only pipeline, fitted on an array)."""
    frame = pd.read_csv(DATA_DIR / "letter" / "letter-recognition.data", header=None)
    X = frame.iloc[:, 1:].to_numpy(float)
    y = frame.iloc[:, 0].to_numpy()
    pipe = make_pipeline(scaler or StandardScaler(), model(seed, hidden_layer_sizes=(32,), max_iter=10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X[:6000], y[:6000])
    return pipe, X[:6000], X[6000:9000]


def mnist_pipeline(seed=0):
    """MNIST test images (raw 0..255 pixels) through a MinMaxScaler."""
    folder = DATA_DIR / "mnist_t10k"
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(float)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    pipe = make_pipeline(MinMaxScaler(), model(seed, hidden_layer_sizes=(32,), max_iter=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X[:4000], y[:4000])
    return pipe, X[:4000], X[4000:6000]


# ----------------------------------------------------------------------
# Fuzzed rows
# ----------------------------------------------------------------------
def _as_frame(X, like):
    return X if isinstance(like, pd.DataFrame) else X.to_numpy(dtype=float)


def fuzz_rows(model, X_train, X_test, rng, n_random=200, max_columns=24):
    """Held-out rows plus hard cases, as blocks (DataFrames or arrays, as the pipeline was fitted).

    A block holds rows alike: ``pipeline.predict`` accepts all of them or
    raises on all (NaN in a column nothing imputes, say).

    Parameters
    ----------
    model : IntegerPipeline
        Says which raw columns are numeric and categorical, and where the
        numeric codes step (its ``tie_values``).
    """
    frame = X_test if isinstance(X_test, pd.DataFrame) else pd.DataFrame(X_test)
    train = X_train if isinstance(X_train, pd.DataFrame) else pd.DataFrame(X_train)
    rows = [frame]
    numeric = [frame.columns[c] for c in model.folded.numeric_columns]
    categorical = [frame.columns[c] for c in model.folded.categorical_columns]
    # Wide data (MNIST): the per-column blocks for an evenly spread subset of columns.
    every = [c for c in frame.columns]
    if len(every) > max_columns:
        keep = {every[i] for i in np.linspace(0, len(every) - 1, max_columns).astype(int)}
    else:
        keep = set(every)
    base = frame.sample(n_random, replace=True, random_state=int(rng.integers(1 << 31))).reset_index(
        drop=True
    )
    base = base.astype({c: object for c in categorical})
    # NaN in every column, one column at a time and all at once.
    for column in [c for c in frame.columns if c in keep]:
        block = base.iloc[:10].copy()
        block[column] = np.nan
        rows.append(block)
    rows.append(base.iloc[:5].map(lambda v: np.nan) if hasattr(base, "map") else base.iloc[:5] * np.nan)
    # None and pd.NA in categorical columns; unknown categories.
    for column in [c for c in categorical if c in keep]:
        block = base.iloc[:6].copy()
        block[column] = [None, pd.NA, "never-seen", "", "zz", np.nan]
        rows.append(block)
    # Far outside the training range, and random values in and around it.
    for column in [c for c in numeric if c in keep]:
        low, high = float(train[column].min()), float(train[column].max())
        span = max(high - low, 1.0)
        block = base.iloc[:12].copy().astype({column: float})
        block[column] = [
            low - 1e3 * span,
            high + 1e3 * span,
            -1e30,
            1e30,
            -3e38,
            3e38,
            low,
            high,
            -0.0,
            0.0,
            5e-324,
            -5e-324,
        ]
        rows.append(block)
        block = base.copy().astype({column: float})
        block[column] = rng.uniform(low - 0.5 * span, high + 0.5 * span, len(block))
        rows.append(block)
    # Ties: the raw values at which a numeric feature's code steps (both sides of each).
    for column_index, values in model_tie_values(model).items():
        column = frame.columns[column_index]
        block = pd.concat([base.iloc[:1]] * len(values), ignore_index=True).astype({column: float})
        block[column] = values
        rows.append(block)
    return [_as_frame(block.astype({c: float for c in numeric}), X_test) for block in rows]


def model_tie_values(model, per_feature=40, max_features=24) -> dict:
    """Raw values at numeric features' code boundaries and their neighbours, by raw column.

    The first float64 value at which a code steps is found by bisection on
    the model's own numeric path; the tests check ``pipeline.predict`` on
    both sides of it. Up to ``per_feature`` boundaries for each of up to
    ``max_features`` features.
    """
    out: dict = {}
    folded = model.folded
    features = list(folded.numeric)
    if len(features) > max_features:
        features = [features[i] for i in np.linspace(0, len(features) - 1, max_features).astype(int)]
    for feature in features:
        column = folded.numeric_columns.index(feature.column)
        position = folded.numeric.index(feature)

        def codes(x, column=column, position=position):
            probe = np.zeros((len(x), len(folded.numeric_columns)))
            probe[:, column] = x
            return model._numeric_codes(probe)[:, position].astype(np.int64)

        c_lo, c_hi = codes(np.array([-1e12, 1e12]))
        targets = np.unique(np.linspace(c_lo + 1, c_hi, min(per_feature, max(c_hi - c_lo, 0))).astype(int))
        if not len(targets):  # a dropped feature (learned input widths): its code never steps
            continue
        a = np.full(len(targets), -1e12)  # code(a) < target <= code(b)
        b = np.full(len(targets), 1e12)
        for _ in range(2100):
            mid = a + (b - a) / 2
            done = (mid == a) | (mid == b)
            if done.all():
                break
            up = codes(mid) >= targets
            b = np.where(~done & up, mid, b)
            a = np.where(~done & ~up, mid, a)
        out.setdefault(feature.column, []).extend(np.concatenate([a, b, np.nextafter(b, np.inf)]).tolist())
    return out


__all__ = [
    "DATA_DIR",
    "Pipeline",
    "ColumnTransformer",
    "KBinsDiscretizer",
    "OrdinalEncoder",
    "RobustScaler",
    "QuantizedMLPRegressor",
    "adult_frames",
    "adult_pipeline",
    "fuzz_rows",
    "letter_pipeline",
    "mnist_pipeline",
    "model",
    "model_tie_values",
    "mushroom_pipeline",
]
