"""Parameter documentation shared by the classifier and the regressor."""

NETWORK_PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.

    solver : {"adam", "sgd"}, default="adam"
        Optimizer, with scikit-learn's update rules. ``"lbfgs"`` is not
        offered: quantization-aware training needs stochastic steps.

    alpha : float, default=0.0001
        Strength of the L2 penalty on the latent weights, divided by the
        batch's total sample weight as in scikit-learn.

    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` means ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule for ``solver="sgd"``.

    learning_rate_init : float, default=0.001
        Initial step size.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs.

    shuffle : bool, default=True
        Shuffle the samples every epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. The
        estimator never touches torch's or numpy's global random state.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.

    verbose : bool, default=False
        Show a progress bar over epochs with the loss (and validation score).
        ``False`` prints nothing.

    warm_start : bool, default=False
        Continue from the previous fit's weights, grids and optimizer state.

    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.

    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score
        stops improving, and restore the weights of the best epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without improvement tolerated before stopping.

    weight_bits : int in [1, 16] or None, default=8
        Bit width of every layer's weights; ``None`` trains in floating
        point. One bit means binary weights ``s * sign(w)``.

    activation_bits : int in [2, 16] or None, default=8
        Bit width of each hidden layer's output. relu and logistic outputs
        use an unsigned grid, tanh and identity a signed one. ``None`` keeps
        activations in floating point.

    quantizer : {"lsq"}, default="lsq"
        Scheme that learns the grids. ``"lsq"``: learned step size (Esser et
        al. 2020) with LSQ gradient scaling; each grid is initialised from its
        tensor's statistics (the error-minimising clipping range) before the
        first step, then trained by back-propagation through a clipped
        straight-through estimator.

    granularity : {"per_tensor", "per_channel"}, default="per_tensor"
        One weight scale per layer, or one per output unit.

    symmetric : bool, default=True
        ``True``: zero point fixed at 0. ``False``: an unsigned grid with a
        learned integer zero point, ``x_hat = s * (q + z)``.

    quant_lambda : float, default=0.0
        Weight of the grid penalty ``sum_l ||W_l - q(W_l)||^2`` added to each
        batch's mean loss. The sum runs over all elements of all weight
        matrices and is not normalised: each latent weight ``w`` gets the extra
        gradient ``2 * quant_lambda * (w - q(w))``. Ignored when
        ``weight_bits=None``.

    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train. ``"auto"`` uses CUDA when available. Fitted models
        pickle as numpy arrays and load on any machine.
"""

FITTED_ATTRIBUTES = """\
    loss_ : float
        Training objective (loss plus penalties) of the last epoch.

    best_loss_ : float or None
        Lowest ``loss_`` seen; ``None`` with ``early_stopping=True``.

    loss_curve_ : list of float
        ``loss_`` after each epoch.

    validation_scores_ : list of float or None
        Score on the held-out set after each epoch (``early_stopping=True``).

    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    t_ : int
        Number of training samples seen.

    coefs_ : list of ndarray of shape (n_in, n_out)
        The dequantized weights that ``predict`` uses: every value lies on its
        layer's grid.

    intercepts_ : list of ndarray of shape (n_out,)
        Biases (float).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.

    n_iter_ : int
        Epochs run by the last call to ``fit`` (1 for ``partial_fit``).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.
"""


def fill(doc: str) -> str:
    """Insert the shared sections into a class docstring."""
    return doc.replace("%(network_parameters)s", NETWORK_PARAMETERS).replace(
        "%(fitted_attributes)s", FITTED_ATTRIBUTES
    )
