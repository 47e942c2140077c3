"""Properties of the fake-quantization function and its straight-through gradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skqat._functional import fake_quantize, grid_limits, integer_codes, lsq_gradient_scale

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
values = arrays(np.float64, st.integers(1, 40), elements=finite)
scales = scales_strategy = st.floats(1e-3, 1e2)
bit_widths = st.integers(1, 16)


def _quantize(x, scale, zero, bits, signed):
    qmin, qmax = grid_limits(bits, signed)
    xt = torch.tensor(x)
    log_s = torch.tensor(math.log(scale), dtype=torch.float64)
    z = None if zero is None else torch.tensor(float(zero), dtype=torch.float64)
    return fake_quantize(xt, log_s, z, qmin, qmax).numpy(), qmin, qmax


@settings(max_examples=200, deadline=None)
@given(x=values, scale=scales, bits=bit_widths, signed=st.booleans(), zero=st.integers(0, 20))
def test_outputs_lie_on_the_grid_and_in_range(x, scale, bits, signed, zero):
    zero = None if signed else zero
    out, qmin, qmax = _quantize(x, scale, zero, bits, signed)
    # The zero point in use keeps zero on the grid: zp within [qmin, qmax].
    zp = 0 if zero is None else min(max(zero, qmin), qmax)
    levels = out / scale + zp
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-6)
    assert levels.min() >= qmin - 1e-6 and levels.max() <= qmax + 1e-6
    if signed and bits == 1:
        assert set(np.round(levels).tolist()) <= {-1.0, 1.0}


@settings(max_examples=200, deadline=None)
@given(x=values, scale=scales, bits=bit_widths, signed=st.booleans(), zero=st.integers(0, 20))
def test_quantization_is_idempotent(x, scale, bits, signed, zero):
    zero = None if signed else zero
    once, _, _ = _quantize(x, scale, zero, bits, signed)
    twice, _, _ = _quantize(once, scale, zero, bits, signed)
    np.testing.assert_allclose(twice, once, rtol=0, atol=1e-9 * max(1.0, scale))


@settings(max_examples=200, deadline=None)
@given(x=values, scale=scales, bits=st.integers(2, 16))
def test_error_is_at_most_half_a_step_inside_the_range(x, scale, bits):
    out, qmin, qmax = _quantize(x, scale, None, bits, True)
    inside = (x >= qmin * scale) & (x <= qmax * scale)
    assert np.all(np.abs(out - x)[inside] <= scale / 2 * (1 + 1e-9))


def test_worked_example_from_the_design():
    # x = 7.8, s = 2 gives q = 4 and x_hat = 8.
    x = torch.tensor([7.8])
    assert integer_codes(x, torch.tensor(2.0), None, -8, 7).item() == 4
    assert fake_quantize(x, torch.tensor(2.0).log(), None, -8, 7).item() == pytest.approx(8.0)


@pytest.mark.parametrize(
    "bits,signed,expected",
    [
        (1, True, (-1, 1)),
        (2, True, (-2, 1)),
        (8, True, (-128, 127)),
        (8, False, (0, 255)),
        (16, True, (-32768, 32767)),
    ],
)
def test_grid_limits(bits, signed, expected):
    assert grid_limits(bits, signed) == expected


def test_grid_limits_rejects_zero_bits():
    with pytest.raises(ValueError, match="at least 1"):
        grid_limits(0, True)


def _grads(x, scale, zero, qmin, qmax, clipped=True, grad_scale=1.0):
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    log_s = torch.tensor(math.log(scale), dtype=torch.float64, requires_grad=True)
    z = None if zero is None else torch.tensor(float(zero), dtype=torch.float64, requires_grad=True)
    fake_quantize(x, log_s, z, qmin, qmax, grad_scale, clipped).sum().backward()
    return x.grad.numpy(), log_s.grad.item(), None if z is None else z.grad.item()


def test_ste_gradient_is_identity_inside_and_zero_outside_when_clipped():
    # Grid 0.5 * [-8, 7]: range [-4, 3.5].
    x = [-10.0, -4.0, -1.26, 0.0, 3.4, 3.5, 9.0]
    gx, _, _ = _grads(x, 0.5, None, -8, 7)
    np.testing.assert_array_equal(gx, [0, 1, 1, 1, 1, 1, 0])
    gx, _, _ = _grads(x, 0.5, None, -8, 7, clipped=False)
    np.testing.assert_array_equal(gx, np.ones(len(x)))


def test_lsq_scale_gradient_matches_the_documented_formula():
    x = np.array([-10.0, -1.26, 0.3, 3.4, 9.0])
    s, qmin, qmax, g = 0.5, -8, 7, 0.25
    _, g_log_s, _ = _grads(x, s, None, qmin, qmax, grad_scale=g)
    u = x / s
    codes = np.clip(np.round(u), qmin, qmax)
    inside = codes == np.round(u)
    ds = np.where(inside, np.round(u) - u, codes)
    # d/d log_s = s * d/ds, times the LSQ gradient scale.
    assert g_log_s == pytest.approx(ds.sum() * s * g)


def test_zero_point_gradient_is_minus_scale_outside_and_zero_inside():
    # Unsigned 4-bit grid with zp = 8: levels s * ([0, 15] - 8) = [-4, 3.5] at s = 0.5.
    x = [-10.0, 0.3, 1.0, 9.0, 12.0]
    _, _, gz = _grads(x, 0.5, 8, 0, 15)
    # x_hat = s * (q - zp): raising zp lowers the clipped values.
    assert gz == pytest.approx(-3 * 0.5)


def test_binary_grid_gradients():
    x = [-2.0, -0.1, 0.0, 0.4, 3.0]
    gx, g_log_s, _ = _grads(x, 1.0, None, -1, 1)
    np.testing.assert_array_equal(gx, [0, 1, 1, 1, 0])
    assert g_log_s == pytest.approx(sum(np.where(np.array(x) >= 0, 1.0, -1.0)))


def test_lsq_gradient_scale():
    assert lsq_gradient_scale(100, 7) == pytest.approx(1 / math.sqrt(700))


@pytest.mark.parametrize("clipped", [True, False])
@pytest.mark.parametrize("pact", [True, False])
def test_fused_relu_equals_relu_then_quantize(clipped, pact):
    x0 = torch.linspace(-3.0, 12.0, 301, dtype=torch.float64)
    grads = []
    for fused in (True, False):
        x = x0.clone().requires_grad_(True)
        log_s = torch.tensor(math.log(0.7), dtype=torch.float64, requires_grad=True)
        if fused:
            out = fake_quantize(x, log_s, None, 0, 15, 0.3, clipped, pact, relu=True)
        else:
            out = fake_quantize(torch.relu(x), log_s, None, 0, 15, 0.3, clipped, pact)
        weights = torch.cos(torch.arange(301, dtype=torch.float64))  # a non-trivial upstream gradient
        (out * weights).sum().backward()
        grads.append((out.detach(), x.grad, log_s.grad))
    for fused, plain in zip(*grads):
        torch.testing.assert_close(fused, plain)


def test_relu_fusion_needs_an_unsigned_grid():
    with pytest.raises(ValueError, match="unsigned"):
        fake_quantize(torch.ones(3), torch.tensor(0.0), None, -8, 7, relu=True)


@settings(max_examples=150, deadline=None)
@given(
    bits=st.integers(1, 16),
    symmetric=st.booleans(),
    rows=st.integers(1, 6),
    data=st.data(),
)
def test_per_channel_grids_hold_every_row_on_its_own_grid(bits, symmetric, rows, data):
    cols = data.draw(st.integers(1, 12))
    x = data.draw(arrays(np.float64, (rows, cols), elements=finite))
    scales = np.array(data.draw(st.lists(scales_strategy, min_size=rows, max_size=rows)))[:, None]
    signed = symmetric
    qmin, qmax = grid_limits(bits, signed)
    zero = (
        None
        if symmetric
        else np.array(data.draw(st.lists(st.integers(0, qmax), min_size=rows, max_size=rows)), dtype=float)[
            :, None
        ]
    )
    out = fake_quantize(
        torch.tensor(x),
        torch.tensor(np.log(scales)),
        None if zero is None else torch.tensor(zero),
        qmin,
        qmax,
    ).numpy()
    levels = out / scales + (0 if zero is None else zero)
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-6)
    assert levels.min() >= qmin - 1e-6 and levels.max() <= qmax + 1e-6
