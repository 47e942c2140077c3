"""Penalties added to the training loss."""

from __future__ import annotations

import torch

from . import _compat

__all__ = ["grid_penalty", "l2_penalty"]


def grid_penalty(module) -> torch.Tensor:
    """Quantization regularizer ``sum_l ||W_l - q(W_l)||^2``.

    The sum runs over every element of every quantized weight matrix; it is
    *not* divided by the number of weights or by the batch size, so each
    latent weight ``w`` receives the gradient ``2 (w - q(w))`` times
    ``quant_lambda``, whatever the size of the network. ``q`` sees a detached
    copy of the weights: the weights are pulled toward the grid, and the grid
    (its scale and zero point, through the straight-through estimator) toward
    the weights. Float layers contribute nothing.

    Parameters
    ----------
    module : QuantMLP
        The network.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    total = None
    for weight, quantizer in zip(module.grid_inputs(), module.weight_quantizers()):
        if quantizer is None:
            continue
        term = (weight - quantizer.quantize(weight.detach())).square().sum()
        total = term if total is None else total + term
    if total is None:
        return module.latent_weights()[0].new_zeros(())
    return total


def l2_penalty(weights) -> torch.Tensor:
    """``0.5 * sum_l ||W_l||^2`` over the latent weights (not the biases).

    Parameters
    ----------
    weights : list of torch.Tensor
        The latent weight matrices (``QuantMLP.latent_weights()``).

    Returns
    -------
    torch.Tensor
        A scalar; the training loop multiplies it by ``alpha`` and divides it
        by the batch's total sample weight, as scikit-learn's MLP does.
    """
    # One foreach kernel for all layers: this runs at every training step.
    norms = torch.stack(_compat.foreach_norm(weights))
    return 0.5 * torch.dot(norms, norms)
