"""What you score against what you ship: ``predict`` against every integer target, row by row.

Usage::

    python benchmarks/agreement.py            # every configuration below
    python benchmarks/agreement.py --quick    # two configurations

For each configuration (weight bits 1/2/4/8 per tensor and per channel,
symmetric and asymmetric; every hidden activation; per-tensor input grids;
binary, multilabel, regression and Poisson heads) a small model is trained
with the defaults otherwise (8-bit per-feature input grids, int32 biases),
then on held-out rows plus fuzzed ones (random values over each column's
range, rows 50 times too large and too small, +-1e30, zeros, and half-way
points of every feature's grid), all float32, it counts the rows where

- ``predict`` differs from ``export_integer().predict`` (labels, or values
  for a regressor; probabilities compared exactly too);
- the C header's int32 logits (gcc, ``-O2``) differ from
  ``export_integer().integer_logits``;
- ``to_onnx``'s default graph (onnxruntime) gives other labels than
  ``predict`` (values for a regressor: more than 1e-12 relative);
- the integer graph (``integer_ops=True``) gives other int32 logits than
  ``export_integer(requantize="float32")``, and other labels than ``predict``
  (it requantizes in float32, ``predict`` in fixed point).

Writes ``docs/results/agreement.md`` (or ``--out``). C needs ``gcc``; the
ONNX columns need the ``onnx`` extra.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, make_multilabel_classification, make_regression
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import cpu_description  # noqa: E402

_DRIVER = """#include <stdio.h>
#include <stdint.h>
#include "model.h"
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    float x[MODEL_N_FEATURES];
    int32_t logits[MODEL_N_OUTPUTS];
    if (!in || !out || argc != 3)
        return 1;
    while (fread(x, sizeof(float), MODEL_N_FEATURES, in) == MODEL_N_FEATURES) {
        model_logits(x, logits);
        fwrite(logits, sizeof(int32_t), MODEL_N_OUTPUTS, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}
"""


def _configs(quick: bool) -> list[tuple[str, str, dict]]:
    """``(name, task, params)`` of every configuration."""
    grids = [
        (
            f"w{bits} {granularity.replace('per_', 'per ')} {'sym' if symmetric else 'asym'}",
            "digits",
            {"weight_bits": bits, "granularity": granularity, "symmetric": symmetric},
        )
        for bits in (1, 2, 4, 8)
        for granularity in ("per_tensor", "per_channel")
        for symmetric in (True, False)
    ]
    others = [
        *(
            (f"w4 {a}", "digits", {"weight_bits": 4, "activation": a})
            for a in ("tanh", "logistic", "identity")
        ),
        ("w4 per-tensor input", "digits", {"weight_bits": 4, "input_granularity": "per_tensor"}),
        ("w4 binary", "binary", {"weight_bits": 4}),
        ("w4 multilabel", "multilabel", {"weight_bits": 4}),
        ("w4 regression", "regression", {"weight_bits": 4}),
        ("w4 poisson", "poisson", {"weight_bits": 4, "loss": "poisson"}),
    ]
    return [grids[10], others[4]] if quick else grids + others


def _data(task: str):
    rng = np.random.default_rng(0)
    if task in ("digits", "binary"):
        X, y = load_digits(return_X_y=True)
        y = np.where(y % 2 == 0, "even", "odd") if task == "binary" else y
    elif task == "multilabel":
        X, y = make_multilabel_classification(n_samples=1500, n_features=20, n_classes=4, random_state=0)
    else:
        X, y = make_regression(n_samples=1500, n_features=12, noise=5.0, random_state=0)
        X = X * rng.uniform(0.01, 100, X.shape[1])  # raw columns of different ranges
        y = rng.poisson(np.exp(np.clip(X[:, 0] / (2 * X[:, 0].std()), -3, 3))) if task == "poisson" else y
    return train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=0)


def _fuzz(X: np.ndarray, scale, seed: int = 0) -> np.ndarray:
    """Held-out rows, random rows over each column's range, extremes, zeros and grid half-way points."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    scale = np.broadcast_to(np.asarray(scale, np.float64), (d,))
    low, high = X.min(0), X.max(0)
    rows = [
        X,
        rng.uniform(low, high, (1000, d)),
        X[:100] * 50.0,
        -X[:100] * 50.0,
        np.full((5, d), 1e30),
        np.full((5, d), -1e30),
        np.zeros((5, d)),
        (rng.integers(-200, 200, (300, d)) + 0.5) * scale,
    ]
    return np.concatenate(rows).astype(np.float32)


def _estimator(task: str, params: dict):
    from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

    common = dict(hidden_layer_sizes=(32,), max_iter=30, learning_rate_init=0.01, random_state=0)
    if task in ("regression", "poisson"):
        return QuantizedMLPRegressor(**common, **params)
    return QuantizedMLPClassifier(**common, **params)


def _c_logits(model, rows: np.ndarray, gcc: str, work: Path) -> np.ndarray:
    header = model.to_c(work, name="model")
    driver = work / "driver.c"
    driver.write_text(_DRIVER)
    exe = work / "driver"
    subprocess.run(
        [gcc, "-std=c99", "-O2", "-I", str(header.parent), str(driver), "-o", str(exe), "-lm"], check=True
    )
    (work / "x.bin").write_bytes(rows.tobytes())
    subprocess.run([str(exe), str(work / "x.bin"), str(work / "y.bin")], check=True)
    return np.fromfile(work / "y.bin", dtype=np.int32).reshape(len(rows), -1)


def _onnx_outputs(estimator, rows: np.ndarray, **options):
    import onnxruntime as ort

    from skqat import to_onnx

    session = ort.InferenceSession(
        to_onnx(estimator, rows[:1], **options).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"X": rows})


