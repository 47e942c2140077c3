"""Out-of-core training: read a CSV in chunks with pandas and train with partial_fit
=================================================================================

The Letter data set (20,000 rows) is streamed from disk 2,000 rows at a
time; each chunk is standardized with statistics from the first chunk and
fed to ``partial_fit``. Three passes over the file (by default), each
followed by the held-out accuracy, then the integer model.

Run it with::

    python examples/streaming_partial_fit.py [--data-dir ../shared/data] [--passes 3]

``--data-dir`` is the folder holding ``letter/letter-recognition.data``
(default: ``../shared/data`` from the repository root).
"""

# %%
# Options
# -------
# Where the data are, and how many passes to make over the file.

import argparse
import string
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skqat import QuantizedMLPClassifier

# sys.argv[0] is this file, under python and under sphinx-gallery (which defines no __file__).
ROOT = Path(sys.argv[0]).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--data-dir", default=str(ROOT / ".." / "shared" / "data"))
parser.add_argument("--passes", type=int, default=3)
args = parser.parse_args()
path = Path(args.data_dir) / "letter" / "letter-recognition.data"

# %%
# Held-out rows and classes
# -------------------------
# The last 4,000 rows are held out; everything before streams in chunks.
# The first column is the letter. ``partial_fit`` needs every class on its
# first call, before all of them have been seen.

n_rows, n_test, chunk_size = 20_000, 4_000, 2_000
test = pd.read_csv(path, header=None, skiprows=n_rows - n_test)
classes = np.array(list(string.ascii_uppercase))

# %%
# Stream and train
# ----------------
# Each chunk is one ``partial_fit`` call, one epoch over those rows. The
# model is frozen for integer inference at the end of every call, so it can
# be scored (and exported) at any point. ``t_`` counts the samples seen.

clf = QuantizedMLPClassifier(
    hidden_layer_sizes=(128,), weight_bits=4, activation_bits=8, learning_rate_init=0.003, random_state=0
)
mean = std = None
start = time.perf_counter()
for epoch in range(args.passes):
    for chunk in pd.read_csv(path, header=None, chunksize=chunk_size, nrows=n_rows - n_test):
        X, y = chunk.iloc[:, 1:].to_numpy(float), chunk.iloc[:, 0].to_numpy()
        if mean is None:  # standardize with the first chunk's statistics
            mean, std = X.mean(axis=0), X.std(axis=0) + 1e-9
        clf.partial_fit((X - mean) / std, y, classes=classes)
    X_test, y_test = (test.iloc[:, 1:].to_numpy(float) - mean) / std, test.iloc[:, 0].to_numpy()
    print(
        f"pass {epoch + 1}: held-out accuracy {clf.score(X_test, y_test):.4f} "
        f"({clf.t_:,} samples seen, {time.perf_counter() - start:.1f} s)"
    )

# %%
# The integer model
# -----------------
# What the streamed model exports to: 4-bit packed layers.

print(f"\n{clf.export_integer()}")
