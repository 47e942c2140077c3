"""Out-of-core training: read a CSV in chunks with pandas and train with partial_fit
=================================================================================

The Letter data set (20,000 rows) is streamed from disk 2,000 rows at a
time; each chunk is standardized with statistics from the first chunk and
fed to ``partial_fit``. Three passes over the file (by default), each
followed by the held-out accuracy, then the integer model.

Run it with::

    python examples/streaming_partial_fit.py [--data-dir DIR] [--passes 3]

The data are the file ``letter/letter-recognition.data`` in ``--data-dir``,
else in the folder named by the ``SKQAT_DATA_DIR`` environment variable, else
in ``../shared/data`` from the repository root (the README says where that
folder comes from). Without it, as in a fresh clone, the script says so and
streams a synthetic file of the same shape instead (26 letters, 16 integer
features), so that the documentation still builds; its accuracies are then
not Letter's. A ``--data-dir`` without the file is an error.
"""

# %%
# Options
# -------
# Where the data are (``--data-dir``, else ``$SKQAT_DATA_DIR``, else
# ``../shared/data``), and how many passes to make over the file.

import argparse
import os
import string
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from skqat import QuantizedMLPClassifier

# sys.argv[0] is this file, under python and under sphinx-gallery (which defines no __file__).
ROOT = Path(sys.argv[0]).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument(
    "--data-dir", help="folder holding letter/ (default: $SKQAT_DATA_DIR, else ../shared/data)"
)
parser.add_argument("--passes", type=int, default=3)
args = parser.parse_args()
given = args.data_dir or os.environ.get("SKQAT_DATA_DIR")
path = (Path(given) if given else ROOT / ".." / "shared" / "data") / "letter" / "letter-recognition.data"
if args.data_dir and not path.is_file():
    parser.error(f"--data-dir {args.data_dir}: no letter/letter-recognition.data there")
if not path.is_file():
    # The same layout as Letter (the letter, then 16 integer features 0..15), written
    # to a temporary file so that the rest of the script streams it the same way.
    print(
        f"UCI Letter is not in {given or '../shared/data'} "
        "(set SKQAT_DATA_DIR or --data-dir to the folder holding letter/):\n"
        "streaming a synthetic stand-in of the same shape; the accuracies below are not Letter's.\n"
    )
    X, y = make_classification(
        n_samples=20_000,
        n_features=16,
        n_informative=12,
        n_classes=26,
        n_clusters_per_class=1,
        random_state=0,
    )
    X = np.round(15 * (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))).astype(int)
    stand_in = pd.DataFrame(X).assign(letter=np.array(list(string.ascii_uppercase))[y])
    workdir = tempfile.TemporaryDirectory()  # removed when the script ends
    path = Path(workdir.name) / "letter-recognition.data"
    stand_in[["letter", *range(16)]].to_csv(path, header=False, index=False)

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

# sphinx_gallery_thumbnail_path = "thumbnails/streaming_partial_fit.png"
