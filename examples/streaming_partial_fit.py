"""Out-of-core training: read a CSV in chunks with pandas and train with partial_fit.

The Letter data set (20,000 rows) is streamed from disk 2,000 rows at a time;
each chunk is standardized with statistics from the first chunk and fed to
partial_fit. Three passes over the file, then the held-out accuracy.

Run: python examples/streaming_partial_fit.py [--data-dir ../shared/data]
"""

import argparse
import string
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skqat import QuantizedMLPClassifier

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
parser.add_argument("--passes", type=int, default=3)
args = parser.parse_args()
path = Path(args.data_dir) / "letter" / "letter-recognition.data"

# The last 4,000 rows are held out; everything before streams in chunks.
n_rows, n_test, chunk_size = 20_000, 4_000, 2_000
test = pd.read_csv(path, header=None, skiprows=n_rows - n_test)
classes = np.array(list(string.ascii_uppercase))  # partial_fit needs every class up front

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
print(f"\n{clf.export_integer()}")
