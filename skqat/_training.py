"""The training loop: mini-batches, optimizer steps, stopping and progress.

It knows the network, an optimizer from :mod:`skqat._optim` and plain
tensors; nothing here knows about scikit-learn or the estimators.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _compat
from ._backprop import ExplicitGradients, explicit_gradients_supported
from ._frozen import smallest_int_dtype
from ._losses import LOSSES
from ._regularizers import grid_penalty, l2_penalty

__all__ = ["TrainingData", "Objective", "ProgressMonitor", "TrainingDiverged", "run_epoch", "fit_loop"]


@dataclass
class TrainingData:
    """The rows, targets and sample weights of one training set, on the training device.

    ``X`` holds the float rows, or, once the input grid is fixed
    (:meth:`hold_codes_of`), their integer codes on it in the smallest
    integer type (int8 for a signed 8-bit grid): a quarter of float32's
    memory, an eighth of float64's. :meth:`rows` and :meth:`decode` give float
    rows either way; read the rows through them, never through ``X``.

    Rows that are the caller's own array (:meth:`of`, ``shared``) are read
    in place and not encoded: the caller keeps them in memory anyway, so
    codes would only add a byte per value (measured, ``benchmarks/scaling.py``:
    1.53 bytes per value added on a million rows of 100 features with codes,
    0.50 reading the caller's float32 rows). Rows fit copied (a data frame,
    another dtype or layout, a validation split, a ``partial_fit`` block) are
    replaced by their codes, and the copy goes.
    """

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: torch.Tensor | None = None
    #: ``(scale, zero_point)`` of the grid ``X``'s codes are on (per feature, shape (1, n)), or
    #: None while ``X`` holds floats.
    grid: tuple[torch.Tensor, torch.Tensor | None] | None = None
    #: Whether ``X`` shares the caller's array (read in place, not encoded under ``"copies"``).
    shared: bool = False

    #: When to hold codes once the grid is fixed: ``"copies"`` (rows fit copied), ``"always"``
    #: or ``"never"``. A class switch, as ``Objective.explicit``, for the benchmarks' and tests'
    #: comparisons; the fitted model is the same whatever it says.
    hold_codes = "copies"

    @classmethod
    def of(
        cls,
        X: np.ndarray,
        y,
        sample_weight,
        dtype: torch.dtype,
        target_dtype: torch.dtype,
        device,
        caller_rows=None,
    ):
        """Tensors of a validated training set; the rows share ``X``'s memory where they can.

        A C-contiguous ``X`` of the training dtype, on the CPU, is not
        copied: training only reads the rows, so a large training set does
        not cost its size twice. Anything else is copied to the training
        dtype and device. ``caller_rows`` is what the caller passed: rows
        that share its memory are marked ``shared``.
        """
        rows = _read_only_tensor(X, dtype, device)
        shared = (
            rows is not None and isinstance(caller_rows, np.ndarray) and np.may_share_memory(X, caller_rows)
        )
        targets = _read_only_tensor(y, target_dtype, device)
        return cls(
            shared=bool(shared),
            X=torch.tensor(X, dtype=dtype, device=device) if rows is None else rows,
            y=torch.tensor(y, dtype=target_dtype, device=device) if targets is None else targets,
            sample_weight=None
            if sample_weight is None
            else torch.tensor(sample_weight, dtype=dtype, device=device),
        )

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def device(self) -> torch.device:
        return self.X.device

    @property
    def dtype(self) -> torch.dtype:
        """The float type of the rows (:meth:`rows`), whatever ``X`` holds."""
        return self.X.dtype if self.grid is None else self.grid[0].dtype

    def decode(self, part: torch.Tensor) -> torch.Tensor:
        """Float rows from rows of ``X`` (itself, while it holds floats).

        Codes decode to ``s * (q - zp)``, what the fixed input grid gives for
        the rows they came from: its fake quantization leaves them as they
        are, so training sees the same values as from the float rows.
        """
        if self.grid is None:
            return part
        scale, zero = self.grid
        rows = part.to(scale.dtype)
        if zero is not None:
            rows.sub_(zero)
        return rows.mul_(scale)

    def rows(self, index: slice | torch.Tensor) -> torch.Tensor:
        """Float rows at ``index``: a slice, or a tensor of row indices."""
        part = self.X[index] if isinstance(index, slice) else self.X.index_select(0, index)
        return self.decode(part)

    @torch.no_grad()
    def hold_codes_of(self, quantizer) -> None:
        """Replace the float rows by their codes on ``quantizer``'s fixed grid (once; chunk by chunk).

        Nothing is done when ``X`` already holds codes, or when
        :attr:`hold_codes` says no (by default: for rows shared with the
        caller). The float rows are dropped, and their memory goes back.
        """
        if self.grid is not None or self.hold_codes == "never":
            return
        if self.shared and self.hold_codes == "copies":
            return
        scale = quantizer.effective_scale().reshape(1, -1)
        zero = quantizer.effective_zero_point()
        zero = None if zero is None else zero.reshape(1, -1)
        dtype = torch.from_numpy(np.empty(0, smallest_int_dtype(quantizer.qmin, quantizer.qmax))).dtype
        codes = torch.empty(self.X.shape, dtype=dtype, device=self.X.device)
        # One float buffer for every chunk: fresh temporaries per chunk stay in the C heap
        # (measured: about 50 MB more peak memory on a million rows of 100 features).
        buffer = torch.empty(
            (min(_CODE_CHUNK_ROWS, self.n_samples), self.X.shape[1]), dtype=self.X.dtype, device=self.X.device
        )
        for start in range(0, self.n_samples, _CODE_CHUNK_ROWS):
            stop = min(start + _CODE_CHUNK_ROWS, self.n_samples)
            codes[start:stop] = quantizer.codes(self.X[start:stop], out=buffer[: stop - start])
        self.X, self.grid = codes, (scale, zero)


def _read_only_tensor(array: np.ndarray, dtype: torch.dtype, device) -> torch.Tensor | None:
    """``array`` as a CPU tensor sharing its memory, or None where that would need a copy.

    Only for arrays training reads and never writes: a read-only array (``np.load``'s memory
    map, say) is shared too, without torch's warning about it.
    """
    if not (
        torch.device(device).type == "cpu"
        and array.dtype == torch.empty(0, dtype=dtype).numpy().dtype
        and array.flags.c_contiguous
    ):
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


#: Rows encoded at a time by :meth:`TrainingData.hold_codes_of`: bounds the float temporaries.
_CODE_CHUNK_ROWS = 16_384


# Shuffled epochs gather the whole training set once when it is at most this
# many elements (one kernel instead of three per batch); larger sets gather
# each batch, so memory stays at one copy of the data.
_EPOCH_GATHER_ELEMENTS = 16_000_000


@dataclass
class Objective:
    """What one step minimises: the data loss plus the penalties.

    ``loss`` names a weighted-mean loss of :data:`skqat._losses.LOSSES`;
    ``alpha`` weighs the L2 penalty ``0.5 * sum ||W||^2`` divided by the batch's
    total sample weight, as in scikit-learn; ``quant_lambda`` weighs the grid
    penalty :func:`skqat._regularizers.grid_penalty`.
    """

    loss: str
    alpha: float = 0.0
    quant_lambda: float = 0.0
    #: Use :class:`skqat._backprop.ExplicitGradients` where it supports the
    #: network (it computes the gradients autograd would, with less overhead).
    #: A class attribute, not a field: ``Objective.explicit = False`` switches
    #: every fit to autograd (the benchmarks' and tests' comparisons).
    explicit = True

    def gradient_function(self, module, params, inputs_on_grid: bool = False) -> Callable:
        """``(X, y, sample_weight) -> (loss, grads)`` for the module's current state.

        Called once per epoch: whether quantization is on can change between epochs.
        ``inputs_on_grid``: the rows are decoded codes of the fixed input grid
        (:meth:`TrainingData.hold_codes_of`), which its quantization would
        leave as they are, so the explicit step skips it.
        """
        weight_positions = [i for i, p in enumerate(params) if any(p is w for w in module.latent_weights())]
        explicit = None
        if self.explicit and explicit_gradients_supported(module, self.loss):
            explicit = ExplicitGradients(module, params, self.loss, inputs_on_grid=inputs_on_grid)

        def loss_and_grads(X, y, sample_weight):
            if explicit is None:
                loss, grads = self._autograd_loss_and_grads(module, params, X, y, sample_weight)
            else:
                loss, grads = explicit(X, y, sample_weight, self.quant_lambda)
            return self._add_l2(params, weight_positions, X, sample_weight, loss, grads)

        return loss_and_grads

    def _autograd_loss_and_grads(self, module, params, X, y, sample_weight):
        loss = LOSSES[self.loss](module(X), y, sample_weight)
        if self.quant_lambda:
            loss = loss + self.quant_lambda * grid_penalty(module)
        grads = torch.autograd.grad(loss, params, allow_unused=True, materialize_grads=True)
        return loss.detach(), grads

    def _add_l2(self, params, weight_positions, X, sample_weight, loss, grads):
        """Add the L2 term to the loss and straight to the weight gradients (``alpha * W / n``).

        Outside autograd: the same gradient for a fraction of the per-step overhead.
        """
        if self.alpha:
            with torch.no_grad():
                weights = [params[i] for i in weight_positions]
                weight_grads = [grads[i] for i in weight_positions]
                if sample_weight is None:
                    factor = self.alpha / X.shape[0]
                    _compat.foreach_add_(weight_grads, weights, alpha=factor)
                    loss = torch.add(loss, l2_penalty(weights), alpha=factor)
                else:
                    factor = self.alpha / sample_weight.sum().clamp_min(1e-12)
                    _compat.foreach_add_(weight_grads, _compat.foreach_mul(weights, factor))
                    loss = loss + factor * l2_penalty(weights)
        return loss, grads


def run_epoch(
    module,
    optimizer,
    data: TrainingData,
    objective: Objective,
    *,
    batch_size: int,
    order: torch.Tensor | None,
) -> float:
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
    loss_and_grads = objective.gradient_function(
        module, optimizer.params, inputs_on_grid=data.grid is not None
    )
    n_samples = data.n_samples
    X_all, y_all, sw_all = data.X, data.y, data.sample_weight
    if order is not None and X_all.numel() <= _EPOCH_GATHER_ELEMENTS:
        X_all, y_all = X_all.index_select(0, order), y_all.index_select(0, order)
        sw_all = None if sw_all is None else sw_all.index_select(0, order)
        order = None
    total = torch.zeros((), dtype=data.dtype, device=data.device)
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        if order is None:
            X, y = X_all[start:stop], y_all[start:stop]
            sw = None if sw_all is None else sw_all[start:stop]
        else:
            idx = order[start:stop]
            X, y = X_all.index_select(0, idx), y_all.index_select(0, idx)
            sw = None if sw_all is None else sw_all.index_select(0, idx)
        loss, grads = loss_and_grads(data.decode(X), y, sw)
        optimizer.step(grads)
        total.add_(loss, alpha=stop - start)
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
    #: The objective on the first batch before the model's first step: the
    #: yardstick of :data:`DIVERGENCE_FACTOR`.
    initial_loss: float | None = None

    def update(self, loss: float, validation_score: float | None, module, final_form: bool = True) -> None:
        """Record an epoch; snapshot the module when its validation score is the best.

        Epochs whose network is not in its final form (learned bit widths not
        yet allocated: a warm-up) are recorded but neither snapshot nor
        counted as the best, so early stopping restores an allocated model.
        """
        self.loss_curve.append(loss)
        if validation_score is None:
            improved = loss <= self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        elif not final_form:
            self.validation_scores.append(validation_score)
            improved = True
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
    """The training objective became NaN or infinite, or exploded (see :data:`DIVERGENCE_FACTOR`)."""


#: An epoch whose mean objective exceeds this many times ``max(1, initial
#: loss)`` has diverged. A finite explosion needs its own rule: bounded grid
#: steps and clipped weights can keep an exploding loss finite for many
#: epochs, and stopping on no improvement would then return it silently.
DIVERGENCE_FACTOR = 1e6


def _diverged(loss: float, initial_loss: float) -> bool:
    return not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(1.0, initial_loss)


@torch.no_grad()
def _first_batch_loss(module, data: TrainingData, objective: Objective, batch_size: int) -> float:
    """The data loss of the first batch, before any step."""
    sw = None if data.sample_weight is None else data.sample_weight[:batch_size]
    return float(LOSSES[objective.loss](module(data.rows(slice(0, batch_size))), data.y[:batch_size], sw))


def fit_loop(
    module,
    optimizer,
    data: TrainingData,
    objective: Objective,
    monitor: ProgressMonitor,
    *,
    n_epochs: int,
    batch_size: int,
    shuffle: bool,
    rng: np.random.RandomState,
    validation_score: Callable | None = None,
    before_epoch: Callable | None = None,
    progress=None,
    samples_seen: int = 0,
) -> int:
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
    before_epoch : callable ``(epoch) -> None`` or None
        Called before each epoch with the number of epochs the model has
        trained in all (schedules: quantization delay, penalty ramp, pruning).
    progress : callable ``(epoch, loss, validation_score) -> None`` or None
        Reports each epoch (the progress bar).
    samples_seen : int, default=0
        Samples the model trained on in earlier calls: the learning-rate
        schedules count every sample since the first fit (scikit-learn's ``t_``).

    Returns
    -------
    int
        Number of epochs completed.

    Raises
    ------
    TrainingDiverged
        If an epoch's objective is not finite, or exploded (:data:`DIVERGENCE_FACTOR`),
        unless early stopping has a best epoch to fall back on: then the
        epoch is recorded with a NaN validation score and training stops.
    """
    device = data.device
    n_samples = data.n_samples
    done = 0
    # The state after the last finished epoch: what an interrupted fit keeps.
    finished = {k: v.detach().clone() for k, v in module.state_dict().items()}
    initial_loss = getattr(monitor, "initial_loss", None)
    if initial_loss is None:
        initial_loss = monitor.initial_loss = _first_batch_loss(module, data, objective, batch_size)
    try:
        for epoch in range(n_epochs):
            if before_epoch is not None:
                before_epoch(len(monitor.loss_curve))
            order = None
            if shuffle:
                order = torch.from_numpy(rng.permutation(n_samples)).to(device)
            loss = run_epoch(module, optimizer, data, objective, batch_size=batch_size, order=order)
            diverged = _diverged(loss, initial_loss)
            # Early stopping, as scikit-learn's: a diverged epoch is recorded with a
            # NaN validation score and the best one kept (the caller restores it).
            if diverged and (validation_score is None or monitor.best_state is None):
                raise TrainingDiverged(
                    f"epoch {epoch + 1}: the training loss became {loss:.4g}, from "
                    f"{initial_loss:.4g} before the first step"
                )
            score: float | None
            if diverged:
                score = math.nan
            else:
                score = validation_score() if validation_score is not None else None
            monitor.update(loss, score, module, final_form=not module.bits_unallocated())
            done += 1
            if diverged:
                break
            for key, value in module.state_dict().items():
                finished[key].copy_(value)
            if progress is not None:
                progress(epoch, loss, score)
            optimizer.iteration_ends(samples_seen + n_samples * done)
            if monitor.stalled:
                if optimizer.trigger_stopping("", False):
                    break
                monitor.no_improvement_count = 0
    except KeyboardInterrupt:
        # Stop at once, as scikit-learn's MLP and skorch do, and keep the model
        # of the last finished epoch rather than a half-updated one.
        module.load_state_dict(finished)
        warnings.warn(
            f"Training interrupted by user after {done} finished epoch(s); the model is the one of the "
            "last finished epoch.",
            UserWarning,
            stacklevel=2,
        )
    return done