def _differ(a: np.ndarray, b: np.ndarray) -> int:
    """Rows where ``a`` and ``b`` differ in any column."""
    a, b = np.asarray(a), np.asarray(b)
    unequal = a != b
    return int(unequal.reshape(len(a), -1).any(axis=1).sum())


def measure(name: str, task: str, params: dict, gcc: str | None, onnx: bool) -> dict:
    X_train, X_test, y_train, _ = _data(task)
    estimator = _estimator(task, params).fit(X_train, y_train)
    model = estimator.export_integer()
    rows = _fuzz(X_test, model.input_grid.scale)
    regressor = not model.head.is_classifier
    predicted = estimator.predict(rows)
    logits = model.integer_logits(model.quantize_input(rows))
    row = {
        "configuration": name,
        "arithmetic": estimator.predict_arithmetic_,
        "rows": len(rows),
        "predict vs export_integer": _differ(predicted, model.predict(rows)),
    }
    if not regressor:
        row["predict_proba vs export_integer"] = _differ(
            estimator.predict_proba(rows), model.predict_proba(rows)
        )
    if gcc:
        with tempfile.TemporaryDirectory() as work:
            row["C logits vs export_integer"] = _differ(_c_logits(model, rows, gcc, Path(work)), logits)
    if onnx:
        outputs = _onnx_outputs(estimator, rows)
        if regressor:
            values = outputs[0].reshape(predicted.shape)
            row["ONNX default vs predict"] = int(
                (np.abs(values - predicted) > 1e-12 * np.abs(predicted)).sum()
            )
        else:
            labels = outputs[0] if predicted.dtype.kind != "U" else outputs[0].astype(str)
            row["ONNX default vs predict"] = _differ(labels, predicted)
        try:
            integer = _onnx_outputs(estimator, rows, integer_ops=True)
        except ValueError as exc:  # wider than 8 bits, or an accumulator that could overflow int32
            row["ONNX integer logits vs export_integer(float32)"] = f"refused: {exc}"[:60]
        else:
            reference = estimator.export_integer(requantize="float32")
            row["ONNX integer logits vs export_integer(float32)"] = _differ(
                integer[-1], reference.integer_logits(reference.quantize_input(rows))
            )
            if not regressor:
                labels = integer[0] if predicted.dtype.kind != "U" else integer[0].astype(str)
                row["ONNX integer labels vs predict"] = _differ(labels, predicted)
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="two configurations")
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "agreement.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    gcc = shutil.which("gcc")
    try:
        import onnxruntime  # noqa: F401

        onnx = True
    except ImportError:
        onnx = False
    start = time.perf_counter()
    rows = [measure(name, task, params, gcc, onnx) for name, task, params in _configs(args.quick)]
    frame = pd.DataFrame(rows)
    elapsed = time.perf_counter() - start
    counts = frame.drop(columns=["configuration", "arithmetic"])
    # Rows compared, and disagreements summed over the configurations that have the column.
    totals = {c: int(pd.to_numeric(counts[c], errors="coerce").fillna(0).sum()) for c in counts}
    text = (
        "# What you score against what you ship\n\n"
        f"`python benchmarks/agreement.py{' --quick' if args.quick else ''}` on {cpu_description()}"
        f", {elapsed:.0f} s. Each cell counts the rows (of `rows`: held-out plus fuzzed, float32) "
        "where the two sides differ; 0 is the target except in the last column, where onnxruntime's "
        "float32 requantization meets `predict`'s fixed point.\n\n"
        + frame.fillna("–").to_markdown(index=False)
        + "\n\nTotals: "
        + ", ".join(f"{k}: {v}" for k, v in totals.items())
        + "\n"
    )
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
