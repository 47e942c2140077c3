"""Plain Adam and SGD over ``torch._foreach_*`` kernels (named in :mod:`skqat._compat`).

Why not ``torch.optim``: constructing the first ``torch.optim`` optimizer in a
process imports ``torch._dynamo``, which costs 2 to 3 seconds, longer than
scikit-learn's whole fit on small data. These optimizers follow scikit-learn's
``_stochastic_optimizers`` exactly (update rules, learning-rate schedules and
``trigger_stopping``), so hyperparameters mean the same thing in both.
"""

from __future__ import annotations

import math

import torch

from . import _compat

__all__ = ["Adam", "SGD", "make_optimizer"]


class _Optimizer:
    """Shared learning-rate bookkeeping."""

    def __init__(self, params, learning_rate_init):
        self.params = list(params)
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)

    def iteration_ends(self, time_step: int) -> None:
        """Hook called at the end of each epoch with the number of samples seen."""

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        """Whether training should stop after no improvement; see scikit-learn."""
        return True

    def state_tensors(self) -> list[torch.Tensor]:
        """The optimizer's own tensors (moments, velocities), for saving."""
        return []


#: Largest change of a grid's ``log s`` (or zero point, in codes) one SGD
#: gradient may ask for, before momentum: a grid moves at most about 5% per
#: step however large the learning rate (see :class:`SGD`).
GRID_STEP_BOUND = 0.05


class SGD(_Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum, as scikit-learn's.

    Grid parameters get LSQ's SGD step. A grid stores ``log s`` (and its zero
    point in codes), so a plain SGD step on them is ``s**2`` times the step LSQ
    takes on ``s`` itself: an 8-bit weight scale of 0.005 would barely move.
    Their gradients are divided by ``s**2`` (which turns the ``log s`` step into
    LSQ's step on ``s``, and the zero point's into LSQ+'s step on its offset)
    and bounded so that no step asks for more than :data:`GRID_STEP_BOUND`.

    Parameters
    ----------
    params : list of torch.Tensor
    learning_rate_init : float
    lr_schedule : {"constant", "invscaling", "adaptive"}
    momentum : float
    nesterov : bool
    power_t : float
    grid_scales : list of (int, torch.Tensor), optional
        ``(i, log_scale)``: ``params[i]`` is a grid parameter whose scale is
        ``exp(log_scale)`` (the ``log_scale`` tensor itself, or the zero point
        it scales).
    """

    def __init__(
        self,
        params,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
        grid_scales=(),
    ):
        super().__init__(params, learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = [torch.zeros_like(p) for p in self.params]
        # Private: rebuilt from the module, never saved.
        self._grid_scales = list(grid_scales)

    def iteration_ends(self, time_step: int) -> None:
        if self.lr_schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg: str, verbose: bool) -> bool:
        if self.lr_schedule != "adaptive":
            return True
        if self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        return False

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Apply one update from ``grads`` (aligned with ``params``)."""
        if self._grid_scales:
            grads = list(grads)
            bound = GRID_STEP_BOUND / self.learning_rate
            for i, log_scale in self._grid_scales:
                grads[i] = (grads[i] * torch.exp(-2.0 * log_scale)).clamp_(-bound, bound)
        # v <- momentum * v - lr * g
        _compat.foreach_mul_(self.velocities, self.momentum)
        _compat.foreach_add_(self.velocities, grads, alpha=-self.learning_rate)
        if self.nesterov:
            _compat.foreach_add_(self.params, self.velocities, alpha=self.momentum)
            _compat.foreach_add_(self.params, grads, alpha=-self.learning_rate)
        else:
            _compat.foreach_add_(self.params, self.velocities)

    def state_tensors(self):
        return self.velocities


class Adam(_Optimizer):
    """Adam (Kingma and Ba 2014) in scikit-learn's formulation.

    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` and
    ``param -= lr_t * m / (sqrt(v) + epsilon)``.

    Parameters
    ----------
    params : list of torch.Tensor
    learning_rate_init : float
    beta_1, beta_2, epsilon : float
    """

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [torch.zeros_like(p) for p in self.params]
        self.vs = [torch.zeros_like(p) for p in self.params]
        # Private, so not saved with the model: it depends on the torch that loads it.
        self._fused = _fused_adam_available(self.params)
        # The fused kernel reads the step count from a tensor per parameter.
        step = torch.zeros((), dtype=torch.float32, device=self.params[0].device if self.params else None)
        self._steps = [step] * len(self.params)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Apply one update from ``grads`` (aligned with ``params``)."""
        self.t += 1
        bias_1 = 1.0 - self.beta_1**self.t
        bias_2 = 1.0 - self.beta_2**self.t
        self.learning_rate = self.learning_rate_init * math.sqrt(bias_2) / bias_1
        if self._fused:
            # torch's Adam divides sqrt(v) by sqrt(bias_2) before adding
            # epsilon, scikit-learn adds epsilon first: the same update with
            # epsilon / sqrt(bias_2). One kernel per tensor instead of six
            # passes (3x faster on the float32 W2 benchmark).
            self._steps[0].fill_(self.t)
            assert _compat.fused_adam_ is not None  # self._fused says so
            _compat.fused_adam_(
                self.params,
                list(grads),
                self.ms,
                self.vs,
                [],
                self._steps,
                lr=self.learning_rate_init,
                beta1=self.beta_1,
                beta2=self.beta_2,
                weight_decay=0.0,
                eps=self.epsilon / math.sqrt(bias_2),
                amsgrad=False,
                maximize=False,
            )
            return
        _compat.foreach_lerp_(self.ms, grads, 1.0 - self.beta_1)
        _compat.foreach_mul_(self.vs, self.beta_2)
        _compat.foreach_addcmul_(self.vs, grads, grads, value=1.0 - self.beta_2)
        denom = _compat.foreach_sqrt(self.vs)
        _compat.foreach_add_(denom, self.epsilon)
        _compat.foreach_addcdiv_(self.params, self.ms, denom, value=-self.learning_rate)

    def state_tensors(self):
        return self.ms + self.vs


def _fused_adam_available(params) -> bool:
    """Whether torch has a fused Adam kernel for these parameters' device (CPU since torch 2.4)."""
    if not params or _compat.fused_adam_ is None:
        return False
    device = params[0].device.type
    return device == "cuda" or (device == "cpu" and _compat.TORCH_VERSION >= (2, 4))


def make_optimizer(
    solver: str,
    params,
    *,
    learning_rate_init,
    learning_rate,
    momentum,
    nesterovs_momentum,
    power_t,
    beta_1,
    beta_2,
    epsilon,
    grid_scales=(),
):
    """Build the optimizer named by scikit-learn's ``solver`` parameter.

    ``grid_scales`` (see :class:`SGD`) matters to SGD only: Adam's steps do
    not depend on the gradient's magnitude.
    """
    if solver == "sgd":
        return SGD(
            params, learning_rate_init, learning_rate, momentum, nesterovs_momentum, power_t, grid_scales
        )
    return Adam(params, learning_rate_init, beta_1, beta_2, epsilon)
