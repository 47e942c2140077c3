"""The per-epoch schedules of one fit: quantization delay, penalty ramp, gradual pruning, bit allocation.

A :class:`Schedule` is read from the estimator's parameters at the start of
each ``fit`` or ``partial_fit`` (scikit-learn reads parameters at every call,
so ``set_params`` between warm starts takes effect). The training loop calls
:meth:`Schedule.before_epoch` before every epoch and :meth:`Schedule.finish`
once after the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._allocation import allocate_weight_bits
from ._input_widths import allocate_input_bits
from ._spec import fixed_nbytes, layer_weight_nbytes
from ._training import Objective, ProgressMonitor, TrainingData, fit_loop

__all__ = ["CALIBRATION_ROWS", "Schedule", "calibration_batch"]

#: Rows used to initialise the input and activation grids.
CALIBRATION_ROWS = 2048


def calibration_batch(data: TrainingData) -> torch.Tensor:
    """The first rows that carry weight: what input and activation grids start from."""
    return weighted_calibration_batch(data)[0]


def weighted_calibration_batch(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`calibration_batch` and those rows' sample weights (None when unweighted)."""
    weight = data.sample_weight
    if weight is not None and bool((weight > 0).any()):
        rows = torch.nonzero(weight > 0).reshape(-1)[:CALIBRATION_ROWS]
        return data.rows(rows), weight[rows]
    head = slice(0, CALIBRATION_ROWS)
    return data.rows(head), None if weight is None else weight[head]


