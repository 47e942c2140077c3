"""Real data sets for the benchmarks and experiments, as numeric train/test splits.

The UCI and MNIST files live in ``../shared/data`` (see its README); digits
ships with scikit-learn. Every loader returns ``(X_train, X_test, y_train,
y_test)`` with features ready for an MLP (standardized, one-hot encoded).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, make_classification, make_multilabel_classification
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


def _split(X, y, *, stratify=True):
    """The 75/25 split every set here uses (stratified on the labels unless told not to)."""
    return train_test_split(X, y, test_size=0.25, stratify=y if stratify else None, random_state=0)


def _standardized(X_train, X_test, y_train, y_test):
    """A split with its features standardized on the training rows."""
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def digits(data_dir=None):
    """scikit-learn's digits, 75/25 stratified split, raw pixel values 0..16."""
    return _split(*load_digits(return_X_y=True))


def digits_scaled(data_dir=None):
    """digits with the same split, standardized (the preprocessing most pipelines apply)."""
    return _standardized(*digits())


def letter(data_dir=None):
    """UCI Letter: 20,000 x 16 integer features, 26 classes; 75/25 stratified split, standardized."""
    frame = pd.read_csv(
        Path(data_dir or DEFAULT_DATA_DIR) / "letter" / "letter-recognition.data", header=None
    )
    return _standardized(*_split(frame.iloc[:, 1:].to_numpy(float), frame.iloc[:, 0].to_numpy()))


def adult_frames(data_dir=None, *, missing_as_category=False):
    """UCI Adult as DataFrames: the official train and test files, labels as strings.

    Missing values (written "?") become NaN, or stay the category "?" with
    ``missing_as_category=True`` (no imputer needed, as ONNX pipelines prefer).
    """
    folder = Path(data_dir or DEFAULT_DATA_DIR) / "adult"
    options = {
        "header": None,
        "names": ADULT_COLUMNS,
        "skipinitialspace": True,
        "na_values": None if missing_as_category else "?",
    }
    train = pd.read_csv(folder / "adult.data", **options)
    test = pd.read_csv(folder / "adult.test", skiprows=1, **options)
    test["income"] = test["income"].str.rstrip(".")
    return train.drop(columns="income"), test.drop(columns="income"), train["income"], test["income"]


def adult_preprocessor(frame: pd.DataFrame) -> ColumnTransformer:
    """Impute and one-hot encode the categorical columns, standardize the numeric ones."""
    categorical = list(frame.select_dtypes(include="object").columns)
    numeric = [c for c in frame.columns if c not in categorical]
    return ColumnTransformer(
        [
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
            ("num", StandardScaler(), numeric),
        ]
    )


def adult(data_dir=None):
    """UCI Adult, one-hot encoded and standardized: 32,561 train and 16,281 test rows."""
    X_train, X_test, y_train, y_test = adult_frames(data_dir)
    prep = adult_preprocessor(X_train).fit(X_train)
    return prep.transform(X_train), prep.transform(X_test), y_train.to_numpy(), y_test.to_numpy()


def mnist(data_dir=None):
    """The MNIST test set (10,000 images, 784 pixels scaled to [0, 1]); 75/25 stratified split."""
    folder = Path(data_dir or DEFAULT_DATA_DIR) / "mnist_t10k"
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return _split(images / 255.0, labels)


def letter_raw(data_dir=None):
    """UCI Letter as stored: integer features 0..15, the same split, not standardized."""
    frame = pd.read_csv(
        Path(data_dir or DEFAULT_DATA_DIR) / "letter" / "letter-recognition.data", header=None
    )
    return _split(frame.iloc[:, 1:].to_numpy(float), frame.iloc[:, 0].to_numpy())


def mnist_raw(data_dir=None):
    """The MNIST test set with raw pixel values 0..255, the same split as :func:`mnist`."""
    X_train, X_test, y_train, y_test = mnist(data_dir)
    return np.rint(X_train * 255.0), np.rint(X_test * 255.0), y_train, y_test


#: Adult's numeric columns: age ~20-90, fnlwgt ~1e4-1.5e6, capital-gain 0-99,999, ...
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def adult_numeric_raw(data_dir=None):
    """UCI Adult's six numeric columns as stored, the official train and test files."""
    X_train, X_test, y_train, y_test = adult_frames(data_dir)
    return (
        X_train[ADULT_NUMERIC].to_numpy(float),
        X_test[ADULT_NUMERIC].to_numpy(float),
        y_train.to_numpy(),
        y_test.to_numpy(),
    )


def standardized(loader):
    """``loader``'s split with its features standardized on the training rows."""
    return lambda data_dir=None: _standardized(*loader(data_dir))


def synthetic(data_dir=None):
    """A 6-class problem no one tuned for: 6,000 x 30 standardized features, 75/25 stratified split."""
    X, y = make_classification(
        n_samples=6000,
        n_features=30,
        n_informative=12,
        n_redundant=6,
        n_classes=6,
        n_clusters_per_class=2,
        class_sep=1.0,
        random_state=0,
    )
    return _standardized(*_split(X, y))


def multilabel(data_dir=None):
    """5 labels per row, 2,000 x 20 count features, 75/25 split, standardized."""
    X, Y = make_multilabel_classification(
        n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=0, return_indicator=True
    )
    return _standardized(*_split(X, Y, stratify=False))


DATASETS = {
    "digits": digits,
    "letter": letter,
    "adult": adult,
    "mnist": mnist,
    "digits_scaled": digits_scaled,
    "synthetic": synthetic,
    "multilabel": multilabel,
}
