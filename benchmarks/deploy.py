"""Deployment benchmark: every export target of one model, side by side in one process.

Usage::

    python benchmarks/deploy.py                  # digits, Letter, W2-size at 2, 4 and 8 bits
    python benchmarks/deploy.py --quick          # digits at 4 bits, short training
    python benchmarks/deploy.py --agreement      # also: integer-only agreement at 1, 2, 4, 8 bits

For each model (a ``QuantizedMLPClassifier`` trained on float32 features, 8-bit
activations) it compares, on the same held-out rows and single-threaded
(numpy's BLAS limited to one thread, onnxruntime with one intra-op thread):

- ``estimator.predict`` (numpy, float);
- ``IntegerMLP.predict``, the integer-only numpy reference (fixed point);
- onnxruntime on the float graph, ``to_onnx(clf, X32)``;
- onnxruntime on the integer graph, ``to_onnx(clf, X32, integer_ops=True)``;
- the C header (``IntegerMLP.to_c``) compiled with ``gcc -O2`` into a shared
  library and called through ctypes, one call per batch;
- scikit-learn's ``MLPClassifier.predict`` (same architecture and epochs).

Columns: label agreement with ``estimator.predict``, accuracy, packed bytes
(``IntegerMLP.nbytes``), C flash bytes (``size`` text + data of the header
compiled with ``gcc -Os``), ONNX file bytes, and the median latency of one row
and of 10,000 rows (the test rows tiled). Ratios are against the ORT float
graph of the same model, measured in the same run.

``--agreement`` adds a table of the integer-only model against ``predict``
(agreement and accuracy) at 1, 2, 4 and 8 bits on digits, Letter, Adult,
MNIST and the W2 problem, for models trained without ``input_bits`` (the
integer model's 8-bit input grid is calibrated at the end of fit), with
``input_bits=8``, and with ``input_bits=8, bias_bits=32``.

Writes ``docs/results/deploy.md`` and ``docs/results/deploy.png`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DATASETS, DEFAULT_DATA_DIR  # noqa: E402
from _workloads import w2_data  # noqa: E402

BULK_ROWS = 10_000

#: name -> (loader, hidden layers, epochs)
MODELS = {
    "digits": ("digits", (100,), 200),
    "letter": ("letter", (100,), 30),
    "w2": ("w2", (256, 128), 10),
}

#: Grids trained for a row-for-row integer deployment.
BOTH = {"input_bits": 8, "bias_bits": 32}

SYSTEMS = ["estimator", "IntegerMLP", "ORT float", "ORT integer", "C (ctypes)", "sklearn MLP"]


def load(name: str, data_dir: str, quick: bool):
    """Train/test split as float32 features."""
    if name == "w2":
        from sklearn.model_selection import train_test_split

        X, y = w2_data(6_000 if quick else 40_000)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    else:
        X_train, X_test, y_train, y_test = DATASETS[name](data_dir)
    return (
        np.asarray(X_train, np.float32),
        np.asarray(X_test, np.float32),
        np.asarray(y_train),
        np.asarray(y_test),
    )


def median_ms(call, repeats: int) -> float:
    """Median wall time of ``call()`` in milliseconds, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def one_row_ms(predict, row, calls: int = 200) -> float:
    """Median over 5 runs of the mean time of ``calls`` one-row predictions."""
    predict(row)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            predict(row)
        runs.append((time.perf_counter() - start) / calls)
    return float(np.median(runs) * 1e3)


