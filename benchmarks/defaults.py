"""The integer-model defaults against the old ones, on the experiment sets: what you score and what you ship.

Usage::

    python benchmarks/defaults.py            # digits, Letter, Adult, MNIST, synthetic; 8/4/2 bits; 3 seeds
    python benchmarks/defaults.py --quick    # digits, 4 bits, one seed, short training

Each data set as the schemes study uses it (:mod:`experiments`: the same
splits, hidden layers and epochs, no stopping on the training loss), weight
widths 8, 4 and 2 with 8-bit activations, and two configurations:

``before``
    ``input_bits=None, bias_bits=None``: the defaults until issue 22. ``predict``
    is the float network; ``export_integer()`` ships it on an 8-bit input grid
    calibrated after training, with the biases rounded to int32.
``after``
    The defaults: ``input_bits="auto"`` (8-bit per-feature input grids) and
    ``bias_bits="auto"`` (int32 biases), trained on; ``predict`` is
    ``export_integer()``.

Each cell is the mean test accuracy over the seeds (and its standard
deviation). Writes ``docs/results/defaults.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DATASETS, DEFAULT_DATA_DIR  # noqa: E402
from experiments import BUDGETS  # noqa: E402

SETS = ["digits", "letter", "adult", "mnist", "synthetic"]
BITS = [8, 4, 2]
CONFIGS = {"before": {"input_bits": None, "bias_bits": None}, "after": {}}


def _fit(dataset: str, bits: int, config: str, seed: int, data, epochs: int) -> dict:
    from skqat import QuantizedMLPClassifier

    X_train, X_test, y_train, y_test = data
    budget = BUDGETS[dataset]
    model = QuantizedMLPClassifier(
        hidden_layer_sizes=budget.hidden,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs,
        random_state=seed,
        weight_bits=bits,
        **CONFIGS[config],
    ).fit(X_train, y_train)
    predicted = model.predict(X_test)
    shipped = model.export_integer().predict(X_test)
    return {
        "data set": dataset,
        "weight bits": bits,
        "config": config,
        "seed": seed,
        "arithmetic": model.predict_arithmetic_,
        "predict": float(np.mean(predicted == y_test)),
        "shipped": float(np.mean(shipped == y_test)),
        "agreement": float(np.mean(predicted == shipped)),
    }


def _cell(values: pd.Series) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=0):.4f}" if len(values) > 1 else f"{values.mean():.4f}"


def table(rows: pd.DataFrame) -> str:
    """One row per data set and width: before (predict, shipped, agreement), after, and the differences."""
    lines = []
    for (dataset, bits), group in rows.groupby(["data set", "weight bits"], sort=False):
        before = group[group["config"] == "before"]
        after = group[group["config"] == "after"]
        lines.append(
            {
                "data set": dataset,
                "weight bits": bits,
                "before: predict": _cell(before["predict"]),
                "before: shipped": _cell(before["shipped"]),
                "before: labels equal": f"{before['agreement'].mean():.4f}",
                "after: predict = shipped": _cell(after["predict"]),
                "after: labels equal": f"{after['agreement'].mean():.4f}",
                "after - before predict": f"{after['predict'].mean() - before['predict'].mean():+.4f}",
                "after - before shipped": f"{after['shipped'].mean() - before['shipped'].mean():+.4f}",
            }
        )
    return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits, 4 bits, one seed, 20 epochs")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "defaults.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    sets, bits, seeds = (["digits"], [4], 1) if args.quick else (SETS, BITS, args.seeds)
    start = time.perf_counter()
    rows = []
    for dataset in sets:
        data = DATASETS[dataset](args.data_dir)
        epochs = 20 if args.quick else BUDGETS[dataset].epochs
        for b in bits:
            for seed in range(seeds):
                for config in CONFIGS:
                    rows.append(_fit(dataset, b, config, seed, data, epochs))
    frame = pd.DataFrame(rows)
    assert (frame.loc[frame["config"] == "after", "arithmetic"] == "integer").all()
    elapsed = time.perf_counter() - start
    text = (
        "# The integer-model defaults: what you score and what you ship\n\n"
        f"`python benchmarks/defaults.py{' --quick' if args.quick else ''}`: mean test accuracy ± std over "
        f"{seeds} seed(s), {len(frame)} fits in {elapsed:.0f} s. Data, hidden layers and epochs as the "
        "schemes study (`benchmarks/experiments.py`), 8-bit activations.\n"
        "`before`: `input_bits=None, bias_bits=None` (float inputs and biases; `predict` is the float "
        "network; `export_integer()` ships it on a calibrated 8-bit input grid). `after`: the defaults "
        "(8-bit per-feature input grids and int32 biases, trained on; `predict` is `export_integer()`). "
        "`labels equal`: the share of test rows where `predict` and `export_integer().predict` agree.\n\n"
        + table(frame)
        + "\n"
    )
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    frame.to_csv(out.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
