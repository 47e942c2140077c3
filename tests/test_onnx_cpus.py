"""The integer ONNX graph on an x86 CPU without VNNI, emulated, whatever CPU runs the tests.

onnxruntime picks its ``uint8 x int8`` kernel from the CPU: with VNNI it
accumulates in int32; on AVX2 without VNNI (``VPMADDUBSW``) it adds pairs of
products in saturating int16. The graphs are run here under ``qemu-x86_64
-cpu EPYC-Rome`` (AVX2 and FMA, no AVX-512, no VNNI), whose CPUID makes
onnxruntime take the AVX2 kernels, so both kinds are checked on every
machine: natively by ``test_onnx.py``, emulated here.
"""

import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor, to_onnx

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
from test_onnx import _stress_rows, _task_data  # noqa: E402

from skqat.export import _onnx_integer  # noqa: E402  (needs onnx)

#: A CPU model with AVX2 and FMA and no VNNI (an AMD EPYC 7002), as qemu names it.
EMULATED_CPU = "EPYC-Rome"
QEMU = shutil.which("qemu-x86_64")

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64" or (QEMU is None and not os.environ.get("SKQAT_REQUIRE_QEMU")),
    reason="needs an x86_64 host and qemu-user's qemu-x86_64 (apt-get install qemu-user); CI installs it",
)

#: 8-bit weights (the default model) in several forms, and one narrower control.
CONFIGS = {
    "default": ("multiclass", dict(weight_bits=8)),
    "per-channel-asymmetric-tanh": (
        "multilabel",
        dict(weight_bits=8, granularity="per_channel", symmetric=False, activation="tanh", input_bits=8),
    ),
    "regressor-identity": (
        "regressor",
        dict(weight_bits=8, granularity="per_channel", activation="identity", input_bits=6),
    ),
    "minmax-logistic": (
        "multiclass",
        dict(weight_bits=8, symmetric=False, activation="logistic", quantizer="minmax"),
    ),
    "4-bit": ("binary", dict(weight_bits=4, granularity="per_channel", symmetric=False, input_bits=8)),
    "per-feature-raw-columns": (
        "raw",
        dict(weight_bits=8, input_bits=8, input_granularity="per_feature", symmetric=False),
    ),
}

CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    result = {}
    for name in json.loads(sys.argv[2]):
        base = sys.argv[1] + "/" + name
        session = ort.InferenceSession(base + ".onnx", options, providers=["CPUExecutionProvider"])
        logits = session.run(["logits"], {"X": np.load(base + "_X.npy")})[0]
        result[name] = int(np.any(logits != np.load(base + "_logits.npy"), axis=1).sum())
    print(json.dumps(result))
    """
)


def _emulated_mismatches(directory, names):
    """Rows whose int32 logits differ from the reference, per model, run on the emulated CPU."""
    script = directory / "child.py"
    script.write_text(CHILD)
    completed = subprocess.run(
        [
            QEMU or "qemu-x86_64",
            "-cpu",
            EMULATED_CPU,
            sys.executable,
            str(script),
            str(directory),
            json.dumps(names),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _save(directory, name, model, rows):
    reference = model.export_integer(requantize="float32")
    (directory / f"{name}.onnx").write_bytes(to_onnx(model, rows[:1], integer_ops=True).SerializeToString())
    np.save(directory / f"{name}_X.npy", rows)
    np.save(directory / f"{name}_logits.npy", reference.integer_logits(reference.quantize_input(rows)))


def _model(task, params):
    X, y = _task_data(task)
    params = {"hidden_layer_sizes": (16,), "max_iter": 15, "random_state": 0, **params}
    estimator = QuantizedMLPRegressor if task in ("regressor", "poisson") else QuantizedMLPClassifier
    model = estimator(**params).fit(X, y)
    rows = _stress_rows(X, np.asarray(model.export_integer().input_grid.scale)).astype(np.float32)
    return model, rows


def test_integer_graph_is_bit_exact_without_vnni(tmp_path, monkeypatch):
    for name, (task, params) in CONFIGS.items():
        _save(tmp_path, name, *_model(task, params))
    # Control: the default model with uint8 x int8 weights everywhere, which this CPU's kernels
    # saturate; it must go wrong here, or the emulation is not reaching the int16 kernels.
    model, rows = _model(*CONFIGS["default"])
    monkeypatch.setattr(_onnx_integer, "_signed_weights_exact", lambda layer, grid: True)
    _save(tmp_path, "control-int8-weights", model, rows)
    mismatches = _emulated_mismatches(tmp_path, [*CONFIGS, "control-int8-weights"])
    assert mismatches.pop("control-int8-weights") > 0
    assert mismatches == dict.fromkeys(CONFIGS, 0)


PIPELINE_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    feeds = dict(np.load(sys.argv[1] + "/feeds.npz"))
    feeds = {k: v.astype(object) if v.dtype.kind == "U" else v for k, v in feeds.items()}
    expected = np.load(sys.argv[1] + "/logits.npy")
    for name in ("pipeline", "control"):
        path = sys.argv[1] + "/" + name + ".onnx"
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        logits = session.run(["logits"], feeds)[0]
        print(int(np.any(logits != expected, axis=1).sum()), len(logits))
    """
)


