"""GPU training (skipped without CUDA): CPU and GPU agree, and a GPU model loads on a CPU-only machine."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from skqat import QuantizedMLPClassifier

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

PARAMS = {
    "hidden_layer_sizes": (32,),
    "weight_bits": 4,
    "max_iter": 40,
    "learning_rate_init": 0.01,
    "random_state": 0,
    "shuffle": False,
}


def _fit_on(device, X, y):
    return QuantizedMLPClassifier(device=device, **PARAMS).fit(X, y)


def test_cuda_and_auto_train_on_the_gpu(iris):
    X, y = iris
    for device in ("cuda", "auto"):
        clf = _fit_on(device, X, y)
        assert next(clf._module.parameters()).is_cuda
        assert clf.score(X, y) > 0.9


def test_cpu_and_gpu_agree(iris):
    X, y = iris
    cpu, gpu = _fit_on("cpu", X, y), _fit_on("cuda", X, y)
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-6)
    assert np.mean(gpu.predict(X) == cpu.predict(X)) >= 0.99


def test_gpu_model_unpickles_without_cuda(tmp_path, iris):
    X, y = iris
    clf = _fit_on("cuda", X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = (
        "import pickle, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        f"clf = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"np.testing.assert_array_equal(clf.predict_proba(np.load({str(tmp_path / 'X.npy')!r})), "
        f"np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
