"""Bits per input feature: uniform per-feature grids and quantile bins against 8-bit inputs.

Usage::

    python benchmarks/input_widths.py

At a mean of 2, 3 and 4 bits per input feature, the same model
(``QuantizedMLPClassifier`` with the hidden sizes and epochs of
``experiments.py``, its defaults otherwise) fed:

- ``uniform``: every feature on its own ``b``-bit grid (``input_bits=b``,
  per-feature grids, learned);
- ``KBinsDiscretizer``: ``KBinsDiscretizer(n_bins=2**b, encode="ordinal",
  strategy="quantile")`` in front of the model, which then sees at most
  ``2**b`` values per feature on its default 8-bit grid;
- the anchor, 8-bit inputs (the default).

Data: digits (raw pixels), Letter and the synthetic set (standardized), the
MNIST test set (pixels in [0, 1]), and Adult from its raw columns through a
pipeline (categorical columns imputed and one-hot encoded, one bit per
one-hot column in every method; the ``b`` bits go to its six numeric
columns). 3 seeds. These are the baselines learned per-feature widths
(``input_bits="learned"``, issue 24) have to beat. Writes
``docs/results/input_widths.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import ADULT_NUMERIC, DEFAULT_DATA_DIR, adult_frames  # noqa: E402
from _machine import cpu_description  # noqa: E402
from experiments import BUDGETS, _estimator, _load  # noqa: E402

DATASETS = ["adult", "digits", "letter", "mnist", "synthetic"]
BITS = [2, 3, 4]
SEEDS = [0, 1, 2]


def _adult(data_dir: str):
    """Adult's raw frames, and the pipeline's encoder of its categorical columns."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X_train, X_test, y_train, y_test = adult_frames(data_dir)
    categorical = [c for c in X_train.columns if c not in ADULT_NUMERIC]
    encoder = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    )
    return (X_train, X_test, y_train, y_test), categorical, encoder


def model(dataset: str, seed: int, method: str, bits: int, data_dir: str):
    """The pipeline or estimator of one fit."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer

    input_bits = bits if method == "uniform" else 8
    estimator = _estimator(BUDGETS[dataset], seed, input_bits=input_bits)
    bins = KBinsDiscretizer(
        n_bins=2**bits, encode="ordinal", strategy="quantile", quantile_method="averaged_inverted_cdf"
    )
    if dataset != "adult":
        return make_pipeline(bins, estimator) if method == "KBinsDiscretizer" else estimator
    _, categorical, encoder = _adult(data_dir)
    numeric = bins if method == "KBinsDiscretizer" else "passthrough"
    columns = ColumnTransformer([("cat", encoder, categorical), ("num", numeric, ADULT_NUMERIC)])
    return make_pipeline(columns, estimator)


def run_job(dataset: str, seed: int, method: str, bits: int, data_dir: str) -> dict:
    import torch

    torch.set_num_threads(1)  # two workers share the two cores
    warnings.simplefilter("ignore")
    split = _adult(data_dir)[0] if dataset == "adult" else _load(dataset, data_dir)
    X_train, X_test, y_train, y_test = split
    start = time.perf_counter()
    fitted = model(dataset, seed, method, bits, data_dir).fit(X_train, y_train)
    return {
        "dataset": dataset,
        "seed": seed,
        "method": method,
        "bits": bits,
        "accuracy": float(fitted.score(X_test, y_test)),
        "seconds": time.perf_counter() - start,
    }


def table(results: pd.DataFrame) -> str:
    anchor = results[results["method"] == "8-bit inputs"].groupby("dataset")["accuracy"].mean()
    rows = []
    for (dataset, bits), group in results[results["method"] != "8-bit inputs"].groupby(["dataset", "bits"]):
        means = group.groupby("method")["accuracy"].agg(["mean", "std"])
        row = {"data": dataset, "bits per feature": bits}
        for method in ("uniform", "KBinsDiscretizer"):
            row[method] = f"{means.loc[method, 'mean']:.4f} ± {means.loc[method, 'std']:.4f}"
        row["8-bit inputs"] = f"{anchor[dataset]:.4f}"
        row["uniform - 8-bit (points)"] = f"{100 * (means.loc['uniform', 'mean'] - anchor[dataset]):+.2f}"
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [(d, s, "8-bit inputs", 8) for d in DATASETS for s in SEEDS]
    jobs += [
        (d, s, m, b) for d in DATASETS for s in SEEDS for m in ("uniform", "KBinsDiscretizer") for b in BITS
    ]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(run_job)(*job, args.data_dir) for job in jobs)
    minutes = (time.perf_counter() - start) / 60
    results = pd.DataFrame(rows)
    out = Path(args.out)
    results.to_csv(out / "input_widths.csv", index=False)
    cpu = cpu_description()
    text = (
        "# Bits per input feature: the baselines\n\n"
        f"Mean ± std test accuracy over {len(SEEDS)} seeds; {len(jobs)} fits in {minutes:.1f} min on {cpu}. "
        "Written by `python benchmarks/input_widths.py`.\n\n" + table(results) + "\n"
    )
    (out / "input_widths.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
