"""The integer ONNX graph's weight kernels, side by side in one process, with the CPU recorded.

Usage::

    python benchmarks/onnx_kernels.py            # digits, Letter, MNIST and W2-size, 8-bit weights
    python benchmarks/onnx_kernels.py --quick    # digits only, short training

For each model (``QuantizedMLPClassifier``, 8-bit weights and activations,
float32 features) it times onnxruntime, one intra-op thread, on 10,000 rows
and on one row, for:

- ``float``: the float graph, ``to_onnx(clf, X32)``;
- ``integer``: the integer graph as exported, ``to_onnx(clf, X32,
  integer_ops=True)``: ``uint8 x uint8`` kernels where a layer's weights and
  inputs are both 8-bit, ``uint8 x int8`` elsewhere;
- ``integer, u8 x s8``: the same graph with ``uint8 x int8`` weights in every
  layer, the form the exporter refuses for 8-bit weights with 8-bit inputs
  because on x86 without VNNI its kernel adds pairs of products in
  saturating int16. It is timed for comparison only.

Each row also counts the test rows whose int32 logits differ from
``export_integer(requantize="float32")`` on this CPU (0 means exact here).
The report names the CPU model and whether it has AVX-512 VNNI or AVX-VNNI:
the ``u8 x s8`` timings and mismatches depend on it.

Writes ``docs/results/onnx_kernels.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DEFAULT_DATA_DIR  # noqa: E402
from _machine import cpu_description  # noqa: E402
from deploy import BULK_ROWS, MODELS, load, median_ms, one_row_ms, ort_session  # noqa: E402

KERNEL_MODELS = {**MODELS, "mnist": ("mnist", (128,), 10)}


def measure(name: str, data_dir: str, quick: bool) -> list[dict]:
    from sklearn.exceptions import ConvergenceWarning

    from skqat import QuantizedMLPClassifier, to_onnx
    from skqat.export import _onnx_integer

    loader, hidden, epochs = KERNEL_MODELS[name]
    X_train, X_test, y_train, _ = load(loader, data_dir, quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = QuantizedMLPClassifier(
            hidden_layer_sizes=hidden, weight_bits=8, max_iter=min(epochs, 5 if quick else 20), random_state=0
        ).fit(X_train, y_train)
    reference = clf.export_integer(requantize="float32")
    expected = reference.integer_logits(reference.quantize_input(X_test))
    graphs = {"float": to_onnx(clf, X_test[:1]), "integer": to_onnx(clf, X_test[:1], integer_ops=True)}
    exact = _onnx_integer._signed_weights_exact
    _onnx_integer._signed_weights_exact = lambda layer, grid: True
    try:
        graphs["integer, u8 x s8"] = to_onnx(clf, X_test[:1], integer_ops=True)
    finally:
        _onnx_integer._signed_weights_exact = exact
    bulk = np.ascontiguousarray(np.resize(X_test, (BULK_ROWS, X_test.shape[1])))
    rows = []
    for form, graph in graphs.items():
        session = ort_session(graph)
        outputs = [o.name for o in session.get_outputs()]
        run = lambda X, s=session: s.run(["label"], {"X": X})[0]  # noqa: E731
        row = {
            "model": f"{name} {'-'.join(map(str, [X_train.shape[1], *hidden, len(clf.classes_)]))}",
            "graph": form,
            "10k rows ms": median_ms(lambda r=run: r(bulk), 3 if quick else 9),
            "1 row ms": one_row_ms(run, X_test[:1], calls=50 if quick else 300),
            "rows with wrong logits": "-",
        }
        if "logits" in outputs:
            logits = session.run(["logits"], {"X": X_test})[0]
            row["rows with wrong logits"] = f"{int(np.any(logits != expected, axis=1).sum())} / {len(X_test)}"
        rows.append(row)
    float_bulk = rows[0]["10k rows ms"]
    for row in rows:
        row["10k float / this"] = float_bulk / row["10k rows ms"]
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits only, short training")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "onnx_kernels.md"))
    args = parser.parse_args(argv)

    import onnxruntime as ort
    import pandas as pd
    from threadpoolctl import threadpool_limits

    rows = []
    with threadpool_limits(1):
        for name in ["digits"] if args.quick else ["digits", "letter", "mnist", "w2"]:
            rows.extend(measure(name, args.data_dir, args.quick))
            print(pd.DataFrame(rows[-3:]).to_string(index=False), flush=True)
    lines = [
        "# Integer ONNX graph: weight kernels",
        "",
        f"`python benchmarks/onnx_kernels.py{' --quick' if args.quick else ''}` with onnxruntime "
        f"{ort.__version__}, one thread, on: {cpu_description()}.",
        "`10k float / this` is the float graph's 10,000-row time over this graph's (above 1: faster).",
        "`u8 x s8` is timed for comparison only: the exporter does not emit it for 8-bit weights with",
        "8-bit inputs, because it is not exact on x86 without VNNI.",
        "",
        pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g"),
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
