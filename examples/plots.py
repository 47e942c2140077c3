"""See the model: the learned grid over the weights, and the training curves.

Trains a 2-bit MLP on standardized digits with early stopping and saves two
figures: the first layer's latent weights with the learned grid levels drawn
over them, and the loss and validation score per epoch.

Run: python examples/plots.py [--out-dir docs/images]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skqat import QuantizedMLPClassifier  # noqa: E402
from skqat.plot import TrainingCurveDisplay, WeightGridDisplay  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "docs" / "images"))
args = parser.parse_args()
out = Path(args.out_dir)
out.mkdir(parents=True, exist_ok=True)

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

grid = WeightGridDisplay.from_estimator(model, layer=0)
grid.figure_.set_size_inches(7, 3.5)
grid.figure_.tight_layout()
grid.figure_.savefig(out / "weight_grid.png", dpi=110)

curves = TrainingCurveDisplay.from_estimator(model)
curves.ax_.set_title("2-bit MLP on digits")
curves.figure_.set_size_inches(7, 3.5)
curves.figure_.tight_layout()
curves.figure_.savefig(out / "training_curve.png", dpi=110)
print(f"saved {out / 'weight_grid.png'} and {out / 'training_curve.png'}")
