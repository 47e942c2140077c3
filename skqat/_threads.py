"""Deliberate torch thread counts during training."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch

__all__ = ["training_threads"]

# Multiply-adds per training step below which extra intra-op threads cost more
# in synchronisation than they save (measured on 2-core machines: a 64-100-10
# network with batch 200 ran faster on one thread than on two).
_SINGLE_THREAD_WORK = 4_000_000


def _work_per_step(batch_size: int, layer_sizes: Sequence[int]) -> int:
    return batch_size * sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


@contextlib.contextmanager
def training_threads(batch_size: int, layer_sizes: Sequence[int], device: torch.device):
    """Use one intra-op thread for small CPU work, and restore the setting after.

    The process's ``torch.get_num_threads()`` is left as it was when the
    block exits, even on error. Larger work keeps the current setting, which
    under joblib or Dask workers is already the worker's share of the cores.
    """
    previous = torch.get_num_threads()
    small = _work_per_step(batch_size, layer_sizes) < _SINGLE_THREAD_WORK
    if device.type == "cpu" and small and previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
