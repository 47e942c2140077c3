"""QuantizedMLPRegressor."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ._base import BaseQuantizedMLP
from ._compat import StrOptions, fit_context
from ._docstrings import fill
from ._head import LabelHead
from ._losses import LOSS_OF_OUTPUT_ACTIVATION

#: ``loss`` -> the output activation it implies (``out_activation_``).
_OUTPUT_ACTIVATION_OF_LOSS = {loss: act for act, loss in LOSS_OF_OUTPUT_ACTIVATION.items()}

__all__ = ["QuantizedMLPRegressor"]


class QuantizedMLPRegressor(RegressorMixin, BaseQuantizedMLP):
    """Multilayer perceptron regressor trained with learned quantization.

    A drop-in for scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`
    whose weights (and hidden activations) live on low-bit integer grids
    learned by back-propagation through a straight-through estimator. It
    minimises half the squared error with a linear output layer, or half the
    Poisson deviance with an exponential one.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``"squared_error"``: half the squared error, identity output.
        ``"poisson"``: half the Poisson deviance, for counts and other
        non-negative targets; the network's last layer gives ``log`` of the
        prediction (a log link, ``out_activation_ == "exp"``), so
        predictions are positive. ``y`` must then be non-negative.

    %(network_parameters)s
    Attributes
    ----------
    out_activation_ : str
        ``"identity"``, or ``"exp"`` for ``loss="poisson"``.

    %(fitted_attributes)s
    See Also
    --------
    QuantizedMLPClassifier : The classifier counterpart.
    sklearn.neural_network.MLPRegressor : The float model this one mirrors.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skqat import QuantizedMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), QuantizedMLPRegressor(
    ...     hidden_layer_sizes=(32,), weight_bits=4, learning_rate_init=0.01,
    ...     max_iter=500, random_state=0)).fit(X, y / y.std())
    >>> reg.score(X, y / y.std()) > 0.4
    True
    """

    _parameter_constraints: dict = {
        **BaseQuantizedMLP._parameter_constraints,
        "loss": [StrOptions(set(_OUTPUT_ACTIVATION_OF_LOSS))],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        weight_bits=8,
        activation_bits=8,
        quantizer="lsq",
        granularity="per_tensor",
        symmetric=True,
        quant_lambda=0.0,
        device="cpu",
        ste="clipped",
        quant_delay=0,
        quant_lambda_schedule="constant",
        noise_rate=0.5,
        bit_lambda=0.0,
        bit_bounds=(2, 8),
        target_bits=None,
        target_bytes=None,
        input_bits="auto",
        input_granularity="per_feature",
        bias_bits="auto",
        sparsity=0.0,
        input_bit_bounds=(0, 8),
        input_target_bits=None,
        input_bit_lambda=0.0,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            weight_bits=weight_bits,
            activation_bits=activation_bits,
            quantizer=quantizer,
            granularity=granularity,
            symmetric=symmetric,
            quant_lambda=quant_lambda,
            device=device,
            ste=ste,
            quant_delay=quant_delay,
            quant_lambda_schedule=quant_lambda_schedule,
            noise_rate=noise_rate,
            bit_lambda=bit_lambda,
            bit_bounds=bit_bounds,
            target_bits=target_bits,
            target_bytes=target_bytes,
            input_bits=input_bits,
            input_granularity=input_granularity,
            bias_bits=bias_bits,
            sparsity=sparsity,
            input_bit_bounds=input_bit_bounds,
            input_target_bits=input_target_bits,
            input_bit_lambda=input_bit_lambda,
        )
        self.loss = loss

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _validate_targets(self, y, *, reset, incremental):
        targets = y.reshape(-1, 1) if y.ndim == 1 else y
        activation = _OUTPUT_ACTIVATION_OF_LOSS[self.loss]
        lowest = np.min(targets) if activation == "exp" and targets.size else 0.0
        if lowest < 0:
            raise ValueError(
                f"loss='poisson' needs non-negative targets, but y has a minimum of {lowest:g}; "
                "shift y, or use loss='squared_error'."
            )
        if reset and not incremental or not hasattr(self, "n_outputs_"):
            self.n_outputs_ = targets.shape[1]
            self.out_activation_ = activation
        elif activation != self.out_activation_:
            raise ValueError(
                f"loss={self.loss!r} differs from the loss the model was fitted with; "
                "fit a new model (warm_start=False) to change it."
            )
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} outputs but the model was fitted with "
                f"{self.n_outputs_}; keep the same targets when continuing training."
            )
        return targets, y

    def _target_dtype(self, fit_dtype):
        return fit_dtype

    def _label_head(self):
        return LabelHead(self.out_activation_)

    def _output_from_raw(self, raw):
        return raw.exp() if self.out_activation_ == "exp" else raw

    def _score_outputs(self, outputs, y, sample_weight):
        return r2_score(y, outputs.ravel() if y.ndim == 1 else outputs, sample_weight=sample_weight)

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data, numeric. float32 input trains in float32, anything
            else in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : QuantizedMLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : QuantizedMLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict with the quantized network.

        A model trained integer-only (the default; ``predict_arithmetic_``)
        computes with the integer model of ``export_integer()``: input codes,
        integer accumulation with int32 biases, fixed-point requantization,
        then the int32 outputs times their scale (``exp`` of it for
        ``loss="poisson"``). Other models compute the trained network in
        float.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        outputs = self._predict_outputs(X)  # checks that the model is fitted first
        return self._frozen.head.values(outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


QuantizedMLPRegressor.__doc__ = fill(QuantizedMLPRegressor.__doc__ or "")