class CModel:
    """The C header compiled into a shared library, called through ctypes."""

    def __init__(self, model, workdir: Path):
        header = model.to_c(workdir / "m.h", name="m")
        n_features = model.n_features_in_
        wrapper = workdir / "wrapper.c"
        wrapper.write_text(
            '#include "m.h"\n'
            "void batch_predict(const float *x, int n, int *out) {\n"
            f"    for (int i = 0; i < n; ++i) out[i] = m_predict(x + (long)i * {n_features});\n"
            "}\n"
        )
        library = workdir / "libm_model.so"
        subprocess.run(
            ["gcc", "-std=c99", "-O2", "-shared", "-fPIC", "-o", str(library), str(wrapper)],
            check=True,
            cwd=workdir,
        )
        self.flash_bytes = self._flash_bytes(header, workdir)
        self._lib = ctypes.CDLL(str(library))
        self._lib.batch_predict.argtypes = [
            ctypes.POINTER(ctypes.c_float),
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
        ]
        self.n_features = n_features

    @staticmethod
    def _flash_bytes(header: Path, workdir: Path) -> int:
        """``size`` text + data of an object that calls ``m_predict`` (``gcc -Os``)."""
        source = workdir / "flash.c"
        source.write_text('#include "m.h"\nint call_predict(const float *x) { return m_predict(x); }\n')
        obj = workdir / "flash.o"
        subprocess.run(["gcc", "-std=c99", "-Os", "-c", "-o", str(obj), str(source)], check=True, cwd=workdir)
        text, data = (
            subprocess.run(["size", str(obj)], capture_output=True, text=True, check=True)
            .stdout.splitlines()[1]
            .split()[:2]
        )
        return int(text) + int(data)

    def predict_indices(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        out = np.empty(len(X), dtype=np.intc)
        self._lib.batch_predict(
            X.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            len(X),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_int)),
        )
        return out


