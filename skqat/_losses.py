"""Training losses on raw network outputs (logits), weighted per sample.

Each returns the sample-weighted mean of the per-sample loss, with
scikit-learn's MLP definitions so that ``loss_curve_`` reads the same:

* ``"log_loss"``: softmax cross-entropy for one multiclass output;
* ``"binary_log_loss"``: logistic cross-entropy summed over the outputs
  (binary and multilabel classification);
* ``"squared_error"``: half the squared error, averaged over the outputs;
* ``"poisson"``: half the Poisson deviance of ``exp(output)`` (a log link),
  summed over the outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "LOSS_OF_OUTPUT_ACTIVATION", "poisson_deviance", "weighted_mean"]


def weighted_mean(per_sample: torch.Tensor, sample_weight: torch.Tensor | None) -> torch.Tensor:
    """``sum(w * l) / sum(w)``, or the plain mean when ``sample_weight`` is None.

    A batch whose weights are all zero contributes a loss of zero.
    """
    if sample_weight is None:
        return per_sample.mean()
    total = sample_weight.sum()
    return (per_sample * sample_weight).sum() / total.clamp_min(torch.finfo(total.dtype).tiny)


def _log_loss(logits, target, sample_weight):
    if sample_weight is None:  # one fused kernel and autograd node for the common case
        return F.cross_entropy(logits, target)
    return weighted_mean(F.cross_entropy(logits, target, reduction="none"), sample_weight)


def _binary_log_loss(logits, target, sample_weight):
    per_sample = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=1)
    return weighted_mean(per_sample, sample_weight)


def _squared_error(output, target, sample_weight):
    return weighted_mean(0.5 * (output - target).square().mean(dim=1), sample_weight)


def poisson_deviance(
    log_mean: torch.Tensor, target: torch.Tensor, mean: torch.Tensor | None = None
) -> torch.Tensor:
    """Half the Poisson deviance per sample, summed over the outputs, with mean ``exp(log_mean)``.

    ``y log(y / mu) - y + mu`` with ``mu = exp(log_mean)``: scikit-learn's
    ``poisson_loss`` (its constant ``y log y - y`` included, so the loss of a
    perfect fit is zero). Its gradient for ``log_mean`` is ``mu - y``; pass
    ``mean`` when ``mu`` is already computed.
    """
    mean = log_mean.exp() if mean is None else mean
    return (torch.xlogy(target, target) - target * log_mean - target + mean).sum(dim=1)


def _poisson(log_mean, target, sample_weight):
    return weighted_mean(poisson_deviance(log_mean, target), sample_weight)


#: Losses by name: ``loss(raw_output, target, sample_weight) -> scalar``.
LOSSES = {
    "log_loss": _log_loss,
    "binary_log_loss": _binary_log_loss,
    "squared_error": _squared_error,
    "poisson": _poisson,
}

#: The loss each output activation trains with: ``out_activation_`` -> key of :data:`LOSSES`.
LOSS_OF_OUTPUT_ACTIVATION = {
    "softmax": "log_loss",
    "logistic": "binary_log_loss",
    "identity": "squared_error",
    "exp": "poisson",
}
