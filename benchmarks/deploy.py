"""Deployment benchmark: every export target of one model, side by side in one process.

Usage::

    python benchmarks/deploy.py                  # digits, Letter, W2-size at 2, 4 and 8 bits
    python benchmarks/deploy.py --quick          # digits at 4 bits, short training
    python benchmarks/deploy.py --agreement      # also: integer-only agreement at 1, 2, 4, 8 bits
    python benchmarks/deploy.py --pipeline       # whole pipelines from raw columns (Adult, Letter)
    python benchmarks/deploy.py --pipeline --quick --rows 300 --repeats 1   # smoke size

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

``--pipeline`` measures whole fitted pipelines instead, from raw columns
(:func:`pipeline_section`): Adult (``ColumnTransformer`` of imputed and
standardized numeric columns and imputed, one-hot encoded categorical ones)
and Letter (``StandardScaler``), each ending in ``QuantizedMLPClassifier(
weight_bits=4)``, on 10,000 held-out rows (``--rows``; test rows repeated
where there are fewer), one thread, median of ``--repeats`` runs:
``pipeline.predict``; ``skqat.export_integer(pipeline)`` (numpy); its C
header (``IntegerPipeline.to_c``, ``gcc -O2``, ctypes); skl2onnx's pipeline
graph with skqat's converter (float, and ``integer_ops``); and the folded
graph ``skqat.to_onnx(pipeline, X)`` (default, and ``integer_ops``). Then
the C flash size of the folded header against the network's own header
(``pipeline[-1].export_integer().to_c``, whose inputs are the transformed
columns). Writes ``docs/results/deploy_pipeline.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DATASETS, DEFAULT_DATA_DIR, adult_frames, letter_raw  # noqa: E402
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


#: Compilers for flash sizes: label -> (compiler and flags, size tool).
FLASH_TARGETS = {
    "x86-64 gcc -Os": (["gcc", "-std=c99", "-Os"], "size"),
    "cortex-m4 arm-none-eabi-gcc -Os": (
        ["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-Os"],
        "arm-none-eabi-size",
    ),
}


def object_bytes(workdir: Path, call: str, header: str = "m.h", target: str = "x86-64 gcc -Os") -> int:
    """``size`` text + data of an object including ``header`` and defining ``call`` (which calls the
    model's predict, so the compiler keeps its code)."""
    compiler, size = FLASH_TARGETS[target]
    source = workdir / "flash.c"
    source.write_text(f'#include <stdint.h>\n#include "{header}"\n{call}')
    obj = workdir / "flash.o"
    subprocess.run([*compiler, "-c", "-o", str(obj), str(source)], check=True, cwd=workdir)
    text, data = (
        subprocess.run([size, str(obj)], capture_output=True, text=True, check=True)
        .stdout.splitlines()[1]
        .split()[:2]
    )
    return int(text) + int(data)


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
        return object_bytes(workdir, "int call_predict(const float *x) { return m_predict(x); }\n")

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


# ----------------------------------------------------------------------
# --pipeline: whole fitted pipelines from raw columns
# ----------------------------------------------------------------------
#: name -> (hidden layers, epochs): deploy.py's Letter model, Adult as in the agreement table.
PIPELINES = {"adult": ((100,), 10), "letter": ((100,), 30)}

PIPELINE_SYSTEMS = [
    "sklearn pipeline",
    "IntegerPipeline",
    "C header (ctypes)",
    "skl2onnx float",
    "skl2onnx integer_ops",
    "folded ONNX",
    "folded ONNX integer_ops",
]

#: The --pipeline report's description of the pipelines and systems (markdown).
PIPELINE_TEXT = """\
Pipelines, each ending in `QuantizedMLPClassifier(weight_bits=4)` (hidden (100,), 8-bit activations):

- **adult**: `ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
  ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
  categorical)])`, 10 epochs, fitted on the official train file as read (6 int64 columns, 8 string
  columns, "?" as NaN); rows from the test file.
- **letter**: `StandardScaler()`, 30 epochs, on the 16 stored integer features as float32; rows from
  the 5,000 test rows, repeated.

Each system predicts the same {rows:,} rows; times are the median of {repeats} run(s) after a warm-up
(`1 row ms`: median of 5 runs of the mean of repeated one-row calls). Agreement is the fraction of
labels equal to `pipeline.predict`'s on those rows; accuracy is against the true labels; bytes are
`IntegerPipeline.nbytes` or the ONNX file's. `vs X` is X's time over the system's (above 1: faster).

- `sklearn pipeline`: `pipeline.predict(X)` on the raw rows (the reference);
- `IntegerPipeline`: `skqat.export_integer(pipeline).predict(X)` (numpy, fixed point);
- `C header (ctypes)`: `IntegerPipeline.to_c` compiled with `gcc -O2`, one call per batch; its
  category indices are looked up before the call;
- `skl2onnx float` / `skl2onnx integer_ops`: `skl2onnx.to_onnx(pipeline, X)` after
  `skqat.register_skl2onnx()` (`zipmap=False`; skqat's converter with `integer_ops=False` / `True`):
  ai.onnx.ml `Imputer`, `Scaler`, `OneHotEncoder` in float32, then the network's float graph (the
  float predict's fake-quantized arithmetic) or its `QGemm` graph. skl2onnx needs float32 numeric
  columns (onnxruntime's `Imputer` has no double kernel; skl2onnx refuses a mean imputer on int64)
  and converts a string imputer only with a string `missing_values`: it gets a copy of the fitted
  pipeline whose categorical imputer imputes `""` (same statistics), and the same rows with float32
  numeric columns and `""` for missing strings;
- `folded ONNX` / `folded ONNX integer_ops`: `skqat.to_onnx(pipeline, X)` (`integer_ops=False` /
  `True`), one input per raw column (`""` for a missing string)."""

#: The --pipeline report's description of the flash table (markdown).
FLASH_TEXT = """\
`size` text + data of an object compiled from the header and a function calling `NAME_predict` (so
the code is kept): the folded header (`IntegerPipeline.to_c`, raw columns in: numeric values and
category indices) against the network's own header (`pipeline[-1].export_integer().to_c`, the
transformed columns in, one-hot included, preprocessing left to the caller). `nbytes`:
`IntegerPipeline.nbytes` and `IntegerMLP.nbytes`; `header tables bytes`: the header's static const
data, as its banner counts it. Where the network's header stores the one-hot columns' packed
weights, the folded header stores, per categorical column, one row of first-layer accumulators per
category (plus the unknown and missing rows), in the smallest integer type holding them."""


def pipeline_data(name: str, data_dir: str, quick: bool):
    """``(unfitted pipeline, X_train, X_test, y_train, y_test)`` on raw columns.

    Adult: the official files as read (numeric columns int64, categorical
    ones strings, "?" as NaN). Letter: the stored integer features as float32
    (deploy.py's float32 convention).
    """
    from pandas.api.types import is_numeric_dtype
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skqat import QuantizedMLPClassifier

    hidden, epochs = PIPELINES[name]
    if quick:
        epochs = 3
    clf = QuantizedMLPClassifier(hidden_layer_sizes=hidden, weight_bits=4, max_iter=epochs, random_state=0)
    if name == "adult":
        X_train, X_test, y_train, y_test = adult_frames(data_dir)
        categorical = [c for c in X_train.columns if not is_numeric_dtype(X_train[c])]
        numeric = [c for c in X_train.columns if c not in categorical]
        prep = ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                    ),
                    categorical,
                ),
            ]
        )
        y_train, y_test = y_train.to_numpy(), y_test.to_numpy()
    else:
        X_train, X_test, y_train, y_test = letter_raw(data_dir)
        X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
        prep = StandardScaler()
    if quick:
        X_train, y_train = X_train[:3000], y_train[:3000]
    return make_pipeline(prep, clf), X_train, X_test, y_train, y_test


