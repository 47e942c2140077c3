"""The training loop: mini-batches, optimizer steps, stopping and progress.

It knows the network, an optimizer from :mod:`skqat._optim` and plain
tensors; nothing here knows about scikit-learn or the estimators.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ._regularizers import grid_penalty, l2_penalty

__all__ = ["TrainingData", "Objective", "ProgressMonitor", "TrainingDiverged", "run_epoch", "fit_loop"]


@dataclass
class TrainingData:
    """Tensors of one training set, already on the training device."""

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: torch.Tensor | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


@dataclass
class Objective:
    """What one step minimises: the data loss plus the penalties.

    ``loss_fn(raw_output, target, sample_weight)`` is a weighted-mean loss;
    ``alpha`` weighs the L2 penalty (divided by the batch's total sample weight,
    as in scikit-learn) and ``quant_lambda`` the grid penalty
    :func:`skqat._regularizers.grid_penalty`.
    """

    loss_fn: Callable
    alpha: float = 0.0
    quant_lambda: float = 0.0

    def __call__(self, module, X, y, sample_weight) -> torch.Tensor:
        loss = self.loss_fn(module(X), y, sample_weight)
        if self.alpha:
            weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum().clamp_min(1e-12)
            loss = loss + self.alpha * l2_penalty(module) / weight_sum
        if self.quant_lambda:
            loss = loss + self.quant_lambda * grid_penalty(module)
        return loss


def run_epoch(module, optimizer, data: TrainingData, objective: Objective, *,
              batch_size: int, order: torch.Tensor | None) -> float:
    """One pass over ``data`` in mini-batches; returns the mean training objective.

    Parameters
    ----------
    module : QuantMLP
    optimizer : Adam or SGD
    data : TrainingData
    objective : Objective
    batch_size : int
    order : torch.Tensor or None
        A permutation of the sample indices (shuffled epoch) or ``None`` for
        the stored order.

    Returns
    -------
    float
        The objective averaged over samples, as scikit-learn's ``loss_``; NaN
        or inf if training diverged.
    """
    params = optimizer.params
    n_samples = data.n_samples
    total = torch.zeros((), dtype=data.X.dtype, device=data.X.device)
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        if order is None:
            X, y = data.X[start:stop], data.y[start:stop]
            sw = None if data.sample_weight is None else data.sample_weight[start:stop]
        else:
            idx = order[start:stop]
            X, y = data.X.index_select(0, idx), data.y.index_select(0, idx)
            sw = None if data.sample_weight is None else data.sample_weight.index_select(0, idx)
        loss = objective(module, X, y, sw)
        grads = torch.autograd.grad(loss, params, allow_unused=True, materialize_grads=True)
        optimizer.step(grads)
        total += loss.detach() * (stop - start)
    return float(total) / n_samples


@dataclass
class ProgressMonitor:
    """Stopping bookkeeping shared by ``fit`` calls, as scikit-learn's MLP keeps it.

    Without a validation set, an epoch *improves* when the training loss drops
    by more than ``tol`` below the best so far; with one, when the validation
    score rises by more than ``tol`` above the best so far. After more than
    ``n_iter_no_change`` epochs without improvement the optimizer is asked
    whether to stop (``adaptive`` SGD lowers its learning rate instead).
    """

    tol: float
    n_iter_no_change: int
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    no_improvement_count: int = 0
    best_state: dict | None = None

    def update(self, loss: float, validation_score: float | None, module) -> None:
        """Record an epoch; snapshot the module when its validation score is the best."""
        self.loss_curve.append(loss)
        if validation_score is None:
            improved = loss <= self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        else:
            self.validation_scores.append(validation_score)
            improved = validation_score >= self.best_validation_score + self.tol
            if validation_score > self.best_validation_score:
                self.best_validation_score = validation_score
                self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1

    @property
    def stalled(self) -> bool:
        return self.no_improvement_count > self.n_iter_no_change


class TrainingDiverged(ValueError):
    """The training objective or the weights became NaN or infinite."""


def fit_loop(module, optimizer, data: TrainingData, objective: Objective, monitor: ProgressMonitor,
             *, n_epochs: int, batch_size: int, shuffle: bool, rng: np.random.RandomState,
             validation_score: Callable | None = None, progress=None) -> int:
    """Train for at most ``n_epochs`` epochs; returns how many ran.

    Parameters
    ----------
    module, optimizer, data, objective, monitor
        See :func:`run_epoch` and :class:`ProgressMonitor`.
    n_epochs : int
    batch_size : int
    shuffle : bool
        Draw a new sample order from ``rng`` every epoch.
    rng : numpy.random.RandomState
    validation_score : callable ``() -> float`` or None
        Scores the current module on held-out data after each epoch.
    progress : callable ``(epoch, loss, validation_score) -> None`` or None
        Reports each epoch (the progress bar).

    Returns
    -------
    int
        Number of epochs completed.

    Raises
    ------
    TrainingDiverged
        If an epoch's objective is not finite.
    """
    device = data.X.device
    n_samples = data.n_samples
    done = 0
    try:
        for epoch in range(n_epochs):
            order = None
            if shuffle:
                order = torch.from_numpy(rng.permutation(n_samples)).to(device)
            loss = run_epoch(module, optimizer, data, objective, batch_size=batch_size, order=order)
            if not math.isfinite(loss):
                raise TrainingDiverged(f"epoch {epoch + 1}: the training loss became {loss}")
            score = validation_score() if validation_score is not None else None
            monitor.update(loss, score, module)
            done += 1
            if progress is not None:
                progress(epoch, loss, score)
            optimizer.iteration_ends(n_samples * done)
            if monitor.stalled:
                if optimizer.trigger_stopping("", False):
                    break
                monitor.no_improvement_count = 0
    except KeyboardInterrupt:
        # As scikit-learn's MLP: stop at once and keep the model trained so far.
        warnings.warn("Training interrupted by user.", UserWarning, stacklevel=2)
    return done

