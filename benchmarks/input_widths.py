"""Bits per input feature: learned widths against uniform grids, quantile bins and 8-bit inputs.

Usage::

    python benchmarks/input_widths.py [--quick]

At a mean of 2, 3 and 4 bits per input feature, the same model
(``QuantizedMLPClassifier`` with the hidden sizes and epochs of
``experiments.py``, its defaults otherwise) fed:

- ``learned``: ``input_bits="learned"`` with ``input_target_bits=b`` (each
  feature its own width in ``[0, 8]``, chosen after the 8-bit warm-up);
- ``uniform``: every feature on its own ``b``-bit grid (``input_bits=b``,
  per-feature grids, learned);
- ``uniform, same epochs``: the same, trained for the learned model's
  warm-up epochs on top of ``max_iter`` (the control for the extra epochs);
- ``KBinsDiscretizer``: ``KBinsDiscretizer(n_bins=2**b, encode="ordinal",
  strategy="quantile")`` in front of the model, which then sees at most
  ``2**b`` values per feature on its default 8-bit grid;
- the anchor, 8-bit inputs (the default).

Data: digits (raw pixels), Letter and the synthetic set (standardized), the
MNIST test set (pixels in [0, 1]), and Adult from its raw columns through a
pipeline (categorical columns imputed and one-hot encoded, one bit per
one-hot column for the baselines; the ``b`` bits go to its six numeric
columns). For Adult the learned model gets the same total bits,
``input_target_bits = (6 b + n_onehot) / (6 + n_onehot)``, to spend on any
column, one-hot columns included (0 or 1 bit each). 3 seeds. Writes
``docs/results/input_widths.md``, ``.csv``, ``input_widths.png`` (accuracy
against bits) and ``input_bits_per_feature.png`` (the widths learned).
"""

from __future__ import annotations

import argparse
import dataclasses
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
METHODS = ["learned", "uniform", "uniform, same epochs", "KBinsDiscretizer"]


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


def _warm_up_epochs(epochs: int) -> int:
    """The warm-up ``input_bits="learned"`` trains before choosing (``Schedule.allocation_epoch``)."""
    from skqat._schedules import Schedule

    return Schedule(0, epochs, 0.0, "constant", 0.0).allocation_epoch()


