"""The LSQ quantizer module: initialisation from statistics, learning, grids."""

import numpy as np
import pytest
import torch

from skqat import QuantizedMLPClassifier
from skqat._quantizers import LSQQuantizer, make_quantizer


def _quantizer(bits, signed=True, symmetric=True, n_channels=None):
    shape = () if n_channels is None else (n_channels, 1)
    return LSQQuantizer(
        bits, signed=signed, symmetric=symmetric, param_shape=shape, group_size=64, dtype=torch.float64
    )


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_initialisation_beats_the_min_max_grid(bits):
    x = torch.randn(64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    quantizer = _quantizer(bits)
    quantizer.initialize(x)
    err = (quantizer(x) - x).square().sum()
    # The min-max grid: the largest magnitude maps to the largest code.
    naive = _quantizer(bits)
    with torch.no_grad():
        naive.log_scale.fill_(float(torch.log(x.abs().max() / naive.qmax)))
    naive_err = (naive(x) - x).square().sum()
    assert bool(quantizer.initialized)
    assert err <= naive_err


def test_per_channel_initialisation_gives_one_scale_per_row():
    # Row i is row 0 stretched by i + 1: its error-minimising grid is stretched alike.
    x = torch.linspace(-1.0, 1.0, 30, dtype=torch.float64) * torch.arange(1, 6, dtype=torch.float64)[:, None]
    quantizer = _quantizer(4, n_channels=5)
    quantizer.initialize(x)
    scales = quantizer.effective_scale().ravel()
    assert scales.shape == (5,)
    torch.testing.assert_close(scales, scales[0] * torch.arange(1, 6, dtype=torch.float64))


def test_asymmetric_grid_covers_a_shifted_range():
    x = torch.linspace(2.0, 10.0, 200, dtype=torch.float64)
    quantizer = _quantizer(4, signed=False, symmetric=False)
    quantizer.initialize(x)
    out = quantizer(x)
    assert quantizer.zero_point is not None
    assert (out - x).abs().max() <= quantizer.effective_scale() / 2 + 1e-12
    assert len(torch.unique(out)) <= 16


def test_binary_initialisation_is_mean_absolute_value():
    x = torch.tensor([-3.0, -1.0, 1.0, 3.0], dtype=torch.float64)
    quantizer = _quantizer(1)
    quantizer.initialize(x)
    assert quantizer.effective_scale().item() == pytest.approx(2.0)
    torch.testing.assert_close(quantizer(x), torch.tensor([-2.0, -2.0, 2.0, 2.0], dtype=torch.float64))


def test_all_zero_tensor_gets_a_usable_grid():
    quantizer = _quantizer(8, signed=False)
    quantizer.initialize(torch.zeros(10, 10, dtype=torch.float64))
    assert torch.isfinite(quantizer.log_scale).all() and quantizer.effective_scale() > 1e-6


def test_make_quantizer_none_bits_means_float():
    assert make_quantizer("lsq", "weight", None, signed=True, symmetric=True, group_size=1) is None


def test_scales_and_zero_points_are_learned(iris):
    X, y = iris
    params = dict(
        hidden_layer_sizes=(16,),
        weight_bits=3,
        symmetric=False,
        learning_rate_init=0.01,
        batch_size=32,
        random_state=0,
    )
    start = QuantizedMLPClassifier(max_iter=1, **params).fit(X, y)
    trained = QuantizedMLPClassifier(max_iter=100, **params).fit(X, y)
    before = start.quantization_report()
    after = trained.quantization_report()
    rows = before["tensor"].isin(["weight", "activation"])
    assert not np.allclose(before.loc[rows, "scale"].astype(float), after.loc[rows, "scale"].astype(float))
    assert all(s > 0 for s in after.loc[rows, "scale"])


def test_zero_point_parameter_receives_gradient(iris):
    X, y = iris
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(16,), weight_bits=2, symmetric=False, max_iter=1, batch_size=32, random_state=0
    )
    clf.fit(X, y)
    quantizer = clf._module.layers[0].weight_quantizer
    initial = quantizer.zero_point.detach().clone()
    clf.set_params(warm_start=True).fit(X, y)
    assert not torch.equal(quantizer.zero_point.detach(), initial)
