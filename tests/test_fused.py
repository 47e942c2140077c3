"""The fused C fake-quantize kernels (skqat._fused) against the torch kernels they replace."""

import os

import pytest
import torch

from skqat import QuantizedMLPClassifier, _fused
from skqat._functional import fake_quantize, fake_quantize_backward, fake_quantize_forward, grid_limits

# These compare the C kernels with the torch kernels. Without the extension
# there is nothing to compare: only an install told to skip it
# (SKQAT_NO_EXTENSION=1, CI's fallback leg) may run without them, and
# tests/test_extension.py fails any other install that lacks them.
pytestmark = pytest.mark.skipif(
    os.environ.get("SKQAT_NO_EXTENSION") == "1" and not _fused.available,
    reason="SKQAT_NO_EXTENSION=1: the C kernels were not built, so there is nothing to compare",
)


@pytest.fixture
def torch_kernels(monkeypatch):
    """A block in which fake quantization runs the torch kernels (with the kernels' scale)."""

    class Switch:
        def __enter__(self):
            monkeypatch.setattr(_fused, "layout", lambda *args: None)

        def __exit__(self, *exc):
            monkeypatch.undo()

    return Switch()


def _grid(dtype, per_channel, asymmetric, bits, shape, seed):
    """``per_channel``: False (one scale), True (one per row) or ``"column"`` (one per column)."""
    gen = torch.Generator().manual_seed(seed)
    qmin, qmax = grid_limits(bits, signed=not asymmetric)
    param_shape = {False: (), True: (shape[0], 1), "column": (1, shape[1])}[per_channel]
    # Scales near the data's spread, so values land inside, outside and on ties.
    log_scale = torch.randn(param_shape, generator=gen, dtype=dtype) * 0.3 + (-1.0 if bits > 2 else 0.0)
    zero = None
    if asymmetric:
        zero = torch.randn(param_shape, generator=gen, dtype=dtype) * 3 + qmax / 2
    x = torch.randn(shape, generator=gen, dtype=dtype) * 2
    # Exact rounding ties, x / s = k + 1/2, and values far outside the range.
    s = log_scale.exp()
    x.view(-1)[:8] = (torch.arange(-4, 4, dtype=dtype) + 0.5) * s.reshape(-1)[0]
    x.view(-1)[8:10] = torch.tensor([1e6, -1e6], dtype=dtype)
    return x, log_scale, zero, qmin, qmax


CASES = [
    pytest.param(dtype, per_channel, asymmetric, bits, relu, id=f"{str(dtype)[6:]}-{pc}-{asym}-{bits}bit{r}")
    for dtype in (torch.float32, torch.float64)
    for per_channel, pc in ((False, "tensor"), (True, "channel"), ("column", "column"))
    for asymmetric, asym in ((False, "sym"), (True, "asym"))
    for bits in (2, 4, 8, 16)
    for relu, r in ((False, ""), (True, "-relu"))
    if not (relu and asymmetric)
]


@pytest.mark.parametrize("dtype, per_channel, asymmetric, bits, relu", CASES)
def test_fused_forward_and_backward_match_torch_kernels(
    dtype, per_channel, asymmetric, bits, relu, torch_kernels
):
    # Per column: wider than one block of the kernels' per-column scales (256).
    shape = (37, 300) if per_channel == "column" else (37, 53)
    x, log_scale, zero, qmin, qmax = _grid(dtype, per_channel, asymmetric, bits, shape, seed=bits)
    if relu:
        qmin, qmax = grid_limits(bits, signed=False)
    grad = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    inputs = [t.clone() for t in (x, log_scale, grad)]

    out, saved = fake_quantize_forward(x, log_scale, zero, qmin, qmax, relu)
    assert saved[0] != "torch", "the fused kernels should have taken this case"
    with torch_kernels:
        expected_out, expected_saved = fake_quantize_forward(x, log_scale, zero, qmin, qmax, relu)
    assert expected_saved[0] == "torch"
    assert torch.equal(out, expected_out)

    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for clipped in (True, False):
        for pact in (False, True):
            got = fake_quantize_backward(grad, saved, qmin, qmax, 0.01, clipped, pact, relu)
            want = fake_quantize_backward(grad, expected_saved, qmin, qmax, 0.01, clipped, pact, relu)
            assert torch.equal(got[0], want[0]), "input gradients differ"
            for g, w in zip(got[1:], want[1:]):
                assert (g is None) == (w is None)
                if w is not None:
                    assert g.shape == w.shape and g.dtype == w.dtype
                    torch.testing.assert_close(g, w, rtol=rtol, atol=rtol * w.abs().max().item())
    # Without parameter gradients only the input's is computed.
    grad_x, grad_log_s, grad_z = fake_quantize_backward(grad, saved, qmin, qmax, param_grads=False, relu=relu)
    assert grad_log_s is None and grad_z is None
    assert torch.equal(grad_x, fake_quantize_backward(grad, expected_saved, qmin, qmax, relu=relu)[0])
    # Nothing the kernels read was written.
    for before, after in zip(inputs, (x, log_scale, grad)):
        assert torch.equal(before, after)


