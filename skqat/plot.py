"""Displays for quantized models, following scikit-learn's Display API (extra ``skqat[plot]``).

Each display is built with a ``from_*`` class method, draws with ``plot(ax=None)``
and keeps ``figure_`` and ``ax_`` for further styling, as
:class:`sklearn.metrics.ConfusionMatrixDisplay` does.

- :class:`QuantizationParetoDisplay`: cross-validated score against model size
  for a search over bit widths (and anything else), with the Pareto front.
- :class:`WeightGridDisplay`: a layer's latent float weights against the grid
  levels they are rounded to.
- :class:`TrainingCurveDisplay`: ``loss_curve_`` and, with early stopping,
  ``validation_scores_`` per epoch.
- :class:`InputBitsDisplay`: the bits each input feature got
  (``input_bits_``; with ``input_bits="learned"``, which columns matter and
  how much), as bars or, for pixels, as an image.
"""

from __future__ import annotations

import numpy as np

from ._frozen import network_nbytes, resolve_auto_bits

__all__ = ["InputBitsDisplay", "QuantizationParetoDisplay", "TrainingCurveDisplay", "WeightGridDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("skqat.plot needs matplotlib; install it with: pip install 'skqat[plot]'") from exc
    return plt


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    return _pyplot().subplots()


def _final_estimator(estimator):
    """The skqat estimator at the end of a pipeline (or the estimator itself)."""
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def _param(params: dict, name: str, default):
    """``params[name]`` or a pipeline-prefixed ``params["step__name"]``."""
    for key, value in params.items():
        if key == name or key.endswith(f"__{name}"):
            return value
    return default


def model_bytes(params: dict, reference) -> int:
    """Packed size of the network a parameter combination trains, as ``quantization_report`` counts it.

    Shapes come from the fitted ``reference`` estimator; hidden sizes, bit
    widths, granularity, symmetry and the input, activation and bias grids
    from ``params`` where given. It is :func:`skqat._frozen.network_nbytes`,
    the count the report and ``IntegerMLP.nbytes`` use, so a fitted
    candidate's report agrees. Learned bit widths count at ``target_bits``
    (the mean they may not exceed; a fitted candidate is at most about that
    size) or, without one, at ``bit_bounds[1]``; a ``target_bytes`` budget
    caps the count, since the fitted model packs into at most that.
    """
    hidden = _param(params, "hidden_layer_sizes", reference.hidden_layer_sizes)
    hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
    sizes = [reference.n_features_in_, *hidden, reference.n_outputs_]
    bits = _param(params, "weight_bits", reference.weight_bits)
    budget = None
    if bits == "learned":
        budget = _param(params, "target_bytes", reference.target_bytes)
        # The budget bounds the mean width; without one, the upper bound.
        target = _param(params, "target_bits", reference.target_bits)
        bits = _param(params, "bit_bounds", reference.bit_bounds)[1] if target is None else target
    per_layer = list(bits) if isinstance(bits, (tuple, list)) else [bits] * (len(sizes) - 1)
    activation_bits = _param(params, "activation_bits", reference.activation_bits)
    input_bits, bias_bits = resolve_auto_bits(
        _param(params, "input_bits", reference.input_bits),
        _param(params, "bias_bits", reference.bias_bits),
        per_layer,
        activation_bits,
        len(hidden),
    )
    size = network_nbytes(
        sizes,
        per_layer,
        per_channel=_param(params, "granularity", reference.granularity) == "per_channel",
        asymmetric=not _param(params, "symmetric", reference.symmetric),
        bias_bits=bias_bits,
        input_bits=input_bits,
        activation_bits=activation_bits,
        per_feature_input=_param(params, "input_granularity", reference.input_granularity) == "per_feature",
    )
    return size if budget is None else min(size, int(budget))


class QuantizationParetoDisplay:
    """Score against model size for every candidate of a search, with the Pareto front.

    Parameters
    ----------
    sizes : array-like of shape (n_candidates,)
        Model size in bytes of each candidate.
    scores : array-like of shape (n_candidates,)
        Mean cross-validated score of each candidate.
    labels : list of str
        A short label per candidate (its parameters).
    score_name : str, default="mean_test_score"
        The ``cv_results_`` column the scores come from (the y-axis label).

    Attributes
    ----------
    pareto_ : ndarray of int
        Indices of the candidates on the Pareto front (no other candidate is
        both smaller and better), by increasing size.
    figure_, ax_ : matplotlib Figure and Axes
        Set by :meth:`plot`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skqat import QuantizedMLPClassifier
    >>> from skqat.plot import QuantizationParetoDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=50,
    ...                                              learning_rate_init=0.02, random_state=0),
    ...                       {"weight_bits": [2, 4, 8]}, cv=2).fit(X, y)
    >>> display = QuantizationParetoDisplay.from_cv_results(search)
    >>> len(display.sizes), display.ax_.get_xlabel()
    (3, 'model size (bytes)')
    """

    def __init__(self, sizes, scores, labels, score_name="mean_test_score"):
        self.sizes = np.asarray(sizes, dtype=float)
        self.scores = np.asarray(scores, dtype=float)
        self.labels = list(labels)
        self.score_name = score_name
        order = np.lexsort((-self.scores, self.sizes))
        front, best = [], -np.inf
        for i in order:
            if self.scores[i] > best:
                front.append(i)
                best = self.scores[i]
        self.pareto_ = np.asarray(front, dtype=int)

    @classmethod
    def from_cv_results(cls, search, *, score="mean_test_score", ax=None):
        """Build and plot the display from a fitted ``GridSearchCV`` or ``RandomizedSearchCV``.

        Parameters
        ----------
        search : fitted search over a skqat estimator (or a pipeline ending in one)
            Needs ``refit=True`` (the default): the refitted estimator gives the
            layer shapes.
        score : str, default="mean_test_score"
            Column of ``cv_results_`` to plot.
        ax : matplotlib Axes, default=None

        Returns
        -------
        QuantizationParetoDisplay
        """
        reference = _final_estimator(search.best_estimator_)
        params = search.cv_results_["params"]
        sizes = [model_bytes(p, reference) for p in params]
        labels = [", ".join(f"{k.split('__')[-1]}={v}" for k, v in p.items()) for p in params]
        return cls(sizes, search.cv_results_[score], labels, score_name=score).plot(ax=ax)

    def plot(self, ax=None, *, annotate=True):
        """Draw the candidates and the Pareto front.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure otherwise.
        annotate : bool, default=True
            Label the Pareto-optimal candidates.

        Returns
        -------
        self
        """
        self.figure_, self.ax_ = _axes(ax)
        self.ax_.scatter(self.sizes, self.scores, color="tab:gray", alpha=0.7, label="candidates")
        front = self.pareto_
        self.ax_.step(
            self.sizes[front], self.scores[front], where="post", color="tab:red", label="Pareto front"
        )
        self.ax_.scatter(self.sizes[front], self.scores[front], color="tab:red", zorder=3)
        if annotate:
            for i in front:
                self.ax_.annotate(
                    self.labels[i],
                    (self.sizes[i], self.scores[i]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(4, -10),
                )
        self.ax_.set_xscale("log")
        self.ax_.set_xlabel("model size (bytes)")
        self.ax_.set_ylabel(self.score_name)
        self.ax_.legend(loc="lower right", fontsize=8)
        return self


class WeightGridDisplay:
    """Histogram of a layer's latent float weights with its quantization grid drawn over it.

    Parameters
    ----------
    weights : ndarray
        The latent (float, trained) weights of the layer.
    levels : ndarray
        The grid's levels ``s * (q - zp)`` (of one output unit for per-channel grids).
    layer : int
        Index of the layer drawn.
    bits : int
        The grid's bit width.

    Attributes
    ----------
    figure_, ax_ : matplotlib Figure and Axes
        Set by :meth:`plot`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> from skqat.plot import WeightGridDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=3, max_iter=50).fit(X, y)
    >>> display = WeightGridDisplay.from_estimator(clf, layer=0)
    >>> len(display.levels)
    8
    """

    def __init__(self, weights, levels, layer, bits):
        self.weights = np.asarray(weights).ravel()
        self.levels = np.asarray(levels)
        self.layer = layer
        self.bits = bits

    @classmethod
    def from_estimator(cls, estimator, layer=0, *, channel=0, bins=60, ax=None):
        """Build and plot the display for ``layer`` of a fitted skqat estimator (or pipeline).

        Parameters
        ----------
        estimator : fitted QuantizedMLPClassifier, QuantizedMLPRegressor or Pipeline
        layer : int, default=0
        channel : int, default=0
            Output unit whose grid is drawn when the grid is per channel.
        bins : int, default=60
        ax : matplotlib Axes, default=None

        Returns
        -------
        WeightGridDisplay
        """
        estimator = _final_estimator(estimator)
        grid = estimator._frozen.layers[layer].weight_grid
        if grid is None:
            raise ValueError(f"layer {layer} keeps float weights (weight_bits=None): it has no grid to draw.")
        # The latent float weights are training state, kept by the network, not the frozen record.
        weights = estimator._module.layers[layer].grid_input().detach().cpu().numpy()
        scale = np.asarray(grid.scale, np.float64).ravel()
        zero = np.asarray(grid.zero_point).ravel()
        pick = channel if scale.size > 1 else 0
        codes = np.array([-1.0, 1.0]) if grid.binary else np.arange(grid.qmin, grid.qmax + 1, dtype=float)
        levels = scale[pick] * (codes - zero[pick])
        display = cls(weights[pick] if scale.size > 1 else weights, levels, layer, grid.bits)
        return display.plot(ax=ax, bins=bins)

    def plot(self, ax=None, *, bins=60):
        """Draw the histogram and the grid levels.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        bins : int, default=60

        Returns
        -------
        self
        """
        self.figure_, self.ax_ = _axes(ax)
        self.ax_.hist(self.weights, bins=bins, color="tab:blue", alpha=0.7, label="latent weights")
        for i, level in enumerate(self.levels):
            self.ax_.axvline(
                level, color="tab:red", linewidth=0.8, alpha=0.8, label="grid levels" if i == 0 else None
            )
        self.ax_.set_xlabel("weight value")
        self.ax_.set_ylabel("count")
        self.ax_.set_title(f"layer {self.layer}: {self.bits}-bit grid")
        self.ax_.legend(fontsize=8)
        return self


class TrainingCurveDisplay:
    """Training loss per epoch and, with early stopping, the validation score.

    Parameters
    ----------
    loss_curve : list of float
        Training loss per epoch (``loss_curve_``).
    validation_scores : list of float or None
        Validation score per epoch with early stopping (``validation_scores_``),
        else None.

    Attributes
    ----------
    figure_, ax_ : matplotlib Figure and Axes (the loss axes)
    ax_score_ : matplotlib Axes or None
        Twin axes of the validation score.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> from skqat.plot import TrainingCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=30).fit(X, y)
    >>> TrainingCurveDisplay.from_estimator(clf).ax_.get_ylabel()
    'training loss'
    """

    def __init__(self, loss_curve, validation_scores=None):
        self.loss_curve = list(loss_curve)
        self.validation_scores = None if validation_scores is None else list(validation_scores)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Build and plot the display from a fitted skqat estimator (or pipeline)."""
        estimator = _final_estimator(estimator)
        return cls(estimator.loss_curve_, estimator.validation_scores_).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves; returns ``self``."""
        self.figure_, self.ax_ = _axes(ax)
        epochs = np.arange(1, len(self.loss_curve) + 1)
        self.ax_.plot(epochs, self.loss_curve, color="tab:blue")
        self.ax_.set_xlabel("epoch")
        self.ax_.set_ylabel("training loss")
        self.ax_score_ = None
        if self.validation_scores:
            self.ax_score_ = self.ax_.twinx()
            self.ax_score_.plot(
                epochs[: len(self.validation_scores)], self.validation_scores, color="tab:orange"
            )
            self.ax_score_.set_ylabel("validation score")
        return self


class InputBitsDisplay:
    """Bits per input feature (``input_bits_``): bars by feature, or an image of pixels.

    Parameters
    ----------
    bits : array-like of int, shape (n_features,)
        Bits of each feature's codes; 0 for a dropped feature.
    feature_names : list of str or None
        Names of the bars (``feature_names_in_``, or a pipeline's
        ``get_feature_names_out()`` before the model); None numbers them.
    image_shape : tuple of int or None
        Draw ``bits`` reshaped to this shape as an image (pixels) instead of bars.

    Attributes
    ----------
    figure_, ax_ : matplotlib Figure and Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skqat import QuantizedMLPClassifier
    >>> from skqat.plot import InputBitsDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, input_bits="learned",
    ...                              input_target_bits=2, random_state=0).fit(X, y)
    >>> display = InputBitsDisplay.from_estimator(clf, image_shape=(8, 8))
    >>> display.ax_.get_title().startswith("bits per input feature"), display.bits.mean() <= 2
    (True, np.True_)
    """

    def __init__(self, bits, feature_names=None, image_shape=None):
        self.bits = np.asarray(bits)
        self.feature_names = None if feature_names is None else [str(name) for name in feature_names]
        self.image_shape = None if image_shape is None else tuple(image_shape)

    @classmethod
    def from_estimator(cls, estimator, *, image_shape=None, ax=None):
        """Build and plot the display from a fitted skqat estimator or pipeline ending in one."""
        model = _final_estimator(estimator)
        if getattr(model, "input_bits_", None) is None:
            raise ValueError(
                "the model has float inputs (input_bits=None): there are no bits per feature to draw; "
                "fit it with input_bits set (for example input_bits='learned', input_target_bits=3)."
            )
        names = getattr(model, "feature_names_in_", None)
        if names is None and hasattr(estimator, "steps") and len(estimator.steps) > 1:
            names = estimator[:-1].get_feature_names_out()
        return cls(model.input_bits_, names, image_shape).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the bars (or the image); returns ``self``."""
        self.figure_, self.ax_ = _axes(ax)
        title = f"bits per input feature (mean {self.bits.mean():.2f})"
        if self.image_shape is not None:
            image = self.ax_.imshow(self.bits.reshape(self.image_shape), cmap="viridis", vmin=0)
            self.figure_.colorbar(image, ax=self.ax_, label="bits")
            self.ax_.set_xticks([])
            self.ax_.set_yticks([])
        else:
            positions = np.arange(self.bits.size)
            self.ax_.bar(positions, self.bits, color="tab:blue")
            if self.feature_names is not None:
                self.ax_.set_xticks(positions, self.feature_names, rotation=90, fontsize="small")
            self.ax_.set_ylabel("bits")
        self.ax_.set_title(title)
        return self
