"""Deployment report: integer and ONNX parity, packed sizes, and inference latency.

Usage::

    python benchmarks/export_report.py            # digits, Letter, Adult at 2, 4 and 8 bits
    python benchmarks/export_report.py --quick    # digits only, short training

For each data set and weight bit width it fits a ``QuantizedMLPClassifier``
(8-bit activations), exports it with ``export_integer()`` and ``to_onnx()``,
and reports on the held-out rows:

- the share of rows where ``IntegerMLP.predict`` and the ONNX graph's labels
  equal the estimator's ``predict``, and the largest probability difference;
- the packed size against the float32 size of the same network;
- the latency of one row and of 10,000 rows through onnxruntime, the
  estimator's ``predict``, ``IntegerMLP.predict`` and scikit-learn's
  ``MLPClassifier.predict`` (trained on the same data), in the same process.

Writes ``docs/results/export.md``.
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

EPOCHS = {"digits": 200, "letter": 30, "adult": 10}


def _latency_ms(predict, X, repeats: int) -> float:
    """Median wall time of ``predict(X)`` over ``repeats`` calls, after one warm-up call."""
    predict(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def measure(dataset: str, bits: int, epochs: int, data_dir: str) -> tuple[dict, dict]:
    import onnxruntime as ort
    from sklearn.neural_network import MLPClassifier

    from skqat import QuantizedMLPClassifier, to_onnx

    X_train, X_test, y_train, y_test = DATASETS[dataset](data_dir)
    clf = QuantizedMLPClassifier(weight_bits=bits, max_iter=epochs, random_state=0).fit(X_train, y_train)
    integer = clf.export_integer()
    session = ort.InferenceSession(
        to_onnx(clf, X_train).SerializeToString(), providers=["CPUExecutionProvider"]
    )

    def onnx_run(X):
        return session.run(None, {"X": X})

    expected, expected_proba = clf.predict(X_test), clf.predict_proba(X_test)
    onnx_labels, onnx_proba = onnx_run(X_test)
    quality = {
        "data": dataset,
        "bits": bits,
        "accuracy": float(np.mean(expected == y_test)),
        "integer parity": float(np.mean(integer.predict(X_test) == expected)),
        "integer max |dp|": float(np.abs(integer.predict_proba(X_test) - expected_proba).max()),
        "onnx parity": float(np.mean(onnx_labels == expected)),
        "onnx max |dp|": float(np.abs(onnx_proba - expected_proba).max()),
        "packed bytes": integer.nbytes,
        "float32 bytes": integer.float32_nbytes,
        "ratio": integer.nbytes / integer.float32_nbytes,
        "onnx file bytes": len(to_onnx(clf, X_train).SerializeToString()),
    }
    sklearn = MLPClassifier(max_iter=epochs, random_state=0).fit(X_train, y_train)
    rows = np.resize(X_test, (10_000, X_test.shape[1]))  # 10,000 rows, repeating the test set
    one = X_test[:1]
    latency = {"data": dataset, "bits": bits}
    for name, predict in [
        ("onnxruntime", onnx_run),
        ("skqat predict", clf.predict),
        ("IntegerMLP", integer.predict),
        ("sklearn MLP", sklearn.predict),
    ]:
        latency[f"{name} 1 row ms"] = _latency_ms(predict, one, repeats=200)
        latency[f"{name} 10k rows ms"] = _latency_ms(predict, rows, repeats=10)
    return quality, latency


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "export.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    datasets = ["digits"] if args.quick else ["digits", "letter", "adult"]
    qualities, latencies = [], []
    for dataset in datasets:
        for bits in [4] if args.quick else [2, 4, 8]:
            epochs = 5 if args.quick else EPOCHS[dataset]
            quality, latency = measure(dataset, bits, epochs, args.data_dir)
            qualities.append(quality)
            latencies.append(latency)
            print(quality)
    quality_table = pd.DataFrame(qualities).to_markdown(index=False, floatfmt=".4g")
    latency_table = pd.DataFrame(latencies).to_markdown(index=False, floatfmt=".3g")
    text = (
        "# Export report\n\n"
        "Parity: share of held-out rows where the exported model's label equals the estimator's "
        "`predict`; max |dp|: largest probability difference.\n\n"
        f"{quality_table}\n\n## Latency (median ms, one process)\n\n{latency_table}\n"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
