"""Raw columns against standardized ones: per-feature input grids, side by side in one process.

Usage::

    python benchmarks/raw_columns.py            # Adult numeric, MNIST, digits, Letter; 8/4/2 bits; 3 seeds
    python benchmarks/raw_columns.py --quick    # digits, 4 bits, one seed

For each data set, as stored (raw) and standardized on the training rows,
and each weight width, it trains ``QuantizedMLPClassifier`` with 8-bit
inputs, one grid per feature (``input_granularity="per_feature"``) and one
for all features (``"per_tensor"``), and the float network on the same
columns. Each cell is the mean test accuracy over the seeds.

Writes ``docs/results/raw_columns.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import (  # noqa: E402
    DEFAULT_DATA_DIR,
    adult_numeric_raw,
    digits,
    letter_raw,
    mnist_raw,
    standardized,
)

#: name -> (raw loader, hidden layers, epochs)
SETS = {
    "Adult numeric": (adult_numeric_raw, (64,), 20),
    "MNIST": (mnist_raw, (128,), 20),
    "digits": (digits, (64,), 100),
    "Letter": (letter_raw, (100,), 30),
}


def accuracy(data, hidden, epochs, seeds, **params) -> float:
    """Mean test accuracy over ``seeds`` of one configuration."""
    from skqat import QuantizedMLPClassifier

    X_train, X_test, y_train, y_test = data
    scores = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = QuantizedMLPClassifier(
                hidden_layer_sizes=hidden, max_iter=epochs, random_state=seed, **params
            ).fit(X_train, y_train)
        scores.append(model.score(X_test, y_test))
    return float(np.mean(scores))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits, 4 bits, one seed")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "raw_columns.md"))
    args = parser.parse_args(argv)

    import pandas as pd
    from threadpoolctl import threadpool_limits

    sets = {"digits": SETS["digits"]} if args.quick else SETS
    bit_widths = [4] if args.quick else [8, 4, 2]
    seeds = [0] if args.quick else [0, 1, 2]
    rows = []
    start = time.perf_counter()
    with threadpool_limits(2):
        for name, (loader, hidden, epochs) in sets.items():
            if args.quick:
                epochs = 20
            raw = loader(args.data_dir)
            scaled = standardized(loader)(args.data_dir)
            float_raw = accuracy(raw, hidden, epochs, seeds, weight_bits=None, activation_bits=None)
            for bits in bit_widths:
                common = dict(weight_bits=bits, input_bits=8)
                row = {"data set": name, "weight bits": bits}
                for label, data, granularity in (
                    ("raw, per feature", raw, "per_feature"),
                    ("standardized, per feature", scaled, "per_feature"),
                    ("standardized, per tensor", scaled, "per_tensor"),
                    ("raw, per tensor", raw, "per_tensor"),
                ):
                    row[label] = accuracy(
                        data, hidden, epochs, seeds, input_granularity=granularity, **common
                    )
                row["float, raw"] = float_raw
                rows.append(row)
                print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    frame = pd.DataFrame(rows)
    frame["raw per feature - standardized per tensor"] = (
        frame["raw, per feature"] - frame["standardized, per tensor"]
    )
    lines = [
        "# Raw columns and per-feature input grids",
        "",
        f"`python benchmarks/raw_columns.py{' --quick' if args.quick else ''}`: mean test accuracy over "
        f"{len(seeds)} seed(s), 8-bit inputs, {time.perf_counter() - start:.0f} s in all.",
        "Standardized: `StandardScaler` fitted on the training rows. `float, raw`: the float network",
        "(no grids) on the raw columns.",
        "",
        frame.to_markdown(index=False, floatfmt=".4f"),
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
