"""QuantizedMLPClassifier."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from ._base import BaseQuantizedMLP
from ._compat import fit_context
from ._docstrings import fill
from ._head import LabelHead

__all__ = ["QuantizedMLPClassifier"]


class QuantizedMLPClassifier(ClassifierMixin, BaseQuantizedMLP):
    """Multilayer perceptron classifier trained with learned quantization.

    A drop-in for scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
    whose weights (and hidden activations) live on low-bit integer grids.
    The grids' scales and zero points are learned with the weights by
    back-propagation through a straight-through estimator, on a PyTorch
    backend.

    Parameters
    ----------
    %(network_parameters)s
    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels, in the type they were given (strings, integers,
        categories).

    out_activation_ : str
        ``"softmax"`` for multiclass, ``"logistic"`` for binary and
        multilabel targets.

    %(fitted_attributes)s
    See Also
    --------
    QuantizedMLPRegressor : The regressor counterpart.
    sklearn.neural_network.MLPClassifier : The float model this one mirrors.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), weight_bits=4,
    ...                              learning_rate_init=0.01, max_iter=300,
    ...                              random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> len(set(clf.coefs_[1].ravel())) <= 2 ** 4
    True
    >>> clf.predict_arithmetic_   # predict runs the integer model export_integer() returns
    'integer'
    """

    def __init__(
        self,
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

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _validate_targets(self, y, *, reset, incremental):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if reset and not incremental:
            self._set_classes(LabelBinarizer().fit(y))
        else:
            seen = unique_labels(y)
            if not incremental:
                if set(seen) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{seen}."
                    )
            elif not self._label_binarizer.y_type_.startswith("multilabel"):
                unseen = np.setdiff1d(seen, self.classes_)
                if len(unseen):
                    raise ValueError(
                        f"`y` has classes not in `self.classes_`: {unseen.tolist()}. "
                        f"`self.classes_` has {self.classes_.tolist()}. Pass every class "
                        "to the first partial_fit call through `classes`."
                    )
        if self.out_activation_ == "softmax":
            # Each label's index in the sorted classes_: what the one-hot rows' argmax gives,
            # without an (n_samples, n_classes) integer array (80 MB on a million rows of 10 classes).
            return np.searchsorted(self.classes_, y), y
        return self._label_binarizer.transform(y), y

    def _set_classes(self, binarizer: LabelBinarizer) -> None:
        classes = binarizer.classes_
        if binarizer.y_type_.startswith("multilabel"):
            n_outputs, activation = len(classes), "logistic"
        elif len(classes) <= 2:
            # One class fits too, as in scikit-learn's MLP: one logistic output
            # trained toward 0, and predict returns that class.
            n_outputs, activation = 1, "logistic"
        else:
            n_outputs, activation = len(classes), "softmax"
        self._label_binarizer = binarizer
        self.classes_ = classes
        self.n_outputs_ = n_outputs
        self.out_activation_ = activation

    def _target_dtype(self, fit_dtype):
        return torch.int64 if self.out_activation_ == "softmax" else fit_dtype

    def _output_from_raw(self, raw):
        if self.out_activation_ == "softmax":
            return torch.softmax(raw, dim=1)
        return torch.sigmoid(raw)

    def _label_head(self):
        return LabelHead.for_classifier(self.classes_, self._label_binarizer.y_type_)

    def _score_outputs(self, outputs, y, sample_weight):
        # The head's rules are LabelBinarizer.inverse_transform's, without its per-call validation.
        return accuracy_score(y, self._label_head().labels(outputs), sample_weight=sample_weight)

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
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (strings, integers, categories), or a label-indicator
            matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : QuantizedMLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Target values.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call,
            ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : QuantizedMLPClassifier
            The updated estimator.
        """
        first = _check_partial_fit_first_call(self, classes)
        if first:
            binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                binarizer.fit(y)
            else:
                binarizer.fit(np.asarray(classes))
            self._set_classes(binarizer)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict class labels with the quantized network.

        A model trained integer-only (the default; ``predict_arithmetic_``)
        computes with the integer model of ``export_integer()``: input codes,
        integer accumulation with int32 biases, fixed-point requantization,
        and labels from the int32 logits (ties to the first class). Other
        models compute the trained network in float.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels, in the type of ``classes_``.
        """
        return self._predict_labels(X)  # checks that the model is fitted first

    def predict_proba(self, X):
        """Probability estimates.

        From the integer model's int32 logits times their scale on a model
        trained integer-only (as ``export_integer().predict_proba``,
        exactly), from the float network otherwise; see :meth:`predict`.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_``; for multilabel
            targets, the probability of each label.
        """
        outputs = self._predict_outputs(X)
        return self._frozen.head.proba(outputs)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``; ``-inf`` where a probability is 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


QuantizedMLPClassifier.__doc__ = fill(QuantizedMLPClassifier.__doc__ or "")
