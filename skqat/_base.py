"""The shared scikit-learn estimator behind the classifier and the regressor."""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import __version__
from ._activations import ACTIVATIONS
from ._compat import Interval, Options, StrOptions, check_sample_weight
from ._fitted_state import ARRAY_KEYS, FittedState, optimizer_attributes
from ._freeze import freeze
from ._head import LabelHead
from ._inference import plan_from_network
from ._losses import LOSS_OF_OUTPUT_ACTIVATION
from ._optim import make_optimizer
from ._progress import EpochProgress
from ._quantizers import SCHEMES
from ._record_checks import check_network
from ._report import input_grid_report, quantization_report
from ._schedules import Schedule, calibration_batch
from ._spec import build_module, network_spec, torch_dtype
from ._threads import training_threads
from ._training import Objective, ProgressMonitor, TrainingData, TrainingDiverged, fit_loop
from ._user_input import dense, explain_non_numeric, user_stacklevel
from .exceptions import InconsistentVersionWarning

__all__ = ["BaseQuantizedMLP"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

# Rows per forward pass at predict time: bounds memory on large inputs.
_PREDICT_CHUNK = 65_536


def resolve_device(device: str) -> torch.device:
    """Map the ``device`` parameter to a ``torch.device``, or explain why not."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but this machine has no CUDA device "
            "available to torch. Use device='cpu', or device='auto' to pick CUDA "
            "only when present."
        )
    return torch.device(device)


class BaseQuantizedMLP(BaseEstimator, metaclass=ABCMeta):
    """Base class for quantization-aware MLP estimators; do not use directly."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "weight_bits": [
            Interval(Integral, 1, 16, closed="both"),
            None,
            StrOptions({"learned"}),
            "array-like",
        ],
        "activation_bits": [Interval(Integral, 2, 16, closed="both"), None],
        "quantizer": [StrOptions(set(SCHEMES))],
        "granularity": [StrOptions({"per_tensor", "per_channel"})],
        "symmetric": ["boolean"],
        "quant_lambda": [Interval(Real, 0, None, closed="left")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "ste": [StrOptions({"clipped", "identity"})],
        "quant_delay": [Interval(Integral, 0, None, closed="left")],
        "quant_lambda_schedule": [StrOptions({"constant", "linear"})],
        "noise_rate": [Interval(Real, 0, 1, closed="right")],
        "bit_lambda": [Interval(Real, 0, None, closed="left")],
        "target_bits": [Interval(Real, 1, 16, closed="both"), None],
        "target_bytes": [Interval(Integral, 1, None, closed="left"), None],
        "bit_bounds": ["array-like"],
        "input_bits": [Interval(Integral, 2, 16, closed="both"), StrOptions({"auto", "learned"}), None],
        "input_granularity": [StrOptions({"per_feature", "per_tensor"})],
        "input_bit_bounds": ["array-like"],
        "input_target_bits": [Interval(Real, 0, 16, closed="both"), None],
        "input_bit_lambda": [Interval(Real, 0, None, closed="left")],
        "bias_bits": [Interval(Integral, 2, 32, closed="both"), StrOptions({"auto"}), None],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        *,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        weight_bits,
        activation_bits,
        quantizer,
        granularity,
        symmetric,
        quant_lambda,
        device,
        ste,
        quant_delay,
        quant_lambda_schedule,
        noise_rate,
        bit_lambda,
        bit_bounds,
        target_bits,
        target_bytes,
        input_bits,
        input_granularity,
        bias_bits,
        sparsity,
        input_bit_bounds,
        input_target_bits,
        input_bit_lambda,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.weight_bits = weight_bits
        self.activation_bits = activation_bits
        self.quantizer = quantizer
        self.granularity = granularity
        self.symmetric = symmetric
        self.quant_lambda = quant_lambda
        self.device = device
        self.ste = ste
        self.quant_delay = quant_delay
        self.quant_lambda_schedule = quant_lambda_schedule
        self.noise_rate = noise_rate
        self.bit_lambda = bit_lambda
        self.bit_bounds = bit_bounds
        self.target_bits = target_bits
        self.target_bytes = target_bytes
        self.input_bits = input_bits
        self.input_granularity = input_granularity
        self.bias_bits = bias_bits
        self.sparsity = sparsity
        self.input_bit_bounds = input_bit_bounds
        self.input_target_bits = input_target_bits
        self.input_bit_lambda = input_bit_lambda

    # ------------------------------------------------------------------
    # Hooks the classifier and the regressor fill in
    # ------------------------------------------------------------------
    @abstractmethod
    def _validate_targets(self, y, *, reset, incremental):
        """Check ``y``; return ``(targets, y_for_scoring)`` and set output attributes.

        ``targets`` is what the loss expects (class indices or float
        columns); ``y_for_scoring`` is ``y`` in the user's encoding.
        """

    @abstractmethod
    def _output_from_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """Apply the output activation to the network's raw output."""

    @abstractmethod
    def _score_outputs(self, outputs: np.ndarray, y, sample_weight) -> float:
        """Validation score (accuracy or R^2) of activated outputs against ``y``."""

    @abstractmethod
    def _target_dtype(self, fit_dtype: torch.dtype) -> torch.dtype:
        """Torch dtype of the targets tensor."""

    @abstractmethod
    def _label_head(self) -> LabelHead:
        """The head of the outputs set by :meth:`_validate_targets` (kind and classes)."""

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (Integral, np.integer)):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(isinstance(s, (Integral, np.integer)) and not isinstance(s, bool) for s in sizes) or any(
            s <= 0 for s in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be a positive integer or a sequence of positive "
                f"integers, got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _validate_X_y(self, X, y, sample_weight, reset):
        with explain_non_numeric(X):
            X, y = validate_data(
                self,
                X,
                y,
                reset=reset,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                multi_output=True,
                y_numeric=not self._is_classifier(),
            )
        X = dense(X)
        if X.shape[1] == 0:
            raise ValueError(
                "X has 0 features; an MLP needs at least one input column. "
                "Check the preprocessing that produced X."
            )
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
            if np.any(sample_weight < 0):
                raise ValueError(
                    "sample_weight contains negative values; weights must be "
                    "non-negative (use 0 to ignore a sample)."
                )
        return X, y, sample_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _is_classifier(self) -> bool:
        return self.__sklearn_tags__().estimator_type == "classifier"

    # ------------------------------------------------------------------
    # Building the network
    # ------------------------------------------------------------------
    def _module_spec(self, n_features: int | None, n_outputs: int | None, dtype: torch.dtype) -> dict:
        """Everything needed to rebuild the network, validated and frozen at fit time.

        ``None`` sizes (before the data is seen) check the parameters alone.
        """
        if n_features is None or n_outputs is None:
            return network_spec(
                self.get_params(deep=False), [1, *self._hidden_sizes(), 1], dtype, sized=False
            )
        layer_sizes = [n_features, *self._hidden_sizes(), n_outputs]
        return network_spec(self.get_params(deep=False), layer_sizes, dtype)

    def _new_optimizer(self, module):
        params = [p for p in module.parameters() if p.requires_grad]
        position = {id(p): i for i, p in enumerate(params)}
        grid_scales = [
            (position[id(p)], log_scale) for p, log_scale in module.scaled_parameters() if id(p) in position
        ]
        return make_optimizer(
            self.solver,
            params,
            learning_rate_init=self.learning_rate_init,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            power_t=self.power_t,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            grid_scales=grid_scales,
        )

    def _initialize(self, n_features: int, dtype: torch.dtype, device: torch.device) -> None:
        """Fresh network, optimizer and bookkeeping (a first or cold fit)."""
        self._random_state = check_random_state(self.random_state)
        self._spec = self._module_spec(n_features, self.n_outputs_, dtype)
        self._module = build_module(self._spec, device)
        self._module.reset_parameters(self._random_state)
        self._generator = torch.Generator(device=device)
        self._generator.manual_seed(int(self._random_state.randint(2**31 - 1)))
        self._module.set_generator(self._generator)
        self._optimizer = self._new_optimizer(self._module)
        self._monitor = ProgressMonitor(tol=self.tol, n_iter_no_change=self.n_iter_no_change)
        self.t_ = 0
        self.n_layers_ = len(self._spec["layer_sizes"])

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, *, incremental=False):
        first = not hasattr(self, "_module") or not (self.warm_start or incremental)
        if self.early_stopping and incremental:
            raise ValueError(
                "partial_fit does not support early_stopping=True; use fit, or set early_stopping=False."
            )
        # Fail on bad hyperparameter combinations before touching the data or the fitted state.
        self._module_spec(None, None, torch.float32)
        caller_rows = X
        X, y, sample_weight = self._validate_X_y(X, y, sample_weight, reset=first)
        targets, y_user = self._validate_targets(y, reset=first, incremental=incremental)
        device = resolve_device(self.device)
        dtype = self._prepare_network(X.shape[1], first, device, _TORCH_DTYPES[X.dtype])
        data, validation_score, batch_size = self._training_data(
            X, targets, y_user, sample_weight, dtype, device, caller_rows
        )
        # Every row seen so far calibrates the integer deployment's input grid.
        x_min, x_max = float(X.min()), float(X.max())
        # The rows now live in `data` alone (or in the caller's array): a copy that validation
        # made goes once fit holds its codes.
        del X, caller_rows
        schedule = Schedule.of(self)
        n_done = self._train(
            data, validation_score, batch_size, schedule, first=first, incremental=incremental
        )

        self.n_iter_ = n_done
        self.t_ += data.n_samples * n_done
        if self.early_stopping and self._monitor.best_state is not None:
            self._module.load_state_dict(self._monitor.best_state)
        self.grid_distance_ = schedule.finish(self._module, data, incremental)
        low, high = getattr(self, "_input_range", (np.inf, -np.inf))
        self._input_range = (min(low, x_min), max(high, x_max))
        self._publish_fitted_attributes(calibration_batch(data))
        if not incremental and n_done == self.max_iter and not self._monitor.stalled:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=user_stacklevel(),
            )
        return self

    def _prepare_network(self, n_features: int, first: bool, device: torch.device, dtype: torch.dtype):
        """A fresh network for a first or cold fit, else the last one on ``device``; returns its dtype."""
        if first:
            self._initialize(n_features, dtype, device)
            self._input_range = (np.inf, -np.inf)
        else:
            self._check_same_network(n_features)
            if self._module_device() != device:
                self._module.to(device)
                self._optimizer = self._moved_optimizer(device)
            dtype = torch_dtype(self._spec)
        # Read at every call, as scikit-learn does: set_params between warm starts takes effect.
        self._monitor.tol, self._monitor.n_iter_no_change = self.tol, self.n_iter_no_change
        return dtype

    def _training_data(self, X, targets, y_user, sample_weight, dtype, device, caller_rows=None):
        """``(data, validation_score, batch_size)``: tensors to train on, less a validation split.

        ``caller_rows``: what the caller passed as ``X``; rows shared with it are read in place.
        """
        X_train, t_train, sw_train = X, targets, sample_weight
        validation_score = None
        if self.early_stopping:
            X_train, t_train, sw_train, validation_score = self._split_validation(
                X, targets, y_user, sample_weight, dtype, device
            )
        data = TrainingData.of(
            X_train, t_train, sw_train, dtype, self._target_dtype(dtype), device, caller_rows
        )
        n_samples = data.n_samples
        if self.batch_size == "auto":
            return data, validation_score, min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} "
                "training samples; using the whole training set as one batch.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return data, validation_score, min(self.batch_size, n_samples)

    def _train(
        self, data, validation_score, batch_size: int, schedule: Schedule, *, first: bool, incremental: bool
    ) -> int:
        """Run the epochs of one ``fit`` (or the one of ``partial_fit``); return how many ran."""
        objective = Objective(self._loss_name(), alpha=self.alpha)
        n_epochs = 1 if incremental else self.max_iter
        backup = None if first else FittedState.of(self).snapshot()
        if not first and not incremental:
            # Every fit starts a fresh optimizer (moments, schedule), as scikit-learn's
            # MLP does; partial_fit continues the last one. The backup keeps the old
            # one's state for a diverged fit to restore.
            self._optimizer = self._new_optimizer(self._module)
        # verbose=True: a progress bar over fit's epochs. verbose > 1, and any
        # verbose partial_fit: scikit-learn's "Iteration i, loss = ..." lines.
        lines = bool(self.verbose) and (incremental or self.verbose > 1)
        progress = EpochProgress(n_epochs, enabled=bool(self.verbose) and not lines)

        def report_epoch(epoch: int, loss: float, score: float | None) -> None:
            progress.update(epoch, loss, score, bits=self._module.mean_weight_bits())
            if lines:
                print(f"Iteration {epoch + 1}, loss = {loss:.8f}")
                if score is not None:
                    print(f"Validation score: {score:f}")

        self._module.train()
        try:
            with training_threads(batch_size, self._spec["layer_sizes"], data.device) as threads, progress:
                self._n_threads = threads
                if first and not incremental and self._module.bits_unallocated():
                    # weight_bits="learned": the widths are chosen on a warm-up before the epochs.
                    interrupted = schedule.warm_up_and_allocate(
                        self._module,
                        self._new_optimizer(self._module),
                        data,
                        objective,
                        batch_size=batch_size,
                        shuffle=self.shuffle,
                        rng=self._random_state,
                    )
                    n_epochs = 0 if interrupted else n_epochs
                n_done = fit_loop(
                    self._module,
                    self._optimizer,
                    data,
                    objective,
                    self._monitor,
                    n_epochs=n_epochs,
                    batch_size=batch_size,
                    shuffle=self.shuffle,
                    rng=self._random_state,
                    validation_score=validation_score,
                    before_epoch=lambda epoch: schedule.before_epoch(self._module, epoch, data, objective),
                    progress=report_epoch,
                    samples_seen=self.t_,
                )
        except TrainingDiverged as exc:
            if backup is None:
                self._forget_fit()
            else:
                # Into the optimizer this fit made: the snapshot holds the one before it.
                FittedState.of(self).restore(backup)
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large values "
                f"and need to be preprocessed. Training diverged ({exc}). Lower learning_rate_init (it is "
                f"{self.learning_rate_init}), scale the features (for example with "
                "StandardScaler), or raise alpha."
            ) from None
        self._module.eval()
        return n_done

    def _loss_name(self) -> str:
        return LOSS_OF_OUTPUT_ACTIVATION[self.out_activation_]

    def _check_same_network(self, n_features: int) -> None:
        """Continuing training (warm_start, partial_fit) needs the network of the last fit."""
        requested = self._module_spec(n_features, self.n_outputs_, torch_dtype(self._spec))
        # A key a model saved by an earlier version lacks is not a change: that model keeps its behaviour.
        changed = [key for key in requested if key in self._spec and requested[key] != self._spec[key]]
        if changed:
            details = ", ".join(f"{key}: {self._spec[key]!r} -> {requested[key]!r}" for key in changed)
            raise ValueError(
                f"The network changed since the last fit ({details}); warm_start=True and "
                "partial_fit continue training the same network. Restore those parameters, "
                "or set warm_start=False to train a new network."
            )

    def _split_validation(self, X, targets, y_user, sample_weight, dtype, device):
        stratify = None
        if self._is_classifier() and self.n_outputs_ == 1:
            # As scikit-learn's MLP: binary targets only, stratified on the binarized
            # labels (so split errors name the same classes as scikit-learn's).
            stratify = self._label_binarizer.transform(y_user).astype(bool)
        arrays = [X, targets, y_user] + ([sample_weight] if sample_weight is not None else [])
        try:
            parts = train_test_split(
                *arrays,
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
        except ValueError as exc:
            raise ValueError(
                f"Could not hold out validation_fraction={self.validation_fraction} of the "
                f"{X.shape[0]} samples for early stopping: {exc} Increase "
                "validation_fraction or the number of samples, or set early_stopping=False."
            ) from None
        X_train, X_val, t_train, _, _, y_val = parts[:6]
        sw_train, sw_val = (parts[6], parts[7]) if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        X_val_tensor = torch.tensor(X_val, dtype=dtype, device=device)

        def score() -> float:
            outputs = self._outputs_tensor(X_val_tensor).cpu().numpy()
            return float(self._score_outputs(outputs, y_val, sw_val))

        return X_train, t_train, sw_train, score

    # ------------------------------------------------------------------
    # State handling
    # ------------------------------------------------------------------
    def _module_device(self) -> torch.device:
        return next(self._module.parameters()).device

    def _forget_fit(self) -> None:
        for name in ("_module", "_optimizer", "_monitor", "_spec"):
            self.__dict__.pop(name, None)

    def _moved_optimizer(self, device):
        state = [t.to(device) for t in self._optimizer.state_tensors()]
        attrs = optimizer_attributes(self._optimizer)
        optimizer = self._new_optimizer(self._module)
        for target, saved in zip(optimizer.state_tensors(), state):
            target.copy_(saved)
        for key, value in attrs.items():
            setattr(optimizer, key, value)
        return optimizer

    def _publish_fitted_attributes(self, calibration: torch.Tensor) -> None:
        monitor = self._monitor
        self.loss_curve_ = list(monitor.loss_curve)
        self.loss_ = monitor.loss_curve[-1] if monitor.loss_curve else None
        early = self.early_stopping
        self.best_loss_ = None if early else monitor.best_loss
        self.validation_scores_ = list(monitor.validation_scores) if early else None
        self.best_validation_score_ = monitor.best_validation_score if early else None
        params = self._module.dequantized_parameters()
        self.coefs_ = [weight.detach().cpu().numpy().T.copy() for weight, _ in params]
        self.intercepts_ = [bias.detach().cpu().numpy().copy() for _, bias in params]
        self._frozen = freeze(
            self._module,
            self.coefs_,
            self.intercepts_,
            self._label_head().with_feature_names(getattr(self, "feature_names_in_", None)),
            input_range=self._input_range,
            calibration=calibration,
        )
        self._plan = plan_from_network(self._frozen)
        self.weight_bits_ = [
            32 if quantizer is None else quantizer.bits for quantizer in self._module.weight_quantizers()
        ]
        self.input_bits_ = self._module.input_widths()

    def __getstate__(self):
        # Pickle plain numpy arrays instead of torch objects: a model fitted on
        # a GPU then loads on a machine without one, and nothing torch-specific
        # (devices, storages) leaks into the file.
        # A copy: object.__getstate__ may hand back the live __dict__.
        state = dict(super().__getstate__())
        state.pop("_plan", None)  # a view of the frozen record (which is pickled); rebuilt on load
        state["_skqat_version"] = __version__
        if state.get("_module") is not None:
            state.update(FittedState.of(self).to_arrays())
        for name in ("_module", "_optimizer", "_generator"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        arrays = {key: state.pop(key) for key in ARRAY_KEYS if key in state}
        saved_version = state.pop("_skqat_version", None)
        if saved_version is not None and saved_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=saved_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
        if "_module_arrays" not in arrays:
            return
        if hasattr(self, "_frozen"):
            # A pickle or skops file travels between machines: check the record before using it.
            check_network(self._frozen, f"this {type(self).__name__}'s file")
            self._plan = plan_from_network(self._frozen)
        device = torch.device("cpu")
        module = build_module(self._spec, device)
        generator = torch.Generator(device=device)
        fitted = FittedState(module, self._new_optimizer(module), generator, self._monitor)
        fitted.load_arrays(arrays)
        module.set_generator(generator)
        self._module, self._optimizer, self._generator = module, fitted.optimizer, generator
        self._monitor = fitted.monitor

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def _outputs_tensor(self, X: torch.Tensor) -> torch.Tensor:
        """Activated outputs for a tensor already on the module's device and dtype."""
        with torch.no_grad():
            chunks = [
                self._output_from_raw(self._module(X[i : i + _PREDICT_CHUNK]))
                for i in range(0, X.shape[0], _PREDICT_CHUNK)
            ]
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)

    def _fitted_plan(self):
        plan = getattr(self, "_plan", None)
        if plan is None:
            check_is_fitted(self)  # raises NotFittedError, scikit-learn's message
            plan = self._plan
        return plan

    def _predict_outputs(self, X) -> np.ndarray:
        """Validate ``X`` and return the activated network outputs, computed with numpy."""
        plan = self._fitted_plan()
        return plan.outputs(self._validate_for_predict(X, plan))

    def _predict_labels(self, X) -> np.ndarray:
        """Validate ``X`` and return a classifier's labels (from integer logits on the integer model)."""
        plan = self._fitted_plan()
        return plan.labels(self._validate_for_predict(X, plan))

    def _validate_for_predict(self, X, plan) -> np.ndarray:
        dtype = plan.dtype
        # The common case (a float array of the right width, model fitted on
        # arrays) skips scikit-learn's general validation, the larger part of a
        # one-row predict; anything else goes through validate_data.
        if (
            type(X) is np.ndarray
            and X.dtype == dtype
            and X.ndim == 2
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        ):
            return X
        with explain_non_numeric(X):
            X = validate_data(
                self, X, reset=False, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32)
            )
        return np.asarray(dense(X), dtype=dtype)

    @property
    def predict_arithmetic_(self) -> str:
        """``"integer"`` when ``predict`` runs the integer model, else ``"float"`` (class docstring)."""
        return self._fitted_plan().arithmetic

    # ------------------------------------------------------------------
    # Export and reporting
    # ------------------------------------------------------------------
    def export_integer(self, requantize: str = "fixed_point"):
        """The fitted network as an integer-only :class:`skqat.export.IntegerMLP`.

        Reads the frozen record written at the end of ``fit``: integer weight
        codes packed at their bit width, per-tensor or per-channel scales and
        zero points, int32 biases on ``s_in * s_w``, the input and activation
        grids and the requantization multipliers.

        For a model trained integer-only (``predict_arithmetic_ ==
        "integer"``, the default) this is exactly what ``predict`` computes:
        the same labels and probabilities on every row. A model trained with
        float inputs (``input_bits=None``) or float activations
        (``activation_bits=None``) deploys on 8-bit grids calibrated on the
        training data at the end of ``fit``, which its float ``predict`` does
        not apply: labels can then differ on a few rows (typically well under
        1%). Train with the grids (the defaults) to ship what you score.

        Parameters
        ----------
        requantize : {"fixed_point", "float32"}, default="fixed_point"
            ``"fixed_point"``: int32 multipliers and shifts rounded as
            TFLite/gemmlowp do (what the C header computes).
            ``"float32"``: float32 multipliers rounded half to even, as
            onnxruntime's integer kernels compute (what the ONNX integer graph
            computes).

        Returns
        -------
        IntegerMLP
            The integer-only model (numpy), bit-exact with the C header and the
            ONNX integer graph.

        Raises
        ------
        ValueError
            If a layer keeps float weights (``weight_bits=None``).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skqat import QuantizedMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=2, max_iter=20).fit(X, y)
        >>> model = clf.export_integer()
        >>> model.layers[0].weight_codes.dtype, model.layers[0].weight_grid.bits
        (dtype('int8'), 2)
        """
        check_is_fitted(self)
        from .export._integer import IntegerMLP

        if not self._frozen.integer:
            raise ValueError(
                "export_integer needs quantized weights in every layer; this model has a float layer "
                "(weight_bits=None somewhere). Refit with integer weight_bits."
            )
        return IntegerMLP(self._frozen, requantize=requantize)

    def quantization_report(self) -> pd.DataFrame:
        """One row per tensor of the fitted network and how it is stored.

        Returns
        -------
        report : pandas.DataFrame
            Columns:

            - ``layer``: layer index, 0 for the first ``QuantLinear``;
            - ``tensor``: ``"input"`` (the quantized features),
              ``"weight"``, ``"bias"`` or ``"activation"`` (the layer's
              quantized output, hidden layers only);
            - ``shape``: the tensor's shape (``coefs_`` orientation);
            - ``bits``: bit width; 32 for tensors kept in float32;
            - ``scale``: a float (per tensor) or an array (per channel);
              NaN for float tensors;
            - ``zero_point``: like ``scale``, integers, in the ONNX /
              torch.ao convention ``q = clamp(round(x / s + zp))``,
              ``x = s * (q - zp)``; 0 when symmetric;
            - ``calibrated``: True for a grid measured on the training data
              at the end of ``fit`` for integer deployment (the input without
              ``input_bits``, activations without ``activation_bits``), which
              ``predict`` does not apply;
            - ``levels_used``: distinct integer codes the stored values use
              (distinct values for float weights; NaN for inputs,
              activations and float biases);
            - ``sparsity``: fraction of exact zeros in a weight matrix;
            - ``bytes``: storage at that bit width, values packed bit by bit,
              plus 4 bytes per scale and per zero point (a quantized bias's
              scale ``s_w * s_in`` is derived, not stored); the column sums
              to ``export_integer().nbytes``;
            - ``float32_bytes``: the same tensor stored as float32;
            - ``compression``: ``float32_bytes / bytes`` (NaN for
              activations, which are not stored).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skqat import QuantizedMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=20).fit(X, y)
        >>> clf.quantization_report()[["layer", "tensor", "bits", "calibrated", "bytes"]]
           layer      tensor  bits  calibrated  bytes
        0      0       input     8       False     16
        1      0      weight     4       False     20
        2      0        bias    32       False     32
        3      0  activation     8       False      4
        4      1      weight     4       False     16
        5      1        bias    32       False     12
        """
        check_is_fitted(self)
        return quantization_report(self._frozen)

    def input_grid_report(self, X=None) -> pd.DataFrame:
        """The input grid feature by feature: bits, scale, zero point and, given data, codes used.

        With ``input_granularity="per_feature"`` each feature has a row of
        its own grid; otherwise every row shows the one grid. A model
        trained without ``input_bits`` shows the 8-bit grid its integer
        model calibrated at the end of ``fit`` (``calibrated`` True).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Rows to count the codes each feature uses on (and its distinct
            values, for comparison).

        Returns
        -------
        report : pandas.DataFrame
            Indexed by feature name (``feature_names_in_``, or ``x0``,
            ``x1``, ...), with columns ``bits``, ``scale``, ``zero_point``,
            ``qmin``, ``qmax``, ``per_feature``, ``calibrated`` and, with
            ``X``, ``codes_used`` and ``distinct_values``. Empty columns for
            a model with no input grid. With ``input_bits="learned"``,
            ``bits`` is each feature's width, ``qmin`` and ``qmax`` the ends
            of its window of codes, ``step`` the codes between its levels
            and ``dropped`` whether it has 0 bits.

        Examples
        --------
        >>> import numpy as np
        >>> from skqat import QuantizedMLPClassifier
        >>> X = np.array([[0.0, 1e4], [1.0, 3e4], [0.0, 2e4], [1.0, 5e4]] * 10)
        >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(4,), input_bits=8, max_iter=5,
        ...                              random_state=0).fit(X, [0, 1, 0, 1] * 10)
        >>> report = clf.input_grid_report(X)
        >>> report[["bits", "codes_used", "distinct_values"]]  # doctest: +NORMALIZE_WHITESPACE
                 bits  codes_used  distinct_values
        feature
        x0          8           2                2
        x1          8           4                4
        """
        check_is_fitted(self)
        return input_grid_report(self._frozen, X)
