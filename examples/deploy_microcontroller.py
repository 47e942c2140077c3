"""Deploy to a microcontroller: fit, export one C header, compile it with gcc, run, compare
========================================================================================

Trains a 4-bit MLP on digits, writes ``digits_model.h`` with
``export_integer().to_c()`` (integer-only arithmetic, weights bit-packed in
``const`` tables, no heap, no libm), compiles a small program that includes
it with ``gcc -std=c99 -Wall -Wextra -Werror -pedantic``, feeds it the test
rows and compares its classes and int32 logits with ``predict`` and with the
numpy integer reference. Also prints the flash size (``size``) of the
compiled model.

Run it with::

    python examples/deploy_microcontroller.py

It needs ``gcc`` (and ``size``) on the ``PATH``; everything it writes goes
to a temporary folder.
"""

# %%
# Train and export
# ----------------
# A 4-bit MLP on a stratified 75/25 split of digits, and its integer-only
# model, :class:`~skqat.IntegerMLP`.

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skqat import QuantizedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
clf = QuantizedMLPClassifier(hidden_layer_sizes=(64,), weight_bits=4, max_iter=300, random_state=0)
clf.fit(X_train, y_train)
model = clf.export_integer()
print(model)

if shutil.which("gcc") is None:
    raise SystemExit("this example needs gcc on the PATH")

# %%
# The program
# -----------
# What a microcontroller would run: read float32 features, print the class
# index and the int32 logits of each row. The header's API is prefixed with
# the ``name`` given to ``to_c``: ``digits_logits``, ``digits_predict``,
# ``DIGITS_N_FEATURES``...

PROGRAM = r"""
#include <stdio.h>
#include "digits_model.h"

int main(void) {
    float x[DIGITS_N_FEATURES];
    int32_t logits[DIGITS_N_OUTPUTS];
    while (fread(x, sizeof(float), DIGITS_N_FEATURES, stdin) == DIGITS_N_FEATURES) {
        digits_logits(x, logits);
        printf("%d", digits_predict(x));
        for (unsigned k = 0; k < DIGITS_N_OUTPUTS; ++k) printf(" %ld", (long)logits[k]);
        printf("\n");
    }
    return 0;
}
"""

# %%
# Write, compile, run
# -------------------
# ``to_c`` writes the header; gcc compiles the program with every warning an
# error; the test rows go to its standard input as float32 bytes.

tmpdir = tempfile.TemporaryDirectory()
tmp = Path(tmpdir.name)
header = model.to_c(tmp / "digits_model.h", name="digits")
(tmp / "main.c").write_text(PROGRAM)
flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
subprocess.run(["gcc", *flags, "-o", str(tmp / "digits"), str(tmp / "main.c")], check=True)
run = subprocess.run(
    [str(tmp / "digits")], input=X_test.astype(np.float32).tobytes(), capture_output=True, check=True
)
lines = [list(map(int, line.split())) for line in run.stdout.decode().splitlines()]
c_classes = clf.classes_[np.array([line[0] for line in lines])]
c_logits = np.array([line[1:] for line in lines], dtype=np.int32)

# %%
# Flash footprint
# ---------------
# The header compiled for size (``gcc -Os``) into one object file with a
# single caller of ``digits_predict``; ``size`` reports its sections.

(tmp / "flash.c").write_text(
    '#include "digits_model.h"\nint f(const float *x) { return digits_predict(x); }\n'
)
subprocess.run(["gcc", "-std=c99", "-Os", "-c", "-o", str(tmp / "flash.o"), str(tmp / "flash.c")], check=True)
size = subprocess.run(["size", str(tmp / "flash.o")], capture_output=True, text=True, check=True).stdout
print(f"\nheader: {header.stat().st_size} bytes of C source; compiled (gcc -Os, size):\n{size}")
tmpdir.cleanup()

# %%
# Compare
# -------
# The header computes what the numpy reference, ``IntegerMLP.integer_logits``,
# computes from the same float32 rows, bit for bit; the C classes are also
# compared with the estimator's ``predict`` and the true labels.

reference_logits = model.integer_logits(model.quantize_input(X_test.astype(np.float32)))
print(f"C logits equal IntegerMLP.integer_logits on every row: {np.array_equal(c_logits, reference_logits)}")
print(f"C classes equal predict on {np.mean(c_classes == clf.predict(X_test)):.2%} of the test rows")
print(f"accuracy: predict {clf.score(X_test, y_test):.4f}, C {np.mean(c_classes == y_test):.4f}")
print(f"packed model: {model.nbytes} bytes (float32 weights and biases: {model.float32_nbytes} bytes)")

# sphinx_gallery_thumbnail_path = "thumbnails/deploy_microcontroller.png"
