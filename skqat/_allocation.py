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
   mean_bits`` subject to ``mean_bits <= target_bits`` (the mean bit width
   per weight, :func:`mean_bits`) or to the packed model's bytes being at
   most ``target_bytes``. The solution is
   exact: a dynamic programme over the layers keeps every allocation that no
   other beats on both bits and loss (a Pareto front), so it is the true
   optimum of the additive model, not a rounding of a relaxation.

The budget is therefore a guarantee: every width is an integer within the
bounds and the mean never exceeds ``target_bits`` (nor the size
``target_bytes``).

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
    """Refuse a ``target_bits`` no allocation within ``bit_bounds`` can meet.

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
    choice_bytes: np.ndarray | None = None,
    byte_budget: int | None = None,
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
    choice_bytes : ndarray of int, shape (n_layers, n_choices), optional
        Bytes of layer ``l``'s weights at ``choices[j]`` bits, for ``byte_budget``.
    byte_budget : int or None
        Upper bound of ``sum_l choice_bytes[l, b_l]``; None for no bound.

    Returns
    -------
    list of int
        One width per layer. Of allocations with equal loss, the one using
        the least of the budget.

    Raises
    ------
    ValueError
        If no allocation meets the budget.
    """
    counts = np.asarray(sizes, dtype=np.int64)
    widths = np.asarray(choices, dtype=np.int64)
    # The price is additive over layers: fold it into each layer's cost.
    values = np.asarray(costs, dtype=np.float64) + bit_lambda * np.outer(counts, widths) / counts.sum()
    capacity: int | None
    if byte_budget is not None:
        weights, capacity = np.asarray(choice_bytes, dtype=np.int64), int(byte_budget)
    else:
        # Integer bit totals: the budget check is exact, with no float rounding.
        weights = np.outer(counts, widths)
        capacity = None if target_bits is None else int(np.floor(target_bits * counts.sum() + 1e-9))
    picked = _knapsack(values, weights, capacity)
    if picked is None:
        raise ValueError(f"no allocation of {list(choices)} bits per layer fits the budget.")
    return [int(widths[j]) for j in picked]


def _knapsack(values: np.ndarray, weights: np.ndarray, capacity: int | None) -> tuple[int, ...] | None:
    """Exact multiple-choice knapsack: one item per row, least total value within ``capacity``.

    A dynamic programme over the rows keeps, for each total weight reached,
    the cheapest choice so far, and drops totals that a lighter total beats
    on value (a Pareto front). None if nothing fits. Without a capacity the
    rows are independent: each takes its cheapest choice. With many rows and
    a small capacity (one input feature per row) the front is a dense array
    (:func:`_dense_knapsack`).
    """
    if capacity is None:
        return tuple(int(np.argmin(row)) for row in values)
    if len(values) > _DENSE_ROWS and capacity <= _DENSE_CAPACITY:
        return _dense_knapsack(values, weights, capacity)
    front: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for row_values, row_weights in zip(values, weights):
        grown: dict[int, tuple[float, tuple[int, ...]]] = {}
        for used, (value, picked) in front.items():
            for j, (v, w) in enumerate(zip(row_values, row_weights)):
                key = used + int(w)
                if capacity is not None and key > capacity:
                    continue
                if key not in grown or value + v < grown[key][0]:
                    grown[key] = (value + float(v), (*picked, j))
        front = _pareto(grown)
        if not front:
            return None
    return min(front.items(), key=lambda item: (item[1][0], item[0]))[1][1]


#: Rows from which, and capacities up to which, the knapsack runs on a dense array.
_DENSE_ROWS, _DENSE_CAPACITY = 16, 1 << 20


def _dense_knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> tuple[int, ...] | None:
    """:func:`_knapsack` on an array over every total ``t`` in ``0..capacity`` (least value of each).

    The same optimum as the Pareto front (least value, then least total),
    in numpy operations per row and choice instead of Python ones per total.
    """
    best = np.full(capacity + 1, np.inf)
    best[0] = 0.0
    picks = np.zeros((len(values), capacity + 1), dtype=np.int16)
    for i, (row_values, row_weights) in enumerate(zip(values, weights)):
        grown = np.full(capacity + 1, np.inf)
        for j, (v, w) in enumerate(zip(row_values, row_weights)):
            w = int(w)
            if w > capacity or not np.isfinite(v):
                continue
            candidate = best[: capacity + 1 - w] + v
            better = candidate < grown[w:]
            grown[w:][better] = candidate[better]
            picks[i, w:][better] = j
        best = grown
    if not np.isfinite(best).any():
        return None
    total = int(np.argmin(best))  # the first of equal values: the least total
    picked = []
    for i in range(len(values) - 1, -1, -1):
        j = int(picks[i, total])
        picked.append(j)
        total -= int(weights[i][j])
    return tuple(reversed(picked))


def _pareto(front: dict) -> dict:
    """Keep the totals that no lighter (or equal) total beats on value."""
    kept: dict = {}
    best = np.inf
    for used in sorted(front):
        value = front[used][0]
        if value < best:
            kept[used] = front[used]
            best = value
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
    weight_bytes=None,
    byte_budget: int | None = None,
) -> list[int]:
    """Measure, solve and set the widths of the module's learned-bit layers.

    ``weight_bytes(layer_index, bits)`` gives the packed bytes of a layer's
    weights, for ``byte_budget`` (the bytes the weights may take).

    Returns
    -------
    list of int
        The widths chosen, one per learned-bit layer.
    """
    choices = list(range(bit_bounds[0], bit_bounds[1] + 1))
    costs = layer_sensitivity(module, X, y, sample_weight, loss, choices)
    layers = module.learned_bit_layers()
    sizes = [layer.weight.numel() for layer in layers]
    choice_bytes = None
    if byte_budget is not None:
        choice_bytes = np.array([[weight_bytes(i, b) for b in choices] for i in range(len(layers))])
    widths = solve_allocation(
        costs,
        sizes,
        choices,
        target_bits=target_bits,
        bit_lambda=bit_lambda,
        choice_bytes=choice_bytes,
        byte_budget=byte_budget,
    )
    for layer, b in zip(layers, widths):
        layer.weight_quantizer.allocate(b, layer.masked_weight())
    return widths
