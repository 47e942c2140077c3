"""Quickstart: learned quantization on the digits data set.

Trains the same MLP in float and with 8-, 4- and 2-bit weights (8-bit
activations), then prints test accuracy, packed model size and fit time.

Run: python examples/quickstart.py
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skqat import QuantizedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

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

print()
print("Per-tensor view of the 2-bit model:")
print(clf.quantization_report()[["layer", "tensor", "bits", "scale", "levels_used", "bytes", "compression"]])
