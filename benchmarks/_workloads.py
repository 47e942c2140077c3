"""Benchmark workloads: data and the training settings every system uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from _datasets import DATASETS
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@dataclass
class Workload:
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    hidden_layer_sizes: tuple
    epochs: int
    batch_size: int
    learning_rate: float = 1e-3


def digits(quick: bool = False, rows=None) -> Workload:
    """W1: digits, 75/25 stratified split, hidden (100,), 200 epochs, batch 200, Adam 1e-3."""
    return Workload("W1 digits", *DATASETS["digits"](), (100,), epochs=20 if quick else 200, batch_size=200)


def w2_data(n_samples: int):
    """The W2 problem: ``make_classification`` with 100 features, 10 classes, standardized, float32."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=100,
        n_informative=40,
        n_redundant=20,
        n_classes=10,
        class_sep=1.5,
        random_state=0,
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


def synthetic(quick: bool = False, rows=None) -> Workload:
    """W2: the synthetic problem, 75/25 split; hidden (256, 128), 10 epochs, batch 256.

    ``rows`` sets the total number of rows (default 100,000).
    """
    X, y = w2_data(rows or (10_000 if quick else 100_000))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    return Workload(
        "W2 synthetic",
        X_train,
        X_test,
        y_train,
        y_test,
        (256, 128),
        epochs=2 if quick else 10,
        batch_size=256,
    )


def mnist(quick: bool = False, rows=None) -> Workload:
    """W3: the MNIST test set (shared data), hidden (256,), 20 epochs, batch 200."""
    return Workload("W3 mnist", *DATASETS["mnist"](), (256,), epochs=2 if quick else 20, batch_size=200)


def letter(quick: bool = False, rows=None) -> Workload:
    """W4: Letter (shared data), standardized, hidden (100,), 30 epochs, batch 200."""
    return Workload("W4 letter", *DATASETS["letter"](), (100,), epochs=2 if quick else 30, batch_size=200)


WORKLOADS = {"W1": digits, "W2": synthetic, "W3": mnist, "W4": letter}
