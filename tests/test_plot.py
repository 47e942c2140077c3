"""Displays in skqat.plot: the Display API, the Pareto front, the grid over the weights, bits per feature."""

import subprocess
import sys

import numpy as np
import pytest
from _grids import grid_coefs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra is not installed")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skqat.plot import (  # noqa: E402
    InputBitsDisplay,
    QuantizationParetoDisplay,
    TrainingCurveDisplay,
    WeightGridDisplay,
    model_bytes,
)


def test_pareto_front_keeps_candidates_no_other_beats_on_both_axes():
    sizes = [100, 200, 150, 400, 50, 300]
    scores = [0.80, 0.90, 0.70, 0.95, 0.60, 0.85]
    display = QuantizationParetoDisplay(sizes, scores, [str(i) for i in range(6)])
    assert list(display.pareto_) == [4, 0, 1, 3]
    for i in range(6):
        dominated = any(s <= sizes[i] and c > scores[i] for s, c in zip(sizes, scores))
        assert (i in display.pareto_) == (not dominated)


def test_pareto_display_from_a_search_over_a_pipeline(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(),
        QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=40, learning_rate_init=0.02, random_state=0),
    )
    search = GridSearchCV(pipe, {"quantizedmlpclassifier__weight_bits": [2, 8, None]}, cv=2).fit(X, y)
    display = QuantizationParetoDisplay.from_cv_results(search)
    assert display.sizes[0] < display.sizes[1] < display.sizes[2]  # 2 bits < 8 bits < float
    assert isinstance(display.figure_, plt.Figure) and display.ax_.get_xscale() == "log"
    fig, ax = plt.subplots()
    assert display.plot(ax=ax).ax_ is ax
    plt.close("all")


@pytest.mark.parametrize(
    "params",
    [
        {"weight_bits": 4, "activation_bits": None},
        {"weight_bits": 3, "granularity": "per_channel", "symmetric": False},
        {"weight_bits": (8, 2), "input_bits": 6, "bias_bits": 16},
        {"weight_bits": (None, 4), "activation_bits": 5},
        {"weight_bits": 1, "hidden_layer_sizes": (5, 7)},
    ],
    ids=str,
)
def test_model_bytes_matches_the_report(iris, params):
    # A candidate's size before fitting is the fitted model's report, in every
    # storage the report distinguishes (grids, zero points, biases, float layers).
    X, y = iris
    reference = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=2).fit(X, y)
    clf = QuantizedMLPClassifier(**{"hidden_layer_sizes": (16,), "max_iter": 5, **params}).fit(X, y)
    assert model_bytes(params, reference) == clf.quantization_report()["bytes"].sum()


def test_model_bytes_of_a_byte_budget_is_at_most_the_budget(iris):
    X, y = iris
    reference = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=2).fit(X, y)
    params = {"weight_bits": "learned", "target_bytes": 150}
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=8, **params).fit(X, y)
    fitted = clf.quantization_report()["bytes"].sum()
    # Before the fix the candidate counted at bit_bounds[1] = 8 bits: 208 bytes.
    assert fitted <= model_bytes(params, reference) == 150
    assert model_bytes({"weight_bits": "learned", "target_bytes": 10_000}, reference) == model_bytes(
        {"weight_bits": 8}, reference
    )


@pytest.mark.parametrize(
    "params", [{"weight_bits": 3}, {"weight_bits": 3, "granularity": "per_channel", "symmetric": False}]
)
def test_weight_grid_display_draws_the_grid_levels(iris, params):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0, **params).fit(X, y)
    display = WeightGridDisplay.from_estimator(clf, layer=0)
    assert len(display.levels) == 8
    # Every weight the model uses is one of the drawn levels.
    used = grid_coefs(clf, 0)[:, 0]
    assert np.all(np.isclose(used[:, None], display.levels[None, :], atol=1e-9).any(axis=1))
    latent = clf._module.layers[0].grid_input().detach().numpy()
    assert latent.min() < display.levels[1] and latent.max() > display.levels[-2]
    assert len(display.ax_.lines) == 8
    plt.close("all")


def test_weight_grid_display_refuses_a_float_layer(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=(None, 4), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="float weights"):
        WeightGridDisplay.from_estimator(clf, layer=0)


def test_training_curve_display(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=20).fit(X, y)
    display = TrainingCurveDisplay.from_estimator(clf)
    assert len(display.ax_.lines[0].get_xdata()) == clf.n_iter_
    assert display.ax_score_ is not None
    plt.close("all")


def test_missing_matplotlib_gives_an_install_hint():
    script = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
        "from skqat.plot import TrainingCurveDisplay\n"
        "try:\n    TrainingCurveDisplay([1.0, 0.5]).plot()\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout
    assert "pip install 'skqat[plot]'" in out


def test_input_bits_display_bars_image_and_pipeline_names(digits_split):
    import pandas as pd

    X_train, _, y_train, _ = digits_split
    frame = pd.DataFrame(X_train[:, :12], columns=[f"p{i}" for i in range(12)])
    params = dict(
        hidden_layer_sizes=(8,), max_iter=4, random_state=0, input_bits="learned", input_target_bits=2
    )
    pipe = make_pipeline(StandardScaler(), QuantizedMLPClassifier(**params)).fit(frame, y_train)
    bars = InputBitsDisplay.from_estimator(pipe)
    heights = [patch.get_height() for patch in bars.ax_.patches]
    np.testing.assert_array_equal(heights, pipe[-1].input_bits_)
    assert [t.get_text() for t in bars.ax_.get_xticklabels()] == list(frame.columns)
    image = InputBitsDisplay.from_estimator(
        QuantizedMLPClassifier(**params).fit(X_train, y_train), image_shape=(8, 8)
    )
    np.testing.assert_array_equal(image.ax_.images[0].get_array(), image.bits.reshape(8, 8))
    with pytest.raises(ValueError, match="float inputs"):
        InputBitsDisplay.from_estimator(
            QuantizedMLPClassifier(max_iter=2, weight_bits=None).fit(X_train, y_train)
        )