@dataclass(frozen=True)
class Schedule:
    """What changes from epoch to epoch of a fit, and what is settled at its end.

    Parameters
    ----------
    quant_delay, max_iter : int
        The estimator's parameters: quantization starts at epoch
        ``quant_delay``; the ramps span ``max_iter``.
    quant_lambda : float
    quant_lambda_schedule : {"constant", "linear"}
    sparsity : float
    spec : dict or None
        The network spec (bit bounds and budgets of ``weight_bits="learned"``).
    loss_name : str or None
        The loss the allocation measures sensitivity with.
    """

    quant_delay: int
    max_iter: int
    quant_lambda: float
    quant_lambda_schedule: str
    sparsity: float
    spec: dict | None = None
    loss_name: str | None = None

    @classmethod
    def of(cls, estimator) -> Schedule:
        """The schedule of ``estimator``'s current parameters (and network spec, once it has one)."""
        return cls(
            quant_delay=estimator.quant_delay,
            max_iter=estimator.max_iter,
            quant_lambda=float(estimator.quant_lambda),
            quant_lambda_schedule=estimator.quant_lambda_schedule,
            sparsity=float(estimator.sparsity or 0.0),
            spec=getattr(estimator, "_spec", None),
            loss_name=estimator._loss_name() if hasattr(estimator, "out_activation_") else None,
        )

    # -- the ramps -----------------------------------------------------
    def quant_lambda_at(self, epoch: int) -> float:
        """``quant_lambda``, or its linear ramp from the first quantized epoch to ``max_iter``."""
        if self.quant_lambda_schedule == "constant":
            return self.quant_lambda
        span = max(1, self.max_iter - self.quant_delay)
        return self.quant_lambda * min(1.0, (epoch - self.quant_delay + 1) / span)

    def sparsity_at(self, epoch: int) -> float:
        """Gradual pruning (Zhu and Gupta 2017): cubic ramp to ``sparsity`` over half of ``max_iter``."""
        span = max(1, self.max_iter // 2)
        progress = min(1.0, (epoch + 1) / span)
        return self.sparsity * (1.0 - (1.0 - progress) ** 3)

    def allocation_epoch(self) -> int:
        """Epochs of the warm-up on which ``weight_bits="learned"`` chooses its widths.

        ``fit`` allocates after them (:meth:`warm_up_and_allocate`), before its own epochs; ``partial_fit``
        at the end of its first call (:meth:`finish`).
        """
        return self.quant_delay + max(1, (self.max_iter - self.quant_delay) // 4)

    # -- the hooks of the training loop --------------------------------
    def before_epoch(self, module, epoch: int, data: TrainingData, objective: Objective) -> None:
        """Apply the schedules for ``epoch`` (counting every epoch the model has trained)."""
        if module.folds_input:
            module.prepare_input_grid(*weighted_calibration_batch(data))
        if not module._quantizing and epoch >= self.quant_delay:
            module.start_quantization(calibration_batch(data))
        objective.quant_lambda = self.quant_lambda_at(epoch) if module._quantizing else 0.0
        if self.sparsity:
            module.prune(self.sparsity_at(epoch))
        if module.input_grid_fixed():
            data.hold_codes_of(module.input_quantizer)

    def finish(self, module, data: TrainingData, incremental: bool) -> float:
        """Leave a fully quantized model whatever the schedules reached; return its grid distance."""
        if not module._quantizing:
            # Training ended inside quant_delay: quantize after training for
            # inference; training goes on in float until the delay is over.
            module.initialize_grids(calibration_batch(data))
        if self.sparsity and not incremental:
            module.prune(self.sparsity)
        if module.bits_unallocated():
            # Training stopped before the warm-up ended (or partial_fit): the
            # budget holds for every fitted model, so allocate now.
            self.allocate(module, data)
        distance = module.grid_distance()
        # The penalty scheme's grid learns only through quant_lambda; without
        # it, fit the grid to the final weights (post-training rounding).
        module.refit_unlearned_grids(self.quant_lambda == 0)
        return distance

    def warm_up_and_allocate(
        self,
        module,
        optimizer,
        data: TrainingData,
        objective: Objective,
        *,
        batch_size: int,
        shuffle: bool,
        rng,
    ) -> bool:
        """Choose the learned widths after a warm-up; the fit then trains them for all its epochs.

        The warm-up trains the network as it starts (learned-bit layers at
        ``max_bits``) for :meth:`allocation_epoch` epochs with ``optimizer``
        (a throwaway one), and the widths are chosen on it (:meth:`allocate`).
        Its epochs come on top of ``max_iter``: measured
        (``benchmarks/allocation.py``), widths that then trained for only the
        remaining three quarters trailed the uniform model at integer
        targets by up to 0.6 points, and restarting them from the initial
        weights lost the warm-up's gain at targets between integers.

        Returns
        -------
        bool
            Whether the user interrupted the warm-up (the widths are then
            chosen on what it reached, and the fit should stop).
        """
        n_epochs = self.allocation_epoch()
        done = fit_loop(
            module,
            optimizer,
            data,
            objective,
            ProgressMonitor(tol=0.0, n_iter_no_change=n_epochs),  # never stalls within n_epochs
            n_epochs=n_epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            rng=rng,
            before_epoch=lambda epoch: self.before_epoch(module, epoch, data, objective),
        )
        if not module._quantizing:
            module.start_quantization(calibration_batch(data))
        self.allocate(module, data)
        return done < n_epochs

    def allocate(self, module, data: TrainingData) -> None:
        """Choose the learned input widths and the learned-bit layers' widths under their budgets.

        See :mod:`skqat._input_widths` and :mod:`skqat._allocation`.
        """
        spec = self.spec
        assert spec is not None and self.loss_name is not None, "a fitted network's schedule"
        # Evenly spaced rows: data sorted by class still gives every class its share.
        n_rows = min(data.n_samples, CALIBRATION_ROWS)
        rows = torch.linspace(0, data.n_samples - 1, n_rows, device=data.device).round().long()
        X, y = data.rows(rows), data.y[rows]
        weight = None if data.sample_weight is None else data.sample_weight[rows]
        if module.learns_input_widths() and not module.input_quantizer.allocated:
            # The inputs first: the layers' widths are then measured on the inputs they will see.
            allocate_input_bits(
                module,
                X,
                y,
                weight,
                self.loss_name,
                bit_bounds=spec["input_bit_bounds"],
                target_bits=spec["input_target_bits"],
                bit_lambda=spec["input_bit_lambda"],
            )
        if not module.layer_bits_unallocated():
            return
        budget = spec["target_bytes"]
        allocate_weight_bits(
            module,
            X,
            y,
            weight,
            self.loss_name,
            bit_bounds=spec["bit_bounds"],
            target_bits=spec["target_bits"],
            bit_lambda=spec["bit_lambda"],
            weight_bytes=lambda index, bits: layer_weight_nbytes(spec, index, bits),
            byte_budget=None if budget is None else budget - fixed_nbytes(spec),
        )
