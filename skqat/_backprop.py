"""Training gradients of a :class:`~skqat._modules.QuantMLP` without autograd.

On the small networks skqat trains, recording and replaying an autograd graph
costs as much as the arithmetic: every fake-quantize node adds a Python
``autograd.Function`` frame in each direction, and the engine walks a dozen
nodes per step. :class:`ExplicitGradients` writes the chain rule out layer by
layer instead, with the quantizers' own explicit forward and backward passes
(:meth:`~skqat._quantizers.LSQQuantizer.forward_explicit`), the same kernels
as the autograd path and no graph. It computes the gradients autograd would
(``tests/test_backprop.py`` checks them against autograd for every
supported configuration) and covers the common networks: every activation
and loss, the LSQ, PACT and min-max schemes, per-tensor and per-channel,
symmetric and asymmetric grids, quantized inputs (per feature too), biases
on their ``s_w * s_in`` grid, pruning masks and the grid penalty, and
learned bit widths (LSQ grids whose width is chosen once). Networks with
other parts (quantization noise, the penalty scheme) train through autograd;
:func:`explicit_gradients_supported` says which.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._activations import ACTIVATIONS, get_activation
from ._compat import aten
from ._losses import poisson_deviance
from ._quantizers import Quantizer

__all__ = ["ExplicitGradients", "explicit_gradients_supported", "loss_and_output_gradient"]

# reduction codes of aten's nll_loss kernels
_NO_REDUCTION, _MEAN = 0, 1
_IGNORE_INDEX = -100


def _row_shares(sample_weight: torch.Tensor) -> torch.Tensor:
    """``w / sum(w)``: each sample's share of a weighted mean (zeros for an all-zero batch)."""
    total = sample_weight.sum().clamp_min(torch.finfo(sample_weight.dtype).tiny)
    return sample_weight / total


def _log_loss(logits, target, sample_weight):
    # aten's log_softmax is slow along a short, contiguous class axis and
    # fast along a strided one: 21 against 6 us for 200 x 10 doubles.
    log_probs = torch.log_softmax(logits.t(), 0).t()
    if sample_weight is None:
        share = 1.0 / logits.shape[0]
        loss, total = aten.nll_loss_forward(log_probs, target, None, _MEAN, _IGNORE_INDEX)
        grad_log_probs = aten.nll_loss_backward(
            torch.ones((), dtype=logits.dtype, device=logits.device),
            log_probs,
            target,
            None,
            _MEAN,
            _IGNORE_INDEX,
            total,
        )
    else:
        per_sample, total = aten.nll_loss_forward(log_probs, target, None, _NO_REDUCTION, _IGNORE_INDEX)
        share = _row_shares(sample_weight)
        loss = torch.dot(per_sample, share)
        grad_log_probs = aten.nll_loss_backward(
            share, log_probs, target, None, _NO_REDUCTION, _IGNORE_INDEX, total
        )
        share = share.unsqueeze(1)
    # d loss / d logits = share * softmax - share * one_hot(target); the
    # second term is what nll_loss_backward wrote.
    return loss, log_probs.exp_().mul_(share).add_(grad_log_probs)


def _scaled_rows(grad, sample_weight):
    """``grad`` divided by the batch size, or weighted by each row's share of the sample weight."""
    if sample_weight is None:
        return grad.mul_(1.0 / grad.shape[0]), None
    share = _row_shares(sample_weight)
    return grad.mul_(share.unsqueeze(1)), share


def _binary_log_loss(logits, target, sample_weight):
    per_sample = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=1)
    grad, share = _scaled_rows(torch.sigmoid(logits).sub_(target), sample_weight)
    loss = per_sample.mean() if share is None else torch.dot(per_sample, share)
    return loss, grad


def _squared_error(output, target, sample_weight):
    residual = output - target
    per_sample = 0.5 * residual.square().mean(dim=1)
    grad, share = _scaled_rows(residual.mul_(1.0 / output.shape[1]), sample_weight)
    loss = per_sample.mean() if share is None else torch.dot(per_sample, share)
    return loss, grad


def _poisson(log_mean, target, sample_weight):
    mean = log_mean.exp()
    per_sample = poisson_deviance(log_mean, target, mean)
    grad, share = _scaled_rows(mean - target, sample_weight)
    loss = per_sample.mean() if share is None else torch.dot(per_sample, share)
    return loss, grad


#: ``loss(raw_output, target, sample_weight) -> (loss, d loss / d raw_output)``, by loss name.
_LOSS_AND_GRADIENT = {
    "log_loss": _log_loss,
    "binary_log_loss": _binary_log_loss,
    "squared_error": _squared_error,
    "poisson": _poisson,
}


def loss_and_output_gradient(loss_name, output, target, sample_weight):
    """The weighted-mean loss of :data:`skqat._losses.LOSSES` and its gradient for ``output``.

    Parameters
    ----------
    loss_name : {"log_loss", "binary_log_loss", "squared_error", "poisson"}
    output : torch.Tensor of shape (n_samples, n_outputs)
        Raw network output.
    target : torch.Tensor
        Class indices for ``"log_loss"``, else a float array like ``output``.
    sample_weight : torch.Tensor or None

    Returns
    -------
    loss : torch.Tensor
        A scalar.
    grad : torch.Tensor
        Same shape as ``output``.
    """
    return _LOSS_AND_GRADIENT[loss_name](output, target, sample_weight)


