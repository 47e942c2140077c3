"""Bit widths under a budget: measured per-layer sensitivity, then an exact knapsack.

``weight_bits="learned"`` trains every layer at ``max_bits`` for a warm-up,
then chooses each layer's bit width once (HAWQ-V3, Yao et al. 2021; Chen et
al. 2021):

1. **Sensitivity.** For each layer ``l`` and each width ``b`` within
   ``bit_bounds``, the layer's grid is re-initialised at ``b`` bits (the
   error-minimising LSQ grid of its current weights), the other layers keep
   theirs, and the data loss is measured on a batch of training rows:
   ``S[l, b]``. This is the loss the model would pay right away; the
   fine-tuning that follows recovers part of it in every layer alike, so it
   ranks the layers.
2. **Knapsack.** The widths minimise ``sum_l S[l, b_l] + bit_lambda *
   mean_bits`` subject to ``mean_bits <= target_bits``, where ``mean_bits``
   is the mean bit width per weight (:func:`mean_bits`). The solution is
   exact: a dynamic programme over the layers keeps every allocation that no
   other beats on both bits and loss (a Pareto front), so it is the true
   optimum of the additive model, not a rounding of a relaxation.

The budget is therefore a guarantee: every width is an integer within the
bounds and the mean never exceeds ``target_bits``.

Nothing here knows about scikit-learn; :mod:`skqat._base` calls
:func:`allocate_weight_bits` from its epoch schedule and at the end of fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._losses import LOSSES

__all__ = ["mean_bits", "solve_allocation", "layer_sensitivity", "allocate_weight_bits", "check_budget"]


def mean_bits(bits: Sequence[float], sizes: Sequence[int]) -> float:
    """Mean bit width per weight: ``sum(n_l * b_l) / sum(n_l)``.

    The one definition of the budget's measure: ``target_bits`` bounds it, the
    knapsack prices it and the progress bar shows it.

    Parameters
    ----------
    bits : sequence of float
        Bit width of each layer.
    sizes : sequence of int
        Number of weights of each layer.

    Returns
    -------
    float
    """
    counts = np.asarray(sizes, dtype=np.float64)
    return float(np.dot(np.asarray(bits, dtype=np.float64), counts) / counts.sum())


def check_budget(target_bits: float | None, bit_bounds: tuple[int, int]) -> None:
    """Refuse a budget no allocation within ``bit_bounds`` can meet.

    Raises
    ------
    ValueError
        If ``target_bits`` is below the lower bound.
    """
    if target_bits is not None and target_bits < bit_bounds[0]:
        raise ValueError(
            f"target_bits={target_bits} cannot be met: every layer needs at least bit_bounds[0]="
            f"{bit_bounds[0]} bits, so the mean is at least {bit_bounds[0]}. Raise target_bits or lower "
            f"bit_bounds (for example bit_bounds=(1, {bit_bounds[1]}))."
        )


def solve_allocation(
    costs: np.ndarray,
    sizes: Sequence[int],
    choices: Sequence[int],
    *,
    target_bits: float | None = None,
    bit_lambda: float = 0.0,
) -> list[int]:
    """The exact minimiser of ``sum_l costs[l, b_l] + bit_lambda * mean_bits`` under the budget.

    Parameters
    ----------
    costs : ndarray of shape (n_layers, n_choices)
        ``costs[l, j]``: the loss of layer ``l`` at ``choices[j]`` bits.
    sizes : sequence of int
        Weights per layer.
    choices : sequence of int
        The candidate bit widths, ascending.
    target_bits : float or None
        Upper bound of :func:`mean_bits`; None for no bound.
    bit_lambda : float
        Price of one bit of mean width, in loss units.

    Returns
    -------
    list of int
        One width per layer. Of allocations with equal loss, the narrowest.

    Raises
    ------
    ValueError
        If no allocation meets ``target_bits``.
    """
    sizes = [int(n) for n in sizes]
    total = sum(sizes)
    # Integer bit totals: the budget check is exact, with no float rounding.
    budget = None if target_bits is None else int(np.floor(target_bits * total + 1e-9))
    # front: {total bits used: (cost, widths)}, Pareto-pruned after each layer.
    front: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for layer, n in enumerate(sizes):
        grown: dict[int, tuple[float, tuple[int, ...]]] = {}
        for used, (cost, widths) in front.items():
            for j, b in enumerate(choices):
                key = used + n * b
                if budget is not None and key > budget:
                    continue
                candidate = (cost + float(costs[layer, j]), (*widths, b))
                if key not in grown or candidate[0] < grown[key][0]:
                    grown[key] = candidate
        front = _pareto(grown)
        if not front:
            raise ValueError(f"no allocation of {list(choices)} bits meets target_bits={target_bits}.")
    scored = [(cost + bit_lambda * used / total, used, widths) for used, (cost, widths) in front.items()]
    return list(min(scored)[2])


def _pareto(front: dict) -> dict:
    """Keep the allocations that no allocation with fewer (or equal) bits beats on cost."""
    kept: dict = {}
    best = np.inf
    for used in sorted(front):
        cost = front[used][0]
        if cost < best:
            kept[used] = front[used]
            best = cost
    return kept


@torch.no_grad()
def layer_sensitivity(module, X, y, sample_weight, loss: str, choices: Sequence[int]) -> np.ndarray:
    """``S[l, j]``: the data loss with layer ``l``'s grid at ``choices[j]`` bits, the others as they are.

    Parameters
    ----------
    module : QuantMLP
        With initialised grids; its learned-bit layers are the ones measured.
    X, y, sample_weight : torch.Tensor
        A batch of training rows, targets and weights (or None).
    loss : str
        A key of :data:`skqat._losses.LOSSES`.
    choices : sequence of int

    Returns
    -------
    ndarray of shape (n_learned_layers, n_choices)
    """
    was_training = module.training
    module.eval()
    rows = []
    for layer in module.learned_bit_layers():
        quantizer = layer.weight_quantizer
        saved = quantizer.grid_state()
        row = []
        for b in choices:
            quantizer.try_bits(b, layer.masked_weight())
            row.append(float(LOSSES[loss](module(X), y, sample_weight)))
        quantizer.load_grid_state(saved)
        rows.append(row)
    module.train(was_training)
    return np.asarray(rows)


def allocate_weight_bits(
    module,
    X,
    y,
    sample_weight,
    loss: str,
    *,
    bit_bounds: tuple[int, int],
    target_bits: float | None,
    bit_lambda: float,
) -> list[int]:
    """Measure, solve and set the widths of the module's learned-bit layers.

    Returns
    -------
    list of int
        The widths chosen, one per learned-bit layer.
    """
    choices = list(range(bit_bounds[0], bit_bounds[1] + 1))
    costs = layer_sensitivity(module, X, y, sample_weight, loss, choices)
    layers = module.learned_bit_layers()
    sizes = [layer.weight.numel() for layer in layers]
    widths = solve_allocation(costs, sizes, choices, target_bits=target_bits, bit_lambda=bit_lambda)
    for layer, b in zip(layers, widths):
        layer.weight_quantizer.allocate(b, layer.masked_weight())
    return widths