def ort_session(onnx_model):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def measure(name: str, bits: int, data_dir: str, quick: bool, workdir: Path) -> list[dict]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from skqat import QuantizedMLPClassifier, to_onnx

    loader, hidden, epochs = MODELS[name]
    if quick:
        epochs = min(epochs, 20)
    X_train, X_test, y_train, y_test = load(loader, data_dir, quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = QuantizedMLPClassifier(
            hidden_layer_sizes=hidden, weight_bits=bits, max_iter=epochs, random_state=0
        ).fit(X_train, y_train)
        peer = MLPClassifier(hidden_layer_sizes=hidden, max_iter=epochs, random_state=0).fit(X_train, y_train)
    integer = clf.export_integer()
    float_graph = to_onnx(clf, X_test[:1])
    int_graph = to_onnx(clf, X_test[:1], integer_ops=True)
    float_session, int_session = ort_session(float_graph), ort_session(int_graph)
    c_model = CModel(integer, workdir)
    classes = clf.classes_

    predictors = {
        "estimator": clf.predict,
        "IntegerMLP": integer.predict,
        "ORT float": lambda X: float_session.run(["label"], {"X": X})[0],
        "ORT integer": lambda X: int_session.run(["label"], {"X": X})[0],
        "C (ctypes)": lambda X: classes[c_model.predict_indices(X)],
        "sklearn MLP": peer.predict,
    }
    reference = clf.predict(X_test)
    bulk = np.ascontiguousarray(np.resize(X_test, (BULK_ROWS, X_test.shape[1])))
    sizes = {
        "IntegerMLP": integer.nbytes,
        "ORT float": len(float_graph.SerializeToString()),
        "ORT integer": len(int_graph.SerializeToString()),
        "C (ctypes)": c_model.flash_bytes,
    }
    rows = []
    for system, predict in predictors.items():
        labels = np.asarray(predict(X_test))
        rows.append(
            {
                "model": f"{name} {'-'.join(map(str, [X_train.shape[1], *hidden, len(classes)]))}",
                "bits": bits,
                "system": system,
                "agreement": float(np.mean(labels == reference)),
                "accuracy": float(np.mean(labels == y_test)),
                "bytes": sizes.get(system, np.nan),
                "1 row ms": one_row_ms(predict, X_test[:1], calls=50 if quick else 200),
                "10k rows ms": median_ms(lambda p=predict: p(bulk), 3 if quick else 7),
            }
        )
    float_bulk = next(r["10k rows ms"] for r in rows if r["system"] == "ORT float")
    for row in rows:
        row["10k vs ORT float"] = float_bulk / row["10k rows ms"]
    return rows


def agreement_table(data_dir: str, quick: bool) -> list[dict]:
    """Integer-only model against ``predict`` at 1, 2, 4 and 8 bits."""
    from sklearn.exceptions import ConvergenceWarning

    from skqat import QuantizedMLPClassifier

    settings = {"digits": ((100,), 200), "letter": ((100,), 30), "adult": ((100,), 10), "mnist": ((256,), 20)}
    settings["w2"] = ((256, 128), 10)
    if quick:
        settings = {"digits": ((100,), 20)}
    rows = []
    for name, (hidden, epochs) in settings.items():
        X_train, X_test, y_train, y_test = load(name, data_dir, quick)
        for bits in (1, 2, 4, 8):
            row = {"data set": name, "bits": bits, "test rows": len(X_test)}
            # Without input_bits the integer model quantizes the features on the
            # 8-bit grid calibrated at the end of fit, which predict does not;
            # with input_bits=8 training sees that rounding too.
            # With bias_bits=32 as well, predict adds the int32 bias the integer model adds.
            for grids, suffix in (({}, ""), ({"input_bits": 8}, " (in8)"), (BOTH, " (in8, b32)")):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf = QuantizedMLPClassifier(
                        hidden_layer_sizes=hidden, weight_bits=bits, max_iter=epochs, random_state=0, **grids
                    ).fit(X_train, y_train)
                predicted = clf.predict(X_test)
                integer = clf.export_integer().predict(X_test)
                row[f"predict acc{suffix}"] = float(np.mean(predicted == y_test))
                row[f"integer acc{suffix}"] = float(np.mean(integer == y_test))
                row[f"agreement{suffix}"] = float(np.mean(integer == predicted))
            rows.append(row)
            print(rows[-1], flush=True)
    return rows


def chart(rows: list[dict], path: Path) -> bool:
    """10,000-row latency per system, one group of bars per model and bit width."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups = list(dict.fromkeys((r["model"], r["bits"]) for r in rows))
    fig, ax = plt.subplots(figsize=(2.0 + 1.1 * len(groups), 4.0))
    width = 0.8 / len(SYSTEMS)
    for i, system in enumerate(SYSTEMS):
        values = [
            next(r["10k rows ms"] for r in rows if (r["model"], r["bits"]) == g and r["system"] == system)
            for g in groups
        ]
        ax.bar([k + i * width for k in range(len(groups))], values, width, label=system)
    ax.set_yscale("log")
    ax.set_xticks(
        [k + 0.4 - width / 2 for k in range(len(groups))], [f"{m.split()[0]}\n{b}-bit" for m, b in groups]
    )
    ax.set_ylabel("10,000-row predict, ms (1 thread)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits at 4 bits, short training")
    parser.add_argument("--agreement", action="store_true", help="add the 1/2/4/8-bit agreement table")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "deploy.md"))
    args = parser.parse_args(argv)

    import onnxruntime as ort
    import pandas as pd
    from threadpoolctl import threadpool_limits

    import skqat

    models = ["digits"] if args.quick else list(MODELS)
    bit_widths = [4] if args.quick else [2, 4, 8]
    rows = []
    with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
        for name in models:
            for bits in bit_widths:
                workdir = Path(tmp) / f"{name}{bits}"
                workdir.mkdir()
                rows.extend(measure(name, bits, args.data_dir, args.quick, workdir))
                print(pd.DataFrame(rows[-len(SYSTEMS) :]).to_string(index=False), flush=True)
        agreement = agreement_table(args.data_dir, args.quick) if args.agreement else []

    out = Path(args.out)
    frame = pd.DataFrame(rows)
    flags = (" --quick" if args.quick else "") + (" --agreement" if args.agreement else "")
    lines = [
        "# Deployment benchmark",
        "",
        f"`python benchmarks/deploy.py{flags}` with skqat {skqat.__version__}, onnxruntime "
        f"{ort.__version__}, gcc; one thread everywhere.",
        "Agreement is with `estimator.predict` on the held-out rows; bytes are `IntegerMLP.nbytes`"
        " (packed), the C object's text + data (`gcc -Os`, `size`), or the ONNX file.",
        "`10k vs ORT float` is the ORT float graph's 10,000-row time over the system's.",
        "",
        frame.to_markdown(index=False, floatfmt=".4g"),
        "",
    ]
    if agreement:
        lines += [
            "## Integer-only model against predict",
            "",
            "`export_integer()` (fixed point) against the estimator's `predict` on the held-out rows.",
            "Without `input_bits` the integer model's 8-bit input grid is calibrated at the end of fit",
            "(predict does not quantize the features); `(in8)` columns train with `input_bits=8`, and",
            "`(in8, b32)` with `input_bits=8, bias_bits=32` (predict then adds the int32 bias too).",
            "Hidden (100,), except MNIST (256,) and W2 (256, 128); epochs as in `benchmarks/run.py`.",
            "",
            pd.DataFrame(agreement).to_markdown(index=False, floatfmt=".4g"),
            "",
        ]
    if chart(rows, out.with_suffix(".png")):
        lines += [f"![10,000-row latency]({out.with_suffix('.png').name})", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