def _explicit(quantizer) -> bool:
    return quantizer is None or (isinstance(quantizer, Quantizer) and quantizer.explicit)


def explicit_gradients_supported(module, loss_name: str) -> bool:
    """Whether :class:`ExplicitGradients` can train ``module`` with ``loss_name``.

    Parameters
    ----------
    module : QuantMLP
    loss_name : str

    Returns
    -------
    bool
    """
    if loss_name not in _LOSS_AND_GRADIENT or not _explicit(module.input_quantizer):
        return False
    if module.activation not in ACTIVATIONS or ACTIVATIONS[module.activation].backward is None:
        return False
    for layer in module.layers:
        if not _explicit(layer.weight_quantizer):
            return False
    return all(_explicit(q) for q in module.activation_quantizers if isinstance(q, Quantizer))


class ExplicitGradients:
    """The training objective of one step and its gradients, by the chain rule written out.

    Built once per epoch: it reads which quantizers are active (the
    quantization delay can switch them on between epochs).

    Parameters
    ----------
    module : QuantMLP
        In training mode; :func:`explicit_gradients_supported` must hold.
    params : list of torch.Tensor
        The optimizer's parameters; gradients are returned in this order.
    loss_name : str
        A key of :data:`skqat._losses.LOSSES`.
    inputs_on_grid : bool, default=False
        The rows are already on the fixed input grid (decoded codes): its
        quantization, which would return them unchanged, is skipped.
    """

    def __init__(self, module, params, loss_name: str, *, inputs_on_grid: bool = False):
        self.params = params
        self.loss_name = loss_name
        quantize = module._quantizing
        self.activation = module.activation
        self.activation_fn = module._activation_fn
        self.input_quantizer = module.input_quantizer if quantize and not inputs_on_grid else None
        # The folded first layer (QuantLinear.fold_input_scales): it takes the centered codes
        # (x - c s0) / s and its grid quantizes V * g, g detached; the terms are read once per step.
        self.fold_terms = module.layers[0].fold_terms if module.folds_input else None
        self.layers = [
            (layer.weight, layer.bias, layer.weight_quantizer if quantize else None, layer.mask)
            for layer in module.layers
        ]
        self.activation_quantizers = [
            q if quantize and isinstance(q, Quantizer) else None for q in module.activation_quantizers
        ]
        # Biases on the s_w * s_in grid (bias_bits): the forward pass uses them, and the gradient
        # passes straight through (QuantLinear.quantized_bias), so only the forward changes.
        self._bias_grids = (
            module
            if quantize
            and any(
                layer.bias_bits is not None and layer.weight_quantizer is not None for layer in module.layers
            )
            else None
        )
        position = {id(p): i for i, p in enumerate(params)}
        self._weight_positions = [position[id(layer.weight)] for layer in module.layers]
        self._bias_positions = [position[id(layer.bias)] for layer in module.layers]

        def positions(quantizer):
            return (
                []
                if quantizer is None
                else [position[id(p)] for p in quantizer.explicit_parameters() if id(p) in position]
            )

        self._weight_quantizer_positions = [positions(q) for _, _, q, _ in self.layers]
        self._activation_quantizer_positions = [positions(q) for q in self.activation_quantizers]
        self._input_quantizer_positions = positions(self.input_quantizer)
        # A fixed input grid (Quantizer.freeze) takes no gradient: the first layer's
        # gradient for its input, a (batch x features) product, is then not computed.
        self._trains_input_grid = bool(self._input_quantizer_positions)
        # The quantized weights and activations of a step are dead after it,
        # so the next step writes its own into the same buffers: no
        # allocator churn (freed memory returned to the system and faulted
        # back in), and the buffers stay in cache.
        self._buffers: dict = {}

    def _buffer(self, key, like: torch.Tensor) -> torch.Tensor:
        """A buffer shaped like ``like`` for the quantizer output ``key``, the same every step."""
        key = (key, like.shape, like.dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = torch.empty_like(like, memory_format=torch.contiguous_format)
        return buffer

    def _store(self, grads, positions, values) -> None:
        for i, value in zip(positions, values):
            grads[i] = value if grads[i] is None else grads[i] + value

    @torch.no_grad()
    def __call__(self, X, y, sample_weight, quant_lambda: float = 0.0):
        """Objective (data loss plus ``quant_lambda`` times the grid penalty) and its gradients.

        Returns
        -------
        loss : torch.Tensor
            A detached scalar.
        grads : list of torch.Tensor
            Aligned with ``params``; zeros for parameters the objective does not use.
        """
        relu = self.activation == "relu"
        x = X
        input_state = None
        if self.input_quantizer is not None:
            x, input_state = self.input_quantizer.forward_explicit(X, out=self._buffer("input", X))
        saved = []
        grid_inputs = []  # what each weight grid quantized (V * g for a folded layer)
        last = len(self.layers) - 1
        fold = factor = None
        if self.fold_terms is not None:
            fold, offset, factor = self.fold_terms()
            x = x / fold - offset
        for i, (weight, bias, quantizer, mask) in enumerate(self.layers):
            weight_state = None
            if i == 0 and factor is not None:
                weight = weight * factor
            w = weight
            if quantizer is not None:
                w, weight_state = quantizer.forward_explicit(weight, out=self._buffer(("weight", i), weight))
            if self._bias_grids is not None:
                # After the weight and input grids of this step are set, as the forward pass reads them.
                layer = self._bias_grids.layers[i]
                bias = layer.quantized_bias(self._bias_grids.layer_input_scale(i))
            w_used = w if mask is None else w * mask
            z = torch.addmm(bias, x, w_used.t())
            activation_state = None
            grid_inputs.append(weight)
            if i < last:
                act_quantizer = self.activation_quantizers[i]
                if act_quantizer is None:
                    out = self.activation_fn(z)
                    activation_state = out
                elif relu:
                    out, activation_state = act_quantizer.forward_explicit(
                        z, relu=True, out=self._buffer(("activation", i), z)
                    )
                else:
                    activated = self.activation_fn(z)
                    out, quant_state = act_quantizer.forward_explicit(
                        activated, out=self._buffer(("activation", i), activated)
                    )
                    activation_state = (activated, quant_state)
                saved.append((x, w, w_used, weight_state, activation_state))
                x = out
            else:
                saved.append((x, w, w_used, weight_state, None))
                output = z

        loss, grad = loss_and_output_gradient(self.loss_name, output, y, sample_weight)
        grads = [None] * len(self.params)
        if quant_lambda:
            loss = loss + quant_lambda * self._grid_penalty(saved, grid_inputs, grads, quant_lambda, factor)

        for i in range(last, -1, -1):
            layer_input, w, w_used, weight_state, _ = saved[i]
            weight, _, quantizer, mask = self.layers[i]
            grad_w = grad.t().mm(layer_input)
            self._store(grads, [self._bias_positions[i]], [grad.sum(0)])
            if i > 0 or (input_state is not None and self._trains_input_grid):
                grad_input = grad.mm(w_used)
                if i == 0 and fold is not None:
                    grad_input = grad_input / fold
            if mask is not None:
                grad_w.mul_(mask)
            if quantizer is not None:
                grad_w, quantizer_grads = quantizer.backward_explicit(grad_w, weight_state)
                self._store(grads, self._weight_quantizer_positions[i], quantizer_grads)
            if i == 0 and factor is not None:
                grad_w = grad_w * factor
            self._store(grads, [self._weight_positions[i]], [grad_w])
            if i == 0:
                break
            grad = self._hidden_backward(i - 1, grad_input, saved[i - 1][4], grads, relu)

        if self.input_quantizer is not None and self._trains_input_grid:
            _, input_grads = self.input_quantizer.backward_explicit(grad_input, input_state)
            self._store(grads, self._input_quantizer_positions, input_grads)
        return loss, [torch.zeros_like(p) if g is None else g for p, g in zip(self.params, grads)]

    def _hidden_backward(self, i, grad, activation_state, grads, relu):
        """Gradient for the pre-activation of hidden layer ``i`` from that for its output."""
        act_quantizer = self.activation_quantizers[i]
        if act_quantizer is None:
            return get_activation(self.activation).backward(grad, activation_state)
        if relu:
            grad, quantizer_grads = act_quantizer.backward_explicit(grad, activation_state)
        else:
            activated, quant_state = activation_state
            grad, quantizer_grads = act_quantizer.backward_explicit(grad, quant_state)
            grad = get_activation(self.activation).backward(grad, activated)
        self._store(grads, self._activation_quantizer_positions[i], quantizer_grads)
        return grad

    def _grid_penalty(self, saved, grid_inputs, grads, quant_lambda, factor):
        """``sum ||W - q(W)||^2`` over quantized layers; stores its gradients, times ``quant_lambda``.

        As :func:`skqat._regularizers.grid_penalty`: ``q`` sees the weights
        detached, so the weights get ``2 (W - q(W))`` and the grid, through
        its straight-through backward, ``-2 (W - q(W))``. ``W`` is what the
        grid quantizes (``V * g`` for a folded layer, whose ``V`` gets the
        gradient times ``g``).
        """
        total = None
        for i, (_, _, quantizer, _) in enumerate(self.layers):
            if quantizer is None:
                continue
            w, weight_state = saved[i][1], saved[i][3]
            difference = grid_inputs[i] - w
            term = torch.dot(difference.reshape(-1), difference.reshape(-1))
            total = term if total is None else total + term
            pull = difference.mul_(2.0 * quant_lambda)
            _, grid_grads = quantizer.backward_explicit(-pull, weight_state)
            self._store(grads, self._weight_quantizer_positions[i], grid_grads)
            self._store(grads, [self._weight_positions[i]], [pull if i or factor is None else pull * factor])
        return total if total is not None else self.layers[0][0].new_zeros(())
