"""The torch state of a fitted estimator: its network, optimizer, random generator and progress monitor.

:class:`FittedState` gathers what a warm start continues from. It takes a
snapshot before a continued fit and restores it when that fit diverges, and
it turns itself into plain numpy arrays for pickling (so a model fitted on a
GPU loads on a machine without one, and nothing torch-specific leaks into
the file) and back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from ._training import ProgressMonitor

__all__ = ["ARRAY_KEYS", "FittedState", "optimizer_attributes"]

#: The pickled names of the arrays :meth:`FittedState.to_arrays` writes (kept for older pickles).
ARRAY_KEYS = ("_module_arrays", "_optimizer_arrays", "_optimizer_attrs", "_generator_state")


def optimizer_attributes(optimizer) -> dict:
    """The optimizer's scalar state (step count, learning rate), what a restored copy needs."""
    return {k: v for k, v in vars(optimizer).items() if not isinstance(v, list) and not k.startswith("_")}


def _monitor_with(monitor: ProgressMonitor, best_state) -> ProgressMonitor:
    """A copy of ``monitor`` holding ``best_state`` (numpy arrays or tensors)."""
    copy = ProgressMonitor(**{f.name: getattr(monitor, f.name) for f in fields(monitor)})
    copy.best_state = best_state
    return copy


@dataclass
class FittedState:
    """The network, optimizer, generator and monitor a fitted estimator trains on.

    Parameters
    ----------
    module : QuantMLP
    optimizer : the optimizer of :mod:`skqat._optim`
    generator : torch.Generator
    monitor : ProgressMonitor
    """

    module: torch.nn.Module
    optimizer: Any
    generator: torch.Generator
    monitor: ProgressMonitor

    @classmethod
    def of(cls, estimator) -> FittedState:
        return cls(estimator._module, estimator._optimizer, estimator._generator, estimator._monitor)

    # -- a continued fit that diverges goes back to where it started ----
    def snapshot(self) -> dict:
        """Copies of the network's and optimizer's state."""
        return {
            "module": {k: v.detach().clone() for k, v in self.module.state_dict().items()},
            "optimizer": [t.clone() for t in self.optimizer.state_tensors()],
            "optimizer_attrs": dict(vars(self.optimizer)),
        }

    def restore(self, snapshot: dict) -> None:
        """Put back a :meth:`snapshot`."""
        self.module.load_state_dict(snapshot["module"])
        self.module.eval()
        for target, saved in zip(self.optimizer.state_tensors(), snapshot["optimizer"]):
            target.copy_(saved)
        for key in ("t", "learning_rate"):
            if key in snapshot["optimizer_attrs"]:
                setattr(self.optimizer, key, snapshot["optimizer_attrs"][key])

    # -- pickling --------------------------------------------------------
    def to_arrays(self) -> dict:
        """The state as numpy arrays and plain values, keyed by :data:`ARRAY_KEYS` (and ``_monitor``)."""
        arrays = {
            "_module_arrays": {k: v.detach().cpu().numpy() for k, v in self.module.state_dict().items()},
            "_optimizer_arrays": [t.detach().cpu().numpy() for t in self.optimizer.state_tensors()],
            "_optimizer_attrs": optimizer_attributes(self.optimizer),
            "_generator_state": self.generator.get_state().numpy(),
            "_monitor": self.monitor,
        }
        if self.monitor.best_state is not None:
            best = {k: v.cpu().numpy() for k, v in self.monitor.best_state.items()}
            arrays["_monitor"] = _monitor_with(self.monitor, best)
        return arrays

    def load_arrays(self, arrays: dict) -> None:
        """Fill a freshly built state (module, optimizer, generator) from :meth:`to_arrays`'s output."""
        self.module.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in arrays["_module_arrays"].items()}
        )
        self.module.eval()
        if arrays.get("_generator_state") is not None:
            self.generator.set_state(torch.from_numpy(np.array(arrays["_generator_state"])))
        for target, saved in zip(self.optimizer.state_tensors(), arrays["_optimizer_arrays"]):
            target.copy_(torch.from_numpy(np.array(saved)))
        for key, value in arrays["_optimizer_attrs"].items():
            setattr(self.optimizer, key, value)
        if self.monitor.best_state is not None:
            best = {k: torch.from_numpy(np.array(v)) for k, v in self.monitor.best_state.items()}
            self.monitor = _monitor_with(self.monitor, best)
