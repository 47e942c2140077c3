"""See the model: the learned grid over the weights, and the training curves
=========================================================================

Trains a 2-bit MLP on standardized digits with early stopping and draws two
figures: the first layer's latent weights with the learned grid levels drawn
over them (``skqat.plot.WeightGridDisplay``), and the loss and validation
score per epoch (``skqat.plot.TrainingCurveDisplay``).

Run it with::

    python examples/plots.py [--out-dir figures]

Without ``--out-dir`` nothing is written and the figures are shown; with it
they are saved there as ``weight_grid.png`` and ``training_curve.png``.
"""

# %%
# Options
# -------
# ``--out-dir DIR`` saves the figures as PNGs in ``DIR``. Without it, as in
# the documentation build, which runs the script with no options, nothing is
# written and the figures stay open.

import argparse
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skqat import QuantizedMLPClassifier
from skqat.plot import TrainingCurveDisplay, WeightGridDisplay

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out-dir", help="save the figures as PNG files in this folder (default: save nothing)")
args = parser.parse_args()
if args.out_dir:
    matplotlib.use("Agg")  # only saved: no window needed

# %%
# A 2-bit model
# -------------
# Two-bit weights (four levels per layer) and 8-bit activations. Early
# stopping holds out 10% of the rows and records the validation score of
# every epoch.

X, y = load_digits(return_X_y=True)
model = make_pipeline(
    StandardScaler(),
    QuantizedMLPClassifier(
        hidden_layer_sizes=(100,),
        weight_bits=2,
        activation_bits=8,
        early_stopping=True,
        n_iter_no_change=20,
        max_iter=200,
        random_state=0,
    ),
).fit(X, y)

# %%
# The weights and their grid
# --------------------------
# A histogram of the first layer's latent float weights, with the four
# levels they are rounded to drawn over it. The displays accept the
# pipeline and read its last step.

grid = WeightGridDisplay.from_estimator(model, layer=0)
grid.figure_.set_size_inches(7, 3.5)
grid.figure_.tight_layout()

# %%
# Training curves
# ---------------
# ``loss_curve_`` per epoch and, on a second axis, ``validation_scores_``.

curves = TrainingCurveDisplay.from_estimator(model)
curves.ax_.set_title("2-bit MLP on digits")
curves.figure_.set_size_inches(7, 3.5)
curves.figure_.tight_layout()

# %%
# Save or show
# ------------
# With ``--out-dir`` both figures are written as PNGs; otherwise they are
# shown.

if args.out_dir:
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grid.figure_.savefig(out / "weight_grid.png", dpi=110)
    curves.figure_.savefig(out / "training_curve.png", dpi=110)
    print(f"saved {out / 'weight_grid.png'} and {out / 'training_curve.png'}")
else:
    plt.show()
