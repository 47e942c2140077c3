"""MLflow's scikit-learn flavour saves and loads skqat models (MLflow 3 serializes with skops)."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skqat

mlflow_sklearn = pytest.importorskip("mlflow.sklearn", reason="mlflow is not installed (skqat[mlflow])")
import mlflow.pyfunc  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


@pytest.fixture(scope="module")
def pipeline(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = make_pipeline(
        StandardScaler(),
        skqat.QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=30, random_state=0),
    ).fit(X, names)
    return model, X


def test_save_and_load_with_the_trusted_types(pipeline, tmp_path):
    model, X = pipeline
    path = tmp_path / "model"
    mlflow_sklearn.save_model(model, path, skops_trusted_types=skqat.SKOPS_TRUSTED_TYPES)
    assert (path / "model.skops").is_file()
    loaded = mlflow_sklearn.load_model(str(path))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    pyfunc = mlflow.pyfunc.load_model(str(path))
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(X)), model.predict(X))
    # The model's inferred requirements name skqat, so a served model installs it.
    assert any(line.startswith("skqat") for line in (path / "requirements.txt").read_text().splitlines())


def test_without_the_trusted_types_mlflow_refuses(pipeline, tmp_path):
    """What the README's and the deployment guide's note is for: MLflow's default refuses skqat's classes."""
    model, _ = pipeline
    with pytest.raises(MlflowException, match="untrusted types.*skqat"):
        mlflow_sklearn.save_model(model, tmp_path / "model")