def test_pipeline_integer_graph_is_bit_exact_without_vnni(tmp_path, monkeypatch):
    """A folded pipeline's integer graph (numeric codes into QGemm, categorical rows added to its C)
    with 8-bit weights gives the float32-requantized model's int32 logits on the AVX2 kernels too;
    the same graph with int8 weights (the control) does not."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import skqat

    rng = np.random.default_rng(0)
    n = 600
    numeric = [f"x{i}" for i in range(12)]
    frame = pd.DataFrame(rng.normal(0, 1, (n, len(numeric))) * np.arange(1, 13), columns=numeric)
    frame["c"] = rng.choice(["x", "y", "z", "w"], n)
    frame["d"] = rng.choice(["p", "q"], n)
    frame.loc[rng.random(n) < 0.05, "x0"] = np.nan
    y = (frame[numeric[1:]].sum(axis=1) > 0) ^ (frame["c"] == "x")
    pipe = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            (OneHotEncoder(handle_unknown="ignore"), ["c", "d"]),
        ),
        QuantizedMLPClassifier(hidden_layer_sizes=(32,), weight_bits=8, max_iter=15, random_state=0),
    ).fit(frame, y)
    rows = frame.copy()
    # Codes at the grid's ends (all of one sign per row): where int16 pair sums saturate.
    rows[numeric] = (
        np.sign(rng.normal(size=(n, 1))) * np.abs(rows[numeric].fillna(0)) * rng.uniform(0.5, 8, (n, 1))
    )
    onx = skqat.to_onnx(pipe, rows[:1], integer_ops=True)
    (tmp_path / "pipeline.onnx").write_bytes(onx.SerializeToString())
    monkeypatch.setattr(_onnx_integer, "_signed_weights_exact", lambda layer, grid: True)
    control = skqat.to_onnx(pipe, rows[:1], integer_ops=True)
    (tmp_path / "control.onnx").write_bytes(control.SerializeToString())
    feeds = {
        name: (
            rows[name].to_numpy(dtype=str) if name in ("c", "d") else rows[name].to_numpy(np.float64)
        ).reshape(-1, 1)
        for name in rows.columns
    }
    np.savez(tmp_path / "feeds.npz", **feeds)
    reference = skqat.export_integer(pipe, requantize="float32")
    np.save(tmp_path / "logits.npy", reference.integer_logits(*reference.quantize_input(rows)))
    script = tmp_path / "child.py"
    script.write_text(PIPELINE_CHILD)
    done = subprocess.run(
        [QEMU or "qemu-x86_64", "-cpu", EMULATED_CPU, sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    mismatches, compared, control_mismatches, _ = map(int, done.stdout.split()[-4:])
    assert (mismatches, compared) == (0, n)
    assert control_mismatches > 0, "the emulation does not reach the saturating int16 kernels"
