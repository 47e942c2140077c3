"""Grid search over bit width and the grid penalty, and the accuracy/size Pareto front
===================================================================================

``GridSearchCV(n_jobs=2)`` over ``weight_bits`` x ``quant_lambda`` for a
quantized MLP on standardized digits; prints ``cv_results_`` as a DataFrame
and draws the cross-validated score against the packed model size, with the
Pareto front (``skqat.plot.QuantizationParetoDisplay``).

Run it with::

    python examples/grid_search_bits_lambda.py [--out pareto.png]

Without ``--out`` nothing is written and the figure is shown; with it the
figure is saved to that PNG.
"""

# %%
# Options
# -------
# ``--out PATH`` saves the figure as a PNG. Without it, as in the
# documentation build, which runs the script with no options, nothing is
# written and the figure stays open.

import argparse
import time
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier
from skqat.plot import QuantizationParetoDisplay

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", help="save the Pareto plot to this PNG file (default: save nothing, show it)")
args = parser.parse_args()
if args.out:
    matplotlib.use("Agg")  # only saved: no window needed

# %%
# The search
# ----------
# A scaler and a one-hidden-layer MLP in a pipeline; the grid crosses six bit
# widths (``None``: float weights) with three strengths of the grid penalty
# ``quant_lambda``, which pulls the latent weights toward their grid. 18
# candidates, 3 folds each, two at a time. 60 epochs are short on purpose;
# the convergence warnings are silenced.

warnings.simplefilter("ignore", ConvergenceWarning)
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

# %%
# ``cv_results_`` as a DataFrame
# ------------------------------
# The usual scikit-learn search results, best candidates first.

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

# %%
# Score against size
# ------------------
# ``QuantizationParetoDisplay.from_cv_results`` computes each candidate's
# packed size from its parameters (the count ``quantization_report()`` makes)
# and marks the Pareto front: the candidates for which no other candidate is
# both smaller and better.

display = QuantizationParetoDisplay.from_cv_results(search)
display.ax_.set_title("digits: 3-fold accuracy against packed model size")
display.figure_.set_size_inches(7, 4.5)
display.figure_.tight_layout()
print(f"\nPareto-optimal: {[display.labels[i] for i in display.pareto_]}")

# %%
# Save or show
# ------------
# With ``--out`` the figure is written as a PNG; otherwise it is shown.

if args.out:
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    display.figure_.savefig(args.out, dpi=110)
    print(f"saved {args.out}")
else:
    plt.show()