def test_fused_codes_round_ties_to_even():
    s = torch.tensor(1.0)
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49999, 7.5, -9.0])
    out = fake_quantize(x, s.log(), None, -8, 7)
    assert out.tolist() == [0.0, 2.0, 2.0, 0.0, -2.0, -2.0, 3.0, 7.0, -8.0]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: (torch.randn(20, 30).t(), torch.tensor(0.1)), id="non-contiguous"),
        pytest.param(
            lambda: (torch.randn(20, 30, dtype=torch.bfloat16), torch.tensor(0.1, dtype=torch.bfloat16)),
            id="bfloat16",
        ),
        pytest.param(lambda: (torch.randn(20, 30), torch.tensor(0.1, dtype=torch.float64)), id="mixed"),
    ],
)
def test_other_layouts_fall_back_to_torch_kernels(make):
    x, s = make()
    assert _fused.layout(x, s, None, -8, 7) is None
    out, saved = fake_quantize_forward(x, s.log(), None, -8, 7)
    assert saved[0] == "torch"
    s = s.log().exp()  # the scale as the torch kernels compute it
    assert torch.equal(out, torch.round(x * s.reciprocal()).clamp(-8, 7) * s)


def test_codes_beyond_float_rounding_range_fall_back():
    x, s = torch.randn(4, 5), torch.tensor(1e-3)
    assert _fused.layout(x, s, None, -(2**21), 2**21 - 1) is not None
    assert _fused.layout(x, s, None, -(2**22), 2**22 - 1) is None


def test_autograd_through_fused_kernels_matches_torch_kernels(torch_kernels):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(16, 24, generator=gen, dtype=torch.float64)
    grads = []
    for use_torch in (False, True):
        x = x0.clone().requires_grad_()
        log_s = torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
        zero = torch.tensor(3.2, dtype=torch.float64, requires_grad=True)
        if use_torch:
            with torch_kernels:
                y = fake_quantize(x, log_s, zero, 0, 15, grad_scale=0.1)
        else:
            y = fake_quantize(x, log_s, zero, 0, 15, grad_scale=0.1)
        (y.square().sum()).backward()
        grads.append((y.detach(), x.grad, log_s.grad, zero.grad))
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_fit_with_fused_kernels_matches_torch_kernels(torch_kernels):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0
    # Float biases: a bias on the s_w * s_in grid turns a last-bit difference in a scale's
    # gradient sum into a whole step of its grid (measured with int32 biases, the default: loss
    # curves 1.3e-4 apart after 5 epochs). The labels are compared with the defaults too.
    params = dict(hidden_layer_sizes=(32,), max_iter=5, weight_bits=4, activation_bits=8, random_state=0)
    for extra in ({"bias_bits": None}, {}):
        fused = QuantizedMLPClassifier(**params, **extra).fit(X, y[:400])
        with torch_kernels:
            plain = QuantizedMLPClassifier(**params, **extra).fit(X, y[:400])
        if extra:
            # Same training up to the rounding of the scale gradients' sums.
            assert fused.loss_curve_ == pytest.approx(plain.loss_curve_, rel=1e-6)
        # 5 epochs leave rows near the boundaries (measured: 0.990 and 0.995 agreement).
        assert (fused.predict(X) == plain.predict(X)).mean() >= 0.98


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernels_use_the_scale_inference_and_export_use(dtype):
    from skqat._functional import scale_from_log

    log_scale = torch.empty(5000, 1, dtype=dtype).uniform_(-12, 2, generator=torch.Generator().manual_seed(0))
    expected = scale_from_log(log_scale)
    # One value per row, on code 1 of a per-row grid: the output is the kernel's own scale.
    out, _ = fake_quantize_forward(expected.clone(), log_scale, None, -8, 7)
    assert torch.equal(out, expected)
    # Not vacuous: torch's exp differs from the C library's in the last bit now and then.
    assert (log_scale.exp() != expected).any()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_backward_may_write_the_input_gradient_over_grad_out(dtype):
    x, log_scale, zero, qmin, qmax = _grid(dtype, False, True, 4, (64, 48), seed=3)
    grad = torch.randn(x.shape, generator=torch.Generator().manual_seed(4), dtype=dtype)
    _, saved = fake_quantize_forward(x, log_scale, zero, qmin, qmax)
    expected = fake_quantize_backward(grad, saved, qmin, qmax, 0.1)
    owned = grad.clone()
    got = fake_quantize_backward(owned, saved, qmin, qmax, 0.1, overwrite_grad=True)
    assert got[0].data_ptr() == owned.data_ptr()
    assert not torch.equal(got[0], grad), "some values are outside the range, so the gradient changed"
    for g, e in zip(got, expected):
        assert torch.equal(g, e)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_threaded_kernels_give_the_single_threaded_results(per_channel, dtype, monkeypatch):
    # 77,100 values: above the size the kernels split over threads, not a multiple of their span.
    x, log_scale, zero, qmin, qmax = _grid(dtype, per_channel, True, 4, (300, 257), seed=5)
    grad = torch.randn(x.shape, generator=torch.Generator().manual_seed(6), dtype=dtype)
    results = []
    for threads in (True, False):
        monkeypatch.setattr(_fused, "threads", threads)
        previous = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            out, saved = fake_quantize_forward(x, log_scale, zero, qmin, qmax)
            results.append((out, *fake_quantize_backward(grad, saved, qmin, qmax, 0.01)))
        finally:
            torch.set_num_threads(previous)
    for threaded, single in zip(*results):
        assert torch.equal(threaded, single)


@pytest.mark.skipif(
    not _fused.available or _fused._kernels.openmp_runtime() is None,
    reason="the extension was built without OpenMP: its kernels run on one thread",
)
def test_kernels_use_threads_only_from_torch_openmp_runtime():
    runtime = os.path.realpath(_fused._kernels.openmp_runtime())
    torch_lib = os.path.realpath(os.path.dirname(torch.__file__))
    # Threads only when the kernels' OpenMP runtime is the one torch loaded
    # (torch's Linux wheels ship libgomp.so.1, which the extension links by name).
    assert _fused.threads == runtime.startswith(torch_lib + os.sep)