def _take(X, index):
    return X.iloc[index].reset_index(drop=True) if hasattr(X, "iloc") else np.ascontiguousarray(X[index])


def _string_imputers_on_empty(pipeline):
    """A copy of the fitted pipeline whose string ``SimpleImputer``\\ s impute ``""`` instead of NaN.

    skl2onnx converts a string imputer only with a string ``missing_values``
    (string tensors hold no NaN); the fitted statistics are unchanged, so the
    copy on rows with ``""`` for missing computes what the pipeline computes
    on NaN.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    pipeline = copy.deepcopy(pipeline)

    def walk(step):
        if isinstance(step, Pipeline):
            for _, inner in step.steps:
                walk(inner)
        elif isinstance(step, ColumnTransformer):
            for _, inner, _ in step.transformers_:
                walk(inner)
        elif isinstance(step, SimpleImputer) and step.statistics_.dtype == object:
            step.missing_values = ""

    walk(pipeline)
    return pipeline


def skl2onnx_sample(X):
    """What skl2onnx's pipeline graph takes: numeric columns as float32 (ONNX's ``Imputer`` has no
    double kernel in onnxruntime, and skl2onnx refuses a mean imputer on int64), ``""`` for a missing
    string."""
    from pandas.api.types import is_numeric_dtype

    if not hasattr(X, "columns"):
        return np.asarray(X, dtype=np.float32)
    X = X.copy()
    for c in X.columns:
        if is_numeric_dtype(X[c]):
            X[c] = X[c].astype(np.float32)
        else:
            X[c] = X[c].astype(object).where(X[c].notna(), "")
    return X


def ort_feeds(onnx_model, X) -> dict:
    """onnxruntime's inputs of ``onnx_model`` from rows ``X``: one ``(n, 1)`` array per raw column (the
    input named by the column, or with ``-`` as ``_`` as skl2onnx names it), ``""`` for a missing
    string; or ``X`` itself for an array pipeline."""
    from onnx.helper import tensor_dtype_to_np_dtype

    if not hasattr(X, "columns"):
        (graph_input,) = onnx_model.graph.input
        dtype = tensor_dtype_to_np_dtype(graph_input.type.tensor_type.elem_type)
        return {graph_input.name: np.ascontiguousarray(X, dtype=dtype)}
    by_name = {**{c.replace("-", "_"): c for c in X.columns}, **{c: c for c in X.columns}}
    feeds = {}
    for graph_input in onnx_model.graph.input:
        column = X[by_name[graph_input.name]]
        dtype = tensor_dtype_to_np_dtype(graph_input.type.tensor_type.elem_type)
        if dtype.kind in "OSU":
            values = column.astype(object).where(column.notna(), "").to_numpy(dtype=object)
        else:
            values = column.to_numpy(dtype=dtype)
        feeds[graph_input.name] = values.reshape(-1, 1)
    return feeds


class CPipeline:
    """The folded pipeline's C header (``IntegerPipeline.to_c``) compiled with ``gcc -O2`` into a shared
    library, one call per batch. Category indices (``-1`` unknown, ``-2`` missing) are looked up in
    Python, before the call (:meth:`inputs`)."""

    def __init__(self, model, workdir: Path):
        model.to_c(workdir / "m.h", name="m")
        self.model = model
        self.n_numeric, self.n_categorical = len(model.numeric_columns), len(model.categorical_columns)
        if self.n_categorical:
            call = "m_predict(numeric + (long)i * M_N_NUMERIC, category + (long)i * M_N_CATEGORICAL)"
        else:
            call = "m_predict(numeric + (long)i * M_N_NUMERIC)"
        (workdir / "batch.c").write_text(
            '#include <stdint.h>\n#include "m.h"\n'
            "void batch_predict(const float *numeric, const int32_t *category, int n, int *out) {\n"
            + ("    (void)category;\n" if not self.n_categorical else "")
            + f"    for (int i = 0; i < n; ++i) out[i] = {call};\n"
            "}\n"
        )
        library = workdir / "libm_pipeline.so"
        subprocess.run(
            ["gcc", "-std=c99", "-O2", "-shared", "-fPIC", "-o", str(library), "batch.c"],
            check=True,
            cwd=workdir,
        )
        self._lib = ctypes.CDLL(str(library))
        self._lib.batch_predict.argtypes = [
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_int32),
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
        ]

    def inputs(self, X) -> tuple:
        """``(numeric float32 (n, N_NUMERIC), category int32 (n, max(N_CATEGORICAL, 1)))`` of raw rows."""
        import pandas as pd

        model = self.model
        if hasattr(X, "columns"):
            numeric = X[model.numeric_columns].to_numpy(dtype=np.float32, na_value=np.nan)
        else:
            numeric = np.asarray(X, dtype=np.float32)
        category = np.zeros((len(X), max(self.n_categorical, 1)), dtype=np.int32)
        for j, column in enumerate(model.categorical_columns):
            values = X[column]
            index = pd.Index(model.categories(column), dtype=object).get_indexer(values.astype(object))
            category[:, j] = np.where(values.isna().to_numpy(), -2, index)
        return np.ascontiguousarray(numeric), category

    def predict(self, numeric: np.ndarray, category: np.ndarray) -> np.ndarray:
        out = np.empty(len(numeric), dtype=np.intc)
        self._lib.batch_predict(
            numeric.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            category.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            len(numeric),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_int)),
        )
        return self.model.classes_[out]


def flash_sizes(pipeline, model, label: str, workdir: Path) -> list[dict]:
    """C flash bytes (``size`` text + data) and ``nbytes`` of the folded header against the network's
    own header (inputs: the transformed columns), per compiler in :data:`FLASH_TARGETS`."""
    network = pipeline[-1].export_integer()
    network.to_c(workdir / "net.h", name="net")
    if model.categorical_columns:
        folded_call = "int call_predict(const float *n, const int32_t *c) { return m_predict(n, c); }\n"
    else:
        folded_call = "int call_predict(const float *x) { return m_predict(x); }\n"
    n_numeric, n_categorical = len(model.numeric_columns), len(model.categorical_columns)
    exports = {
        "folded: IntegerPipeline.to_c": (
            "m.h",
            folded_call,
            f"{n_numeric + n_categorical} raw ({n_numeric} numeric, {n_categorical} categorical)",
            model.nbytes,
        ),
        "network only: pipeline[-1].export_integer().to_c": (
            "net.h",
            "int call_predict(const float *x) { return net_predict(x); }\n",
            f"{network.n_features_in_} transformed",
            network.nbytes,
        ),
    }
    rows = []
    for export, (header, call, inputs, nbytes) in exports.items():
        # The header's banner counts its static const tables (weights, state rows, constants).
        tables = re.search(r"Tables: (\d+) bytes", (workdir / header).read_text())
        row = {
            "pipeline": label,
            "C header": export,
            "inputs": inputs,
            "nbytes": nbytes,
            "header tables bytes": int(tables.group(1)) if tables else "-",
        }
        for target, (compiler, _) in FLASH_TARGETS.items():
            installed = shutil.which(compiler[0])
            row[target] = object_bytes(workdir, call, header, target) if installed else "not installed"
        rows.append(row)
    return rows


def measure_pipeline(
    name: str, data_dir: str, quick: bool, n_rows: int, repeats: int, workdir: Path
) -> tuple:
    """``(timing rows, size rows, notes)`` of one pipeline, every system on the same ``n_rows`` rows."""
    import skl2onnx
    from sklearn.exceptions import ConvergenceWarning

    import skqat

    pipeline, X_train, X_test, y_train, y_test = pipeline_data(name, data_dir, quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X_train, y_train)
    index = np.resize(np.arange(len(y_test)), n_rows)
    X, y = _take(X_test, index), np.asarray(y_test)[index]
    one = _take(X, [0])

    model = skqat.export_integer(pipeline)
    c_model = CPipeline(model, workdir)
    skqat.register_skl2onnx()
    clf = pipeline[-1]
    peer = _string_imputers_on_empty(pipeline)
    graphs = {
        "skl2onnx float": skl2onnx.to_onnx(
            peer, skl2onnx_sample(_take(X, [0])), options={id(peer[-1]): {"zipmap": False}}
        ),
        "skl2onnx integer_ops": skl2onnx.to_onnx(
            peer,
            skl2onnx_sample(_take(X, [0])),
            options={id(peer[-1]): {"zipmap": False, "integer_ops": True}},
        ),
        "folded ONNX": skqat.to_onnx(pipeline, _take(X, [0])),
        "folded ONNX integer_ops": skqat.to_onnx(pipeline, _take(X, [0]), integer_ops=True),
    }
    # Every system's input is prepared before the clock starts: skl2onnx's float32 columns, the
    # folded graphs' raw columns as tensors, the C header's arrays with the category indices.
    calls = {"sklearn pipeline": (pipeline.predict, X, one), "IntegerPipeline": (model.predict, X, one)}
    calls["C header (ctypes)"] = (lambda a: c_model.predict(*a), c_model.inputs(X), c_model.inputs(one))
    for system, graph in graphs.items():
        session = ort_session(graph)
        label = graph.graph.output[0].name
        rows_of = skl2onnx_sample if system.startswith("skl2onnx") else (lambda a: a)
        calls[system] = (
            lambda feeds, s=session, o=label: s.run([o], feeds)[0],
            ort_feeds(graph, rows_of(X)),
            ort_feeds(graph, rows_of(one)),
        )
    sizes = {system: len(graph.SerializeToString()) for system, graph in graphs.items()}
    sizes["IntegerPipeline"] = model.nbytes

    network = clf.export_integer()
    width = network.n_features_in_
    layers = "-".join(map(str, [width, *clf.hidden_layer_sizes, len(clf.classes_)]))
    label = f"{name} {len(model.columns)} raw cols -> {layers}"
    reference = pipeline.predict(X)
    bulk_column = f"{n_rows:,} rows ms"
    rows = []
    for system in PIPELINE_SYSTEMS:
        predict, bulk, row_input = calls[system]
        labels = np.asarray(predict(bulk)).ravel()
        rows.append(
            {
                "pipeline": label,
                "system": system,
                "agreement": float(np.mean(labels == reference)),
                "accuracy": float(np.mean(labels == y)),
                "bytes": f"{sizes[system]:,}" if system in sizes else "-",
                "1 row ms": one_row_ms(predict, row_input, calls=20 if quick else 200),
                bulk_column: median_ms(lambda p=predict, b=bulk: p(b), repeats),
            }
        )
    times = {r["system"]: r[bulk_column] for r in rows}
    for row in rows:
        for base in ("sklearn pipeline", "skl2onnx float", "skl2onnx integer_ops"):
            row[f"vs {base}"] = times[base] / row[bulk_column]

    feed_ms = median_ms(lambda: ort_feeds(graphs["folded ONNX"], X), repeats)
    c_inputs_ms = median_ms(lambda: c_model.inputs(X), repeats)
    notes = [
        f"{name}: building the folded graph's feeds from the rows takes {feed_ms:.3g} ms, the C header's "
        f"arrays (category indices by pandas) {c_inputs_ms:.3g} ms; neither is in the times above."
    ]
    return rows, flash_sizes(pipeline, model, label, workdir), notes


def targets(rows: list[dict]) -> list[str]:
    """The section's targets, met or missed, per pipeline."""
    lines = []
    for label in dict.fromkeys(r["pipeline"] for r in rows):
        ratio = {r["system"]: r for r in rows if r["pipeline"] == label}
        checks = [
            (
                "IntegerPipeline >= 2x faster than pipeline.predict",
                ratio["IntegerPipeline"]["vs sklearn pipeline"],
                2.0,
            ),
            (
                "folded ONNX integer_ops >= 2x faster than skl2onnx float",
                ratio["folded ONNX integer_ops"]["vs skl2onnx float"],
                2.0,
            ),
            (
                "folded ONNX integer_ops faster than skl2onnx integer_ops",
                ratio["folded ONNX integer_ops"]["vs skl2onnx integer_ops"],
                1.0,
            ),
        ]
        for text, value, goal in checks:
            met = value >= goal if goal > 1.0 else value > goal
            lines.append(f"- {label.split()[0]}: {text}: {value:.2f}x, {'met' if met else 'missed'}")
    return lines


