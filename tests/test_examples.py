"""Every example runs as a user would run it, and finishes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Whole scripts end to end: minutes in all. Skip with -m "not slow".
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"


def _run(name, *args):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_quickstart():
    out = _run("quickstart.py")
    assert "4-bit" in out and "2-bit" in out and "compression" in out


def test_grid_search_bits_lambda(tmp_path):
    out = _run("grid_search_bits_lambda.py", "--out", str(tmp_path / "pareto.png"))
    assert (tmp_path / "pareto.png").stat().st_size > 10_000
    assert "mean_test_score" in out and "Pareto-optimal" in out


def test_export_integer_and_onnx():
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    out = _run("export_integer_and_onnx.py")
    assert "agrees with the estimator on 100.00% of rows" in out


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the shared data sets are not at {DATA}")
def test_adult_pipeline():
    out = _run("adult_pipeline.py", "--data-dir", str(DATA))
    assert ">50K" in out and "packed integer model" in out


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the shared data sets are not at {DATA}")
def test_streaming_partial_fit():
    out = _run("streaming_partial_fit.py", "--data-dir", str(DATA), "--passes", "2")
    assert "pass 2: held-out accuracy" in out


def test_plots(tmp_path):
    out = _run("plots.py", "--out-dir", str(tmp_path))
    assert (tmp_path / "weight_grid.png").stat().st_size > 10_000
    assert (tmp_path / "training_curve.png").stat().st_size > 10_000
    assert "saved" in out


def test_plots_without_options_write_nothing():
    """As the documentation build runs it: figures stay open for the gallery, no file is written."""
    before = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], capture_output=True, text=True, cwd=ROOT
    )
    out = _run("plots.py")
    after = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], capture_output=True, text=True, cwd=ROOT
    )
    assert "saved" not in out
    assert after.stdout == before.stdout


def test_dask_search():
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = _run("dask_search.py")
    assert "identical cv scores: True" in out


@pytest.mark.skipif(shutil.which("gcc") is None, reason="the microcontroller example compiles with gcc")
def test_deploy_microcontroller():
    out = _run("deploy_microcontroller.py")
    assert "C logits equal IntegerMLP.integer_logits on every row: True" in out
    assert "C classes equal predict on" in out and "text" in out


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the shared data sets are not at {DATA}")
@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not on the PATH")
def test_deploy_pipeline():
    out = _run("deploy_pipeline.py", "--data-dir", str(DATA))
    assert "IntegerPipeline.predict equals pipeline.predict on 100.00% of the test rows" in out
    assert "C program rows: 16281; equal to pipeline.predict: 100.00%" in out
