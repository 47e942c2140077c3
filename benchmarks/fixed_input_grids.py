"""Fixed against learned per-feature input grids: what fixing the grid (so fit can hold codes) costs.

Usage::

    python benchmarks/fixed_input_grids.py

skqat fixes a per-feature input grid of ``skqat._spec.FIXED_INPUT_BITS`` (8)
bits or more once it is set from the training rows, and learns narrower
ones. This study fits the same model both ways at 8, 4 and 2 input bits
(4-bit weights, 8-bit activations, LSQ) on digits (raw and standardized),
Letter, Adult, the MNIST test set and the synthetic set, 3 seeds, with the
hidden sizes and epochs of ``experiments.py``, by setting that threshold in
each worker: 0 fixes every grid, 17 learns every grid. Writes
``docs/results/fixed_input_grids.md``.
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
from _datasets import DEFAULT_DATA_DIR  # noqa: E402
from _machine import cpu_description  # noqa: E402
from experiments import BUDGETS, _estimator, _load  # noqa: E402

DATASETS = ["digits", "digits_scaled", "letter", "adult", "synthetic", "mnist"]
INPUT_BITS = [8, 4, 2]
SEEDS = [0, 1, 2]
#: ``FIXED_INPUT_BITS`` of each variant: every grid fixed, or every grid learned.
VARIANTS = {"fixed": 0, "learned": 17}


def run_job(dataset: str, seed: int, bits: int, variant: str, data_dir: str) -> dict:
    import torch

    import skqat._spec

    torch.set_num_threads(1)  # two workers share the two cores
    warnings.simplefilter("ignore")
    skqat._spec.FIXED_INPUT_BITS = VARIANTS[variant]
    X_train, X_test, y_train, y_test = _load(dataset, data_dir)
    model = _estimator(BUDGETS[dataset], seed, weight_bits=4, input_bits=bits).fit(X_train, y_train)
    assert model._module.input_quantizer.frozen == (variant == "fixed")
    return {"dataset": dataset, "seed": seed, "input_bits": bits, "variant": variant,
            "accuracy": float(model.score(X_test, y_test))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "fixed_input_grids.md"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [(d, s, b, v) for d in DATASETS for s in SEEDS for b in INPUT_BITS for v in VARIANTS]
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(run_job)(*job, args.data_dir) for job in jobs)
    minutes = (time.perf_counter() - start) / 60
    results = pd.DataFrame(rows)
    table = results.pivot_table(index=["dataset", "input_bits"], columns="variant", values="accuracy")
    table["learned - fixed (points)"] = 100 * (table["learned"] - table["fixed"])
    cpu = cpu_description()
    text = (
        "# Fixed against learned per-feature input grids\n\n"
        f"Mean test accuracy over {len(SEEDS)} seeds, 4-bit weights, 8-bit activations, LSQ; "
        f"{len(jobs)} fits in {minutes:.1f} min on {cpu}. "
        "Written by `python benchmarks/fixed_input_grids.py`.\n\n"
        + table.round(4).reset_index().to_markdown(index=False)
        + "\n"
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
