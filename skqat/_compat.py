"""Every private torch and scikit-learn API skqat calls, in one place.

These names are not public API of their libraries and may change in any
release; keeping them here gives one place to look when a new release moves
them. Checked against torch 2.13.0 (CPU build) and scikit-learn 1.9.1, the
versions CI installs; ``pyproject.toml`` admits ``torch>=2.2`` and
``scikit-learn>=1.6``.

torch
    ``torch._foreach_*``: one kernel over a list of tensors (optimizer steps,
    the L2 term), where a Python loop would dispatch one kernel per tensor.
    ``torch._fused_adam_``: the fused Adam kernel (CPU since torch 2.4).
    ``torch.ops.aten.*_backward`` and ``nll_loss_forward``/``_backward``: the
    backward kernels the explicit training step calls directly, the same
    ones autograd runs.
scikit-learn
    ``sklearn.utils._param_validation``: the ``_parameter_constraints``
    vocabulary every scikit-learn estimator uses.
    ``sklearn.utils.validation._check_sample_weight``: sample-weight
    validation with scikit-learn's messages.
    ``sklearn.base._fit_context``: the decorator scikit-learn's own ``fit``
    methods use (parameter validation once per call, nested-validation
    skipping).
"""

from __future__ import annotations

import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "TORCH_VERSION",
    "aten",
    "check_sample_weight",
    "fit_context",
    "foreach_add_",
    "foreach_addcdiv_",
    "foreach_addcmul_",
    "foreach_lerp_",
    "foreach_mul",
    "foreach_mul_",
    "foreach_norm",
    "foreach_sqrt",
    "fused_adam_",
    "Interval",
    "Options",
    "StrOptions",
]

#: ``(major, minor)`` of the torch in use.
TORCH_VERSION = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])

foreach_add_ = torch._foreach_add_
foreach_addcdiv_ = torch._foreach_addcdiv_
foreach_addcmul_ = torch._foreach_addcmul_
foreach_lerp_ = torch._foreach_lerp_
foreach_mul = torch._foreach_mul
foreach_mul_ = torch._foreach_mul_
foreach_norm = torch._foreach_norm
foreach_sqrt = torch._foreach_sqrt

#: The fused Adam kernel, or None in a torch without one.
fused_adam_ = getattr(torch, "_fused_adam_", None)

#: ATen's operators (``aten.threshold_backward``, ``aten.nll_loss_forward``, ...).
aten = torch.ops.aten

check_sample_weight = _check_sample_weight
fit_context = _fit_context
