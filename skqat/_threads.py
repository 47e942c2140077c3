"""Deliberate torch thread counts during training."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

import torch

__all__ = ["training_threads", "worker_thread_budget"]

# Multiply-adds per training step below which extra intra-op threads cost more
# in synchronisation than they save (measured on 2-core machines: a 64-100-10
# network with batch 200 ran faster on one thread than on two).
_SINGLE_THREAD_WORK = 4_000_000


def _work_per_step(batch_size: int, layer_sizes: Sequence[int]) -> int:
    return batch_size * sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def worker_thread_budget() -> int | None:
    """Threads of the Dask worker running this code, or None outside a Dask worker.

    Dask runs ``threads_per_worker`` tasks at once in a worker; a task's torch
    should use no more than that many threads, or workers oversubscribe the
    machine's cores.
    """
    if "distributed" not in sys.modules:  # not imported: certainly not in a worker
        return None
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


@contextlib.contextmanager
def training_threads(batch_size: int, layer_sizes: Sequence[int], device: torch.device):
    """Choose torch's intra-op threads for a fit, and restore the setting after.

    One thread for small CPU work; never more than a Dask worker's thread
    budget; otherwise the process's setting, which joblib's workers already
    limit to their share of the cores (``OMP_NUM_THREADS``). Yields the
    number of threads in use; ``torch.get_num_threads()`` is restored on exit,
    even on error.
    """
    previous = torch.get_num_threads()
    threads = previous
    if device.type == "cpu":
        if _work_per_step(batch_size, layer_sizes) < _SINGLE_THREAD_WORK:
            threads = 1
        budget = worker_thread_budget()
        if budget is not None:
            threads = min(threads, budget)
    if threads != previous:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
