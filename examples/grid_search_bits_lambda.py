"""Grid search over bit width and the grid penalty, and the accuracy/size Pareto front.

GridSearchCV (n_jobs=2) over weight_bits x quant_lambda for a quantized MLP on
digits; prints cv_results_ as a DataFrame and saves the Pareto plot of score
against model size.

Run: python examples/grid_search_bits_lambda.py [--out docs/images/pareto.png]
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skqat import QuantizedMLPClassifier  # noqa: E402
from skqat.plot import QuantizationParetoDisplay  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument(
    "--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "images" / "pareto.png")
)
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "clf",
            QuantizedMLPClassifier(
                hidden_layer_sizes=(64,), max_iter=60, learning_rate_init=0.005, random_state=0
            ),
        ),
    ]
)
grid = {"clf__weight_bits": [1, 2, 3, 4, 8, None], "clf__quant_lambda": [0.0, 1e-3, 1e-1]}
search = GridSearchCV(pipe, grid, cv=3, n_jobs=2)
start = time.perf_counter()
search.fit(X, y)
print(f"{len(search.cv_results_['params'])} candidates x 3 folds in {time.perf_counter() - start:.1f} s\n")

results = pd.DataFrame(search.cv_results_)
columns = [
    "param_clf__weight_bits",
    "param_clf__quant_lambda",
    "mean_test_score",
    "std_test_score",
    "mean_fit_time",
    "rank_test_score",
]
print(results[columns].sort_values("rank_test_score").to_string(index=False))

display = QuantizationParetoDisplay.from_cv_results(search)
display.ax_.set_title("digits: 3-fold accuracy against packed model size")
display.figure_.set_size_inches(7, 4.5)
display.figure_.tight_layout()
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
display.figure_.savefig(args.out, dpi=110)
print(f"\nPareto-optimal: {[display.labels[i] for i in display.pareto_]}")
print(f"saved {args.out}")