def model(dataset: str, seed: int, method: str, bits: int, data_dir: str, n_onehot: int = 0):
    """The pipeline or estimator of one fit (``n_onehot``: Adult's one-hot columns)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer

    budget = BUDGETS[dataset]
    params: dict = {"input_bits": 8}
    if method in ("uniform", "uniform, same epochs"):
        params = {"input_bits": bits}
    if method == "uniform, same epochs":
        budget = dataclasses.replace(budget, epochs=budget.epochs + _warm_up_epochs(budget.epochs))
    if method == "learned":
        n_numeric = len(ADULT_NUMERIC) if dataset == "adult" else 0
        total = (n_numeric * bits + n_onehot) / (n_numeric + n_onehot) if dataset == "adult" else bits
        params = {"input_bits": "learned", "input_target_bits": total}
    estimator = _estimator(budget, seed, **params)
    bins = KBinsDiscretizer(
        n_bins=2**bits, encode="ordinal", strategy="quantile", quantile_method="averaged_inverted_cdf"
    )
    if dataset != "adult":
        return make_pipeline(bins, estimator) if method == "KBinsDiscretizer" else estimator
    _, categorical, encoder = _adult(data_dir)
    numeric = bins if method == "KBinsDiscretizer" else "passthrough"
    columns = ColumnTransformer([("cat", encoder, categorical), ("num", numeric, ADULT_NUMERIC)])
    return make_pipeline(columns, estimator)


def run_job(dataset: str, seed: int, method: str, bits: int, data_dir: str, quick: bool = False) -> dict:
    import torch

    torch.set_num_threads(1)  # two workers share the two cores
    warnings.simplefilter("ignore")
    n_onehot = 0
    if dataset == "adult":
        split, categorical, encoder = _adult(data_dir)
        n_onehot = encoder.fit(split[0][categorical]).transform(split[0][categorical][:1]).shape[1]
    else:
        split = _load(dataset, data_dir)
    X_train, X_test, y_train, y_test = split
    if quick:
        X_train, y_train = X_train[:400], y_train[:400]
    start = time.perf_counter()
    fitted = model(dataset, seed, method, bits, data_dir, n_onehot).fit(X_train, y_train)
    row = {
        "dataset": dataset,
        "seed": seed,
        "method": method,
        "bits": bits,
        "accuracy": float(fitted.score(X_test, y_test)),
        "seconds": time.perf_counter() - start,
        "widths": "",
        "names": "",
    }
    estimator = fitted[-1] if hasattr(fitted, "steps") else fitted
    if method == "learned":
        row["mean_bits"] = float(estimator.input_bits_.mean())
        row["widths"] = " ".join(map(str, estimator.input_bits_))
        if hasattr(fitted, "steps"):
            row["names"] = "|".join(fitted[:-1].get_feature_names_out())
    return row


def table(results: pd.DataFrame) -> str:
    anchor = results[results["method"] == "8-bit inputs"].groupby("dataset")["accuracy"].mean()
    rows = []
    for (dataset, bits), group in results[results["method"] != "8-bit inputs"].groupby(["dataset", "bits"]):
        means = group.groupby("method")["accuracy"].agg(["mean", "std"])
        row = {"data": dataset, "bits per feature": bits}
        for method in METHODS:
            row[method] = f"{means.loc[method, 'mean']:.4f} ± {means.loc[method, 'std']:.4f}"
        row["8-bit inputs"] = f"{anchor[dataset]:.4f}"
        learned = means.loc["learned", "mean"]
        for name, reference in (
            ("uniform", means.loc["uniform", "mean"]),
            ("same epochs", means.loc["uniform, same epochs", "mean"]),
            ("KBins", means.loc["KBinsDiscretizer", "mean"]),
            ("8-bit", anchor[dataset]),
        ):
            row[f"learned - {name}"] = f"{100 * (learned - reference):+.2f}"
        row["learned mean bits"] = f"{group[group['method'] == 'learned']['mean_bits'].mean():.2f}"
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def accuracy_figure(results: pd.DataFrame, path: Path) -> None:
    """Accuracy against bits per feature, one panel per data set, with the 8-bit anchor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted(results["dataset"].unique())
    figure, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        subset = results[results["dataset"] == dataset]
        for method, marker in zip(METHODS, "osx^"):
            means = subset[subset["method"] == method].groupby("bits")["accuracy"].mean()
            ax.plot(means.index, means.values, marker=marker, label=method)
        ax.axhline(subset[subset["method"] == "8-bit inputs"]["accuracy"].mean(), color="k", ls="--", lw=1)
        ax.set_title(dataset)
        ax.set_xlabel("budget b (bits per feature)")
        ax.set_xticks(BITS)
    axes[0][0].set_ylabel("test accuracy (mean of seeds)")
    for ax in axes[0]:
        ax.title.set_fontsize("small")
    axes[0][0].legend(fontsize="small", title="dashed: 8-bit inputs", title_fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def widths_figure(results: pd.DataFrame, path: Path) -> None:
    """The widths learned at a mean of 2 bits (seed 0): MNIST and digits pixels, Adult's columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from skqat.plot import InputBitsDisplay

    learned = results[
        (results["method"] == "learned") & (results["bits"] == BITS[0]) & (results["seed"] == 0)
    ]
    shown = [d for d in ("mnist", "digits", "adult") if d in set(learned["dataset"])]
    if not shown:
        return
    figure, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.8), squeeze=False)
    for ax, dataset in zip(axes[0], shown):
        row = learned[learned["dataset"] == dataset].iloc[0]
        bits = np.array(row["widths"].split(), dtype=int)
        if dataset == "adult":
            # One bar per raw column: a categorical column's bars are its one-hot columns kept (1 bit each).
            names = row["names"].split("|")
            raw = [
                name.split("__", 1)[1].split("_")[0] if name.startswith("cat__") else name[5:]
                for name in names
            ]
            order = list(dict.fromkeys(raw))
            totals = np.array([bits[[r == column for r in raw]].sum() for column in order])
            InputBitsDisplay(totals, order).plot(ax=ax)
            ax.set_ylabel("bits (categorical: one-hot columns kept)", fontsize="small")
            ax.set_title(
                f"adult: per raw column ({bits.size} inputs, mean {bits.mean():.2f})", fontsize="small"
            )
        else:
            side = int(round(np.sqrt(bits.size)))
            InputBitsDisplay(bits, image_shape=(side, side)).plot(ax=ax)
            ax.set_title(f"{dataset}: {ax.get_title()}", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results"))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="digits only, 400 rows, one seed (a smoke run)")
    parser.add_argument(
        "--figures-only", action="store_true", help="redraw the table and figures from the CSV in --out"
    )
    args = parser.parse_args()
    datasets, seeds = (["digits"], [0]) if args.quick else (DATASETS, SEEDS)
    jobs = [(d, s, "8-bit inputs", 8) for d in datasets for s in seeds]
    jobs += [(d, s, m, b) for d in datasets for s in seeds for m in METHODS for b in BITS]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.figures_only:
        results = pd.read_csv(out / "input_widths.csv", keep_default_na=False)
        accuracy_figure(results, out / "input_widths.png")
        widths_figure(results, out / "input_bits_per_feature.png")
        return
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(run_job)(*job, args.data_dir, args.quick) for job in jobs)
    minutes = (time.perf_counter() - start) / 60
    results = pd.DataFrame(rows)
    results.to_csv(out / "input_widths.csv", index=False)
    accuracy_figure(results, out / "input_widths.png")
    widths_figure(results, out / "input_bits_per_feature.png")
    cpu = cpu_description()
    text = (
        "# Bits per input feature: learned widths against the baselines\n\n"
        f"Mean ± std test accuracy over {len(seeds)} seeds; {len(jobs)} fits in {minutes:.1f} min on {cpu}. "
        "Written by `python benchmarks/input_widths.py`. `learned - X`: points. "
        "Figures: `input_widths.png` (accuracy against bits), `input_bits_per_feature.png` (the widths "
        "learned at a mean of 2 bits, seed 0).\n\n" + table(results) + "\n"
    )
    (out / "input_widths.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
