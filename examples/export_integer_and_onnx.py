"""Deploy a quantized model: a numpy-only integer model and ONNX
=============================================================

Trains a 4-bit MLP on digits, exports it with ``export_integer()`` (saved to
and reloaded from a versioned ``.npz``) and with ``to_onnx()`` (run by
onnxruntime), and checks both against the estimator; then times a one-row
prediction with each.

Run it with::

    python examples/export_integer_and_onnx.py

It needs the ``onnx`` extra: ``pip install -e ".[onnx]"``.
"""

# %%
# Train
# -----
# A 4-bit MLP with 8-bit activations on a stratified 75/25 split of digits.

import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skqat import IntegerMLP, QuantizedMLPClassifier, to_onnx

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
clf = QuantizedMLPClassifier(hidden_layer_sizes=(100,), weight_bits=4, activation_bits=8, random_state=0)
clf.fit(X_train, y_train)
print(f"estimator accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# 1. The integer model
# --------------------
# ``export_integer()`` returns an :class:`~skqat.IntegerMLP`: weight codes
# packed at 4 bits, int32 biases and integer requantization, with inference
# in numpy only. It is saved to a ``.npz`` file in a temporary folder and
# loaded back. Its labels come from integer logits; its probabilities are
# computed from those logits and differ slightly from the estimator's.

integer = clf.export_integer()
path = Path(tempfile.mkdtemp()) / "digits_4bit.npz"
integer.save(path)
loaded = IntegerMLP.load(path)
agree = np.mean(loaded.predict(X_test) == clf.predict(X_test))
print(f"\n{loaded}")
print(
    f"packed {loaded.nbytes:,} bytes = {loaded.nbytes / loaded.float32_nbytes:.3f} of float32; "
    f"file {path.stat().st_size:,} bytes"
)
print(
    f"integer predict agrees with the estimator on {agree:.2%} of rows, max |dp| "
    f"{np.abs(loaded.predict_proba(X_test) - clf.predict_proba(X_test)).max():.2e}"
)

# %%
# 2. ONNX
# -------
# :func:`~skqat.to_onnx` writes the float graph: the weight codes as int8
# initializers, dequantized in the graph, then the same operations as
# ``predict``. onnxruntime runs it; the graph's outputs are the labels and
# the probabilities.

model = to_onnx(clf, X_train)
session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
labels, proba = session.run(None, {"X": X_test})
agree_onnx = np.mean(labels == clf.predict(X_test))
print(
    f"\nONNX: {len(model.SerializeToString()):,} bytes, labels agree on {agree_onnx:.2%} of rows, "
    f"max |dp| {np.abs(proba - clf.predict_proba(X_test)).max():.2e}"
)

# %%
# One-row latency
# ---------------
# The mean time of 200 one-row predictions with each, on this machine (the
# numbers vary from run to run).

for name, predict in [
    ("onnxruntime", lambda x: session.run(None, {"X": x})),
    ("IntegerMLP", loaded.predict),
    ("estimator", clf.predict),
]:
    start = time.perf_counter()
    for _ in range(200):
        predict(X_test[:1])
    print(f"{name:>12}: {(time.perf_counter() - start) / 200 * 1e3:.3f} ms per one-row prediction")

# sphinx_gallery_thumbnail_path = "thumbnails/export_integer_and_onnx.png"
