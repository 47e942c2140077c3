"""Quickstart: learned quantization on the digits data set
=======================================================

Trains the same MLP (one hidden layer of 100 units) in float and with 8-,
4- and 2-bit weights (8-bit activations) on scikit-learn's digits, then
prints the test accuracy, packed model size and fit time of each, and the
per-tensor storage report of the 2-bit model.

Run it with::

    python examples/quickstart.py
"""

# %%
# Data
# ----
# The 8x8 digit images (64 features, 10 classes), split 75/25 with the
# classes stratified.

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skqat import QuantizedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

# %%
# Float and quantized models side by side
# ---------------------------------------
# ``weight_bits`` and ``activation_bits`` are the bit widths of the weights
# and of the hidden layer's output; ``None`` keeps them in float. The size is
# the sum of the ``bytes`` column of ``quantization_report()``: values packed
# at their bit width plus 4 bytes per scale (for a quantized model, the
# number ``export_integer().nbytes`` reports). ``vs float`` divides it by the
# float32 network's size. 200 epochs do not always converge; the warning is
# silenced.

settings = [("float32", None, None), ("8-bit", 8, 8), ("4-bit", 4, 8), ("2-bit", 2, 8)]
print(f"{'model':<8} {'accuracy':>8} {'size (bytes)':>13} {'vs float':>9} {'fit (s)':>8}")
float_bytes = None
for name, weight_bits, activation_bits in settings:
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(100,),
        weight_bits=weight_bits,
        activation_bits=activation_bits,
        max_iter=200,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    size = int(clf.quantization_report()["bytes"].sum())
    float_bytes = float_bytes or size
    print(
        f"{name:<8} {clf.score(X_test, y_test):>8.4f} {size:>13,d} {size / float_bytes:>9.3f} {seconds:>8.2f}"
    )

# %%
# Where the bytes go
# ------------------
# One row per tensor of the last model, the 2-bit one: the input's 8-bit
# grid (``input_bits="auto"``: one learned scale per feature, trained on, 4
# bytes each), the 2-bit weights (``levels_used`` of their 4 levels), the
# int32 biases (``bias_bits="auto"``) and the hidden activations' 8-bit grid,
# whose values are computed, not stored. ``compression`` is the float32 size
# over the packed size. The model's ``predict`` is the integer model these
# rows describe (``predict_arithmetic_ == "integer"``).

print()
print("Per-tensor view of the 2-bit model:")
print(clf.quantization_report()[["layer", "tensor", "bits", "scale", "levels_used", "bytes", "compression"]])

# sphinx_gallery_thumbnail_path = "thumbnails/quickstart.png"
