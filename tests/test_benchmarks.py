"""Smoke runs of the benchmark and experiment scripts (their --quick modes)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

# Whole scripts end to end: minutes in all. Skip with -m "not slow".
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *args, timeout=600):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_experiments_quick(tmp_path):
    pytest.importorskip("tabulate", reason="pandas' markdown tables need tabulate (the test extra has it)")
    stdout = _run("experiments.py", "--quick", "--out", str(tmp_path))
    text = (tmp_path / "experiments.md").read_text()
    for section in [
        "Experiment A",
        "Experiment B",
        "Budget",
        "bit_lambda",
        "Low-bit levers",
        "SGD against Adam",
        "Brevitas",
    ]:
        assert section in text
    results = pd.read_csv(tmp_path / "experiments.csv")
    bits = results[results["kind"] == "bits"]
    assert set(bits["quantizer"]) == {"lsq", "pact", "minmax", "noise", "penalty"}
    assert results["accuracy"].between(0, 1).all()
    # Every quantized digits model beats chance (10 classes) even after 10 epochs.
    assert (bits["accuracy"] > 0.2).all()
    # The budget holds in every learned fit.
    learned = results[(results["kind"] == "budget") & (results["method"] == "target_bits")]
    assert len(learned) and (learned["mean_bits"] <= 2.5).all()
    assert results.loc[results["kind"] == "sgd", "scale_movement"].dropna().gt(1.0).all()
    assert "wrote" in stdout


def test_benchmark_quick(tmp_path):
    out = tmp_path / "benchmark.md"
    stdout = _run("run.py", "--quick", "--out", str(out))
    text = out.read_text()
    assert "| W1 | sklearn |" in text and "| W1 | skqat-4bit |" in text
    assert "fit / sklearn" in stdout


def test_deploy_quick(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    out = tmp_path / "deploy.md"
    _run("deploy.py", "--quick", "--agreement", "--out", str(out))
    text = out.read_text()
    for system in ["estimator", "IntegerMLP", "ORT float", "ORT integer", "C (ctypes)", "sklearn MLP"]:
        assert f"| {system}" in text
    assert "Integer-only model against predict" in text and (tmp_path / "deploy.png").stat().st_size > 10_000


def test_deploy_pipeline_quick(tmp_path):
    pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
    pytest.importorskip("tabulate", reason="pandas' markdown tables need tabulate (the test extra has it)")
    out = tmp_path / "deploy_pipeline.md"
    _run("deploy.py", "--pipeline", "--quick", "--rows", "200", "--repeats", "1", "--out", str(out))
    text = out.read_text()
    # The CPU and its VNNI flags are recorded; the batch is the rows asked for.
    assert "with avx" in text or "no VNNI" in text
    assert "200 rows ms" in text
    for name in ["adult", "letter"]:
        lines = [line for line in text.splitlines() if line.startswith(f"| {name} ")]
        systems = [line.split("|")[2].strip() for line in lines]
        # Seven timed systems, then the two C headers of the flash table.
        assert systems[:7] == [
            "sklearn pipeline",
            "IntegerPipeline",
            "C header (ctypes)",
            "skl2onnx float",
            "skl2onnx integer_ops",
            "folded ONNX",
            "folded ONNX integer_ops",
        ]
        agreement = {s: float(line.split("|")[3]) for s, line in zip(systems[:7], lines)}
        # The exact paths compute pipeline.predict's labels on every row.
        for exact in ["sklearn pipeline", "IntegerPipeline", "C header (ctypes)", "folded ONNX"]:
            assert agreement[exact] == 1.0
        assert all(0.9 <= a <= 1.0 for a in agreement.values())
        assert [s.split(":")[0] for s in systems[7:]] == ["folded", "network only"]
        assert sum(f"- {name}: " in line for line in text.splitlines()) == 4  # the feeds note, 3 targets
    assert "## Targets" in text and "## C flash size" in text


@pytest.mark.parametrize("path", [[], ["--autograd"]], ids=["explicit", "autograd"])
def test_profile_fit_runs(path):
    stdout = _run("profile_fit.py", "--epochs", "2", "--rows", "40", *path)
    assert "us per step" in stdout and "aten::mm" in stdout
    # The explicit path records no autograd nodes; the autograd path does.
    assert ("AddmmBackward" in stdout) == bool(path)


@pytest.mark.parametrize("kernels", [[], ["--torch-kernels"]], ids=["fused", "torch"])
def test_profile_fit_python_profile_shows_the_fake_quantize_kernels(kernels):
    stdout = _run("profile_fit.py", "--epochs", "2", "--rows", "60", "--python", *kernels)
    assert "us per step" in stdout and "function calls" in stdout
    # The fused C kernels appear as calls into the extension, and only when used.
    assert ("_fused_quant.forward" in stdout) == (not kernels)
    assert ("hardtanh_backward" in stdout) == bool(kernels)


def test_raw_columns_quick(tmp_path):
    out = tmp_path / "raw_columns.md"
    _run("raw_columns.py", "--quick", "--out", str(out))
    table = out.read_text()
    assert "| digits" in table and "raw, per feature" in table and "float, raw" in table


def test_input_widths_quick(tmp_path):
    pytest.importorskip("matplotlib", reason="the figures need the plot extra")
    _run("input_widths.py", "--quick", "--n-jobs", "1", "--out", str(tmp_path))
    table = (tmp_path / "input_widths.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| digits")]
    assert len(rows) == 3 and "learned - KBins" in table
    results = pd.read_csv(tmp_path / "input_widths.csv")
    learned = results[results["method"] == "learned"]
    assert (learned["mean_bits"] <= learned["bits"]).all()
    assert (tmp_path / "input_widths.png").stat().st_size > 0
    assert (tmp_path / "input_bits_per_feature.png").stat().st_size > 0


def test_onnx_kernels_quick(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    out = tmp_path / "onnx_kernels.md"
    _run("onnx_kernels.py", "--quick", "--out", str(out))
    text = out.read_text()
    # The exported graph is exact on this CPU, whichever kind it is.
    (row,) = [line for line in text.splitlines() if line.startswith("| digits 64-100-10 | integer ")]
    assert "| 0 / 450 " in row


def test_defaults_quick(tmp_path):
    pytest.importorskip("tabulate", reason="pandas' markdown tables need tabulate (the test extra has it)")
    out = tmp_path / "defaults.md"
    _run("defaults.py", "--quick", "--out", str(out))
    (row,) = [line for line in out.read_text().splitlines() if line.startswith("| digits")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # After: predict is export_integer(), on every test row.
    assert cells[6] == "1.0000"
    rows = pd.read_csv(out.with_suffix(".csv"))
    assert set(rows["arithmetic"]) == {"float", "integer"}


def test_agreement_quick(tmp_path):
    pytest.importorskip("tabulate", reason="pandas' markdown tables need tabulate (the test extra has it)")
    out = tmp_path / "agreement.md"
    _run("agreement.py", "--quick", "--out", str(out))
    text = out.read_text()
    assert "predict vs export_integer: 0" in text and "predict_proba vs export_integer: 0" in text
