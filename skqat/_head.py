"""The label head: how a fitted network's outputs become predictions, written once (numpy only).

A :class:`LabelHead` is part of the frozen record
(:attr:`skqat._frozen.FrozenNetwork.head`). ``predict`` and
``predict_proba``, :class:`~skqat.export.IntegerMLP`, the C header, the ONNX
graphs (float and integer, and so skl2onnx) and QONNX all read it; none of
them reads an estimator attribute.

Kinds
-----
====================  ===============  ========  ====================================
kind                  output           columns   labels
====================  ===============  ========  ====================================
``"softmax"``         softmax          classes   argmax (first index on ties)
``"binary"``          logistic         1         ``classes[1]`` where ``p > 0.5``
``"multilabel"``      logistic         labels    0/1 per label, ``p > 0.5``
``"single_class"``    logistic         1         always ``classes[0]``
``"identity"``        identity         outputs   (regression values)
``"exp"``             exp (log link)   outputs   (Poisson regression values)
====================  ===============  ========  ====================================

From integer logits (``IntegerMLP``, C, the integer ONNX graph) the rules are
the same with ``logit > 0`` in place of ``p > 0.5`` and the argmax of the
logits in place of that of the probabilities. ``predict_proba`` of a binary or
single-class head has two columns, ``1 - p`` and ``p``, as scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["HEAD_KINDS", "LabelHead", "OUTPUT_ACTIVATIONS", "logistic", "softmax"]

#: Every head kind, and the output activation each applies to the last layer.
HEAD_KINDS: dict[str, str] = {
    "softmax": "softmax",
    "binary": "logistic",
    "multilabel": "logistic",
    "single_class": "logistic",
    "identity": "identity",
    "exp": "exp",
}

_CLASSIFIER_KINDS = ("softmax", "binary", "multilabel", "single_class")


def logistic(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow warnings for large ``|x|``."""
    return np.exp(-np.logaddexp(0, -x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


#: Output activation name -> numpy function of the (n_samples, n_outputs) logits.
OUTPUT_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softmax": softmax,
    "logistic": logistic,
    "identity": lambda x: x,
    "exp": np.exp,  # the Poisson regressor's log link
}


@dataclass(frozen=True, eq=False)
class LabelHead:
    """What the network's last layer means: the output kind, the classes and the feature names.

    Parameters
    ----------
    kind : str
        One of :data:`HEAD_KINDS` (see the module docstring).
    classes : ndarray or None, default=None
        Class labels of a classifier, in ``classes_``'s order and type (for a
        multilabel head, the label indices); None for a regressor.
    feature_names : tuple of str or None, default=None
        The fitted estimator's ``feature_names_in_``, as strings.

    Examples
    --------
    >>> import numpy as np
    >>> head = LabelHead("binary", np.array(["no", "yes"]))
    >>> head.labels(np.array([[0.2], [0.7]])).tolist()
    ['no', 'yes']
    >>> head.labels(np.array([[-3], [5]]), logits=True).tolist()
    ['no', 'yes']
    >>> head.proba(np.array([[0.25]])).tolist()
    [[0.75, 0.25]]
    """

    kind: str
    classes: np.ndarray | None = None
    feature_names: tuple | None = None

    def __post_init__(self):
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"Unknown head kind {self.kind!r}; expected one of {sorted(HEAD_KINDS)}.")
        if self.is_classifier != (self.classes is not None):
            raise ValueError(f"A {self.kind!r} head {'needs' if self.is_classifier else 'takes no'} classes.")
        if self.classes is not None:
            object.__setattr__(self, "classes", np.asarray(self.classes))
        if self.feature_names is not None:
            object.__setattr__(self, "feature_names", tuple(str(f) for f in self.feature_names))

    @classmethod
    def for_classifier(cls, classes, y_type: str, feature_names=None) -> LabelHead:
        """The head of a classifier with ``classes`` and scikit-learn's ``type_of_target`` ``y_type``.

        Multilabel targets give ``"multilabel"``; one class ``"single_class"``
        (one logistic output trained toward 0, as scikit-learn's MLP); two
        ``"binary"``; more ``"softmax"``.
        """
        classes = np.asarray(classes)
        if y_type.startswith("multilabel"):
            kind = "multilabel"
        else:
            kind = {1: "single_class", 2: "binary"}.get(len(classes), "softmax")
        return cls(kind, classes, feature_names)

    def with_feature_names(self, feature_names) -> LabelHead:
        """The same head with ``feature_names`` (None: none)."""
        return LabelHead(self.kind, self.classes, feature_names)

    # ------------------------------------------------------------------
    # What the head is
    # ------------------------------------------------------------------
    @property
    def is_classifier(self) -> bool:
        return self.kind in _CLASSIFIER_KINDS

    @property
    def out_activation(self) -> str:
        """The output activation: ``"softmax"``, ``"logistic"``, ``"identity"`` or ``"exp"``."""
        return HEAD_KINDS[self.kind]

    @property
    def two_column_proba(self) -> bool:
        """Whether ``predict_proba`` stacks ``1 - p`` and ``p`` from one output (binary, single class)."""
        return self.kind in ("binary", "single_class")

    def n_outputs(self) -> int | None:
        """Units of the last layer a classifier head implies (None for a regressor: any)."""
        if not self.is_classifier:
            return None
        return 1 if self.two_column_proba else len(self.classes)  # type: ignore[arg-type]

    def proba_columns(self, n_outputs: int) -> int:
        """Columns of ``predict_proba`` for a network with ``n_outputs`` output units."""
        return 2 if self.two_column_proba else n_outputs

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------
    def outputs(self, logits: np.ndarray) -> np.ndarray:
        """The output activation applied to real-valued logits (probabilities or regression values)."""
        return OUTPUT_ACTIVATIONS[self.out_activation](logits)

    def labels(self, scores: np.ndarray, *, logits: bool = False) -> np.ndarray:
        """Labels from probabilities (``predict``), or from logits with ``logits=True`` (integer targets).

        Parameters
        ----------
        scores : ndarray of shape (n_samples, n_outputs)
            The output activation's values, or the logits (integer or real).
        logits : bool, default=False
            Threshold at 0 instead of 0.5.

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_labels) of int for multilabel
        """
        if not self.is_classifier:
            raise AttributeError("labels are only defined for a classifier head.")
        classes = self.classes
        assert classes is not None
        threshold = 0 if logits else 0.5
        if self.kind == "softmax":
            return classes[np.asarray(scores).argmax(axis=1)]
        if self.kind == "multilabel":
            return (np.asarray(scores) > threshold).astype(int)
        if self.kind == "single_class":
            # One class seen (as LabelBinarizer.inverse_transform): always that class.
            return np.full(len(scores), classes[0])
        return classes[(np.asarray(scores)[:, 0] > threshold).astype(int)]

    def proba(self, outputs: np.ndarray) -> np.ndarray:
        """``predict_proba`` from the output activation's values: ``[1 - p, p]`` for one output."""
        if not self.is_classifier:
            raise AttributeError("predict_proba is only available for classifiers.")
        return np.hstack([1.0 - outputs, outputs]) if self.two_column_proba else outputs

    def values(self, outputs: np.ndarray) -> np.ndarray:
        """A regressor's predictions: one output as a 1-d array, several as columns."""
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def __eq__(self, other) -> bool:
        if not isinstance(other, LabelHead):
            return NotImplemented
        same_classes = (self.classes is None and other.classes is None) or (
            self.classes is not None
            and other.classes is not None
            and self.classes.shape == other.classes.shape
            and bool(np.all(self.classes == other.classes))
        )
        return self.kind == other.kind and same_classes and self.feature_names == other.feature_names

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays inside

    def __repr__(self) -> str:
        classes = None if self.classes is None else self.classes.tolist()
        return f"LabelHead({self.kind!r}, classes={classes!r}, feature_names={self.feature_names!r})"
