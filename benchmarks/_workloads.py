"""Benchmark workloads: data and the training settings every system uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


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


def digits(quick: bool = False) -> Workload:
    """W1: digits, 75/25 stratified split, hidden (100,), 200 epochs, batch 200, Adam 1e-3."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return Workload(
        "W1 digits", X_train, X_test, y_train, y_test, (100,), epochs=20 if quick else 200, batch_size=200
    )


WORKLOADS = {"W1": digits}