def pipeline_section(args) -> None:
    """``--pipeline``: measure :data:`PIPELINES` and write ``docs/results/deploy_pipeline.md``."""
    import onnxruntime as ort
    import pandas as pd
    import skl2onnx
    import sklearn
    from _machine import cpu_description
    from threadpoolctl import threadpool_limits

    import skqat

    n_rows = args.rows or (500 if args.quick else BULK_ROWS)
    repeats = args.repeats or (1 if args.quick else 7)
    rows, sizes, notes = [], [], []
    with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
        for name in PIPELINES:
            workdir = Path(tmp) / name
            workdir.mkdir()
            timing, size, note = measure_pipeline(name, args.data_dir, args.quick, n_rows, repeats, workdir)
            rows += timing
            sizes += size
            notes += note
            print(pd.DataFrame(timing).to_string(index=False), flush=True)
            print(pd.DataFrame(size).to_string(index=False), flush=True)

    flags = " --pipeline" + (" --quick" if args.quick else "")
    flags += f" --rows {args.rows}" if args.rows else ""
    flags += f" --repeats {args.repeats}" if args.repeats else ""
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    missing = [c[0] for c, _ in FLASH_TARGETS.values() if not shutil.which(c[0])]
    lines = [
        "# Deployment benchmark: whole pipelines from raw columns",
        "",
        f"`python benchmarks/deploy.py{flags}` with skqat {skqat.__version__}, scikit-learn "
        f"{sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnxruntime {ort.__version__}, "
        f"gcc {gcc};\none thread everywhere (BLAS by threadpoolctl, onnxruntime intra- and inter-op), "
        f"on: {cpu_description()}.",
        "",
        PIPELINE_TEXT.format(rows=n_rows, repeats=repeats),
        "",
        "Inputs are prepared before the clock starts (ONNX feeds, the C header's arrays):",
        "",
        *[f"- {note}" for note in notes],
        "",
        pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g"),
        "",
        "## Targets",
        "",
        *targets(rows),
        "",
        "## C flash size",
        "",
        FLASH_TEXT,
        "",
        pd.DataFrame(sizes).to_markdown(index=False, floatfmt=".6g"),
        "",
    ]
    if missing:
        lines += [f"Not measured (not installed here): {', '.join(missing)}.", ""]
    out = Path(args.out or HERE.parent / "docs" / "results" / "deploy_pipeline.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


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
    parser.add_argument(
        "--pipeline", action="store_true", help="whole pipelines from raw columns (writes deploy_pipeline.md)"
    )
    parser.add_argument("--rows", type=int, help="--pipeline: rows per batch (default 10,000; --quick 500)")
    parser.add_argument(
        "--repeats", type=int, help="--pipeline: timed runs per system (default 7; --quick 1)"
    )
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument(
        "--out", help="default docs/results/deploy.md, or docs/results/deploy_pipeline.md with --pipeline"
    )
    args = parser.parse_args(argv)
    if args.pipeline:
        pipeline_section(args)
        return
    args.out = args.out or str(HERE.parent / "docs" / "results" / "deploy.md")

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
