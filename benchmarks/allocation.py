"""Learned weight widths against uniform widths at equal mean bits, on data the allocation was not tuned on.

Usage::

    python benchmarks/allocation.py --label after          # this checkout's allocation
    PYTHONPATH=/path/to/old/checkout python benchmarks/allocation.py --label before

Each run fits ``weight_bits="learned"`` at ``target_bits`` 2, 2.5, 3, 3.5 and
4 (bounds (2, 8)) on digits, Letter, Adult, the MNIST test set and the
synthetic 6-class set, 3 seeds, with the budgets of ``experiments.py``, and
appends its rows to ``docs/results/allocation.csv`` under ``--label``. The
uniform models (``weight_bits`` 2, 3, 4) do not depend on the allocation:
they are fitted once, under the label ``uniform``, and once more with as
many epochs as the learned fit trains in all (its warm-up, a quarter of the
epochs, plus all of them), under ``uniform, same epochs``: the control for
the warm-up's extra training. ``docs/results/allocation.md`` is rewritten
from every label in the CSV: learned accuracy against the uniform model at
``floor(target)`` bits, label by label.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DEFAULT_DATA_DIR  # noqa: E402
from _machine import cpu_description  # noqa: E402
from experiments import BUDGETS, Budget, _estimator, _load  # noqa: E402

DATASETS = ["digits", "letter", "adult", "mnist", "synthetic"]
TARGETS = [2, 2.5, 3, 3.5, 4]
UNIFORM = [2, 3, 4]
SEEDS = [0, 1, 2]
UNIFORM_LABELS = ("uniform", SAME_EPOCHS := "uniform, same epochs")


def warmup_epochs(max_iter: int) -> int:
    """Epochs of the learned fit's warm-up (quant_delay=0): what ``Schedule.allocation_epoch`` gives."""
    from skqat._schedules import Schedule

    return Schedule(0, max_iter, 0.0, "constant", 0.0).allocation_epoch()


def run_job(job: dict, data_dir: str) -> dict:
    """Fit one model in a worker process; return its accuracy, widths and time."""
    import torch

    import skqat
    from skqat._allocation import mean_bits

    torch.set_num_threads(1)  # two workers share the two cores
    warnings.simplefilter("ignore")
    X_train, X_test, y_train, y_test = _load(job["dataset"], data_dir)
    budget = BUDGETS[job["dataset"]]
    epochs = budget.epochs + (warmup_epochs(budget.epochs) if job["label"] == SAME_EPOCHS else 0)
    if job["target"] is None:
        params = {"weight_bits": job["bits"]}
    else:
        params = {"weight_bits": "learned", "target_bits": job["target"]}
    start = time.perf_counter()
    model = _estimator(Budget(budget.hidden, epochs), job["seed"], **params).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return {
        **job,
        "accuracy": float(model.score(X_test, y_test)),
        "widths": str(model.weight_bits_),
        "mean_bits": mean_bits(model.weight_bits_, [c.size for c in model.coefs_]),
        "seconds": seconds,
        "skqat": str(Path(skqat.__file__).parent.parent),
    }


def plan(label: str, done: pd.DataFrame, datasets: list[str], seeds: list[int]) -> list[dict]:
    """The fits this run needs: the learned ones under ``label``, and uniform ones not yet in the CSV."""
    jobs = []
    for dataset in datasets:
        for seed in seeds:
            jobs += [
                {"label": label, "dataset": dataset, "seed": seed, "target": t, "bits": None} for t in TARGETS
            ]
            for bits in UNIFORM:
                for uniform in UNIFORM_LABELS:
                    job = {"label": uniform, "dataset": dataset, "seed": seed, "target": None, "bits": bits}
                    if not _done(done, job):
                        jobs.append(job)
    return jobs


def _done(done: pd.DataFrame, job: dict) -> bool:
    """Whether the CSV already holds the uniform fit ``job``."""
    if not len(done):
        return False
    keys = ("label", "dataset", "seed", "bits")
    return bool(np.logical_and.reduce([done[k] == job[k] for k in keys]).any())


def table(results: pd.DataFrame) -> str:
    """Learned accuracy (and its difference to uniform at ``floor(target)``, in points) per label."""
    means = {
        label: results[results["label"] == label].groupby(["dataset", "bits"])["accuracy"].mean()
        for label in UNIFORM_LABELS
    }
    learned = results[~results["label"].isin(UNIFORM_LABELS)]
    labels = list(dict.fromkeys(learned["label"]))
    rows = []
    for (dataset, target), group in learned.groupby(["dataset", "target"], sort=True):
        key = (dataset, int(np.floor(target)))
        reference = means["uniform"].get(key, np.nan)
        row = {
            "data": dataset,
            "target_bits": target,
            "uniform at floor(target)": f"{reference:.4f}",
            "same epochs": f"{means[SAME_EPOCHS].get(key, np.nan):.4f}",
        }
        for label in labels:
            runs = group[group["label"] == label]
            if not runs.empty:
                mean = runs["accuracy"].mean()
                row[label] = f"{mean:.4f} ({100 * (mean - reference):+.2f})"
                widths = ", ".join(f"{w} x{n}" for w, n in runs["widths"].value_counts(sort=False).items())
        row[f"widths ({labels[-1]})"] = widths
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="name of this allocation in the CSV and tables")
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    csv = out / "allocation.csv"
    done = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    if len(done):
        done = done[done["label"] != args.label]
    jobs = plan(args.label, done, args.datasets, args.seeds)
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(run_job)(job, args.data_dir) for job in jobs)
    minutes = (time.perf_counter() - start) / 60
    results = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
    results.to_csv(csv, index=False)
    print(f"{len(jobs)} fits in {minutes:.1f} min")
    (out / "allocation.md").write_text(
        "# Learned weight widths against uniform widths (mean ± std over seeds)\n\n"
        "Written by `python benchmarks/allocation.py --label LABEL`; each label is one allocation "
        "strategy, measured in its own run (see `docs/experiments.rst`), "
        f"on {cpu_description()} ({os.cpu_count()} cores).\n\n" + table(results) + "\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
