"""Shared fixtures: small real data sets."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

#: Real data sets kept beside the project (absent outside the project's machines).
DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def wine_frame():
    data = load_wine(as_frame=True)
    X = data.frame.drop(columns="target")
    names = np.array(["barolo", "grignolino", "barbera"])
    return X, names[data.target.to_numpy()]


@pytest.fixture(scope="session")
def shared_data():
    if not DATA_DIR.is_dir():
        pytest.skip(f"the shared data sets are not at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def counts():
    """Poisson counts whose log mean is linear in 6 standard-normal features (``loss="poisson"``)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 6))
    y = rng.poisson(np.exp(0.5 + X @ rng.uniform(-0.5, 0.5, 6)))
    return X, y.astype(np.float64)
