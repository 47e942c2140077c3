"""Parameter documentation shared by the classifier and the regressor."""

import re

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
        Seeds weight initialisation, shuffling and the validation split. torch's
        global generator is never used; numpy's global state is drawn from only
        when ``random_state=None``, as in scikit-learn.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.

    verbose : bool or int, default=False
        ``True`` (1): a progress bar over ``fit``'s epochs with the loss (and
        validation score). ``verbose > 1``, and ``partial_fit`` with any
        ``verbose``: scikit-learn's lines, ``Iteration i, loss = ...`` (and
        ``Validation score: ...``) per epoch. ``False`` prints nothing.

    warm_start : bool, default=False
        Continue from the previous fit's weights, grids and learning-rate
        schedule position (``t_``). As in scikit-learn, each ``fit`` starts a
        fresh optimizer (moments, adaptive rate) and reads ``tol`` and
        ``n_iter_no_change`` anew; ``partial_fit`` continues the optimizer.

    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.

    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score
        stops improving, and restore the weights of the best epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Adam's decay rate of the first-moment (mean) estimate, in [0, 1).

    beta_2 : float, default=0.999
        Adam's decay rate of the second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement tolerated before stopping; ``np.inf``
        never stops early.

    weight_bits : int in [1, 16], tuple, "learned" or None, default=8
        Bit width of the weights. An int applies to every layer; a tuple
        gives one bit width (int or None) per layer, for manual mixed
        precision; ``"learned"`` chooses each layer's bit width within
        ``bit_bounds`` under a budget (``target_bits``, ``target_bytes`` or ``bit_lambda``)
        from measured per-layer sensitivity; ``None`` trains in float. One
        bit means binary weights ``s * sign(w)``.

    activation_bits : int in [2, 16] or None, default=8
        Bit width of each hidden layer's output. relu and logistic outputs
        use an unsigned grid, tanh and identity a signed one. ``None`` keeps
        activations in floating point.

    quantizer : {"lsq", "pact", "minmax", "noise", "penalty"}, default="lsq"
        Scheme that sets the grids.

        - ``"lsq"``: learned step size (Esser et al. 2020) with LSQ gradient
          scaling for every grid, initialised from each tensor's
          error-minimising clipping range before the first quantized step.
        - ``"pact"``: activations (and inputs) get a learned clipping value
          trained only by the clipped values (Choi et al. 2018); weights LSQ.
        - ``"minmax"``: nothing learned; each grid spans the observed range
          (weights: the current min and max; activations and inputs: a moving
          average), as in Jacob et al. 2018. The baseline that shows what
          learning the grid buys.
        - ``"noise"``: quantization noise (Fan et al. 2021): each training step
          fake-quantizes a random fraction ``noise_rate`` of the weights;
          inference quantizes all of them. Activations LSQ.
        - ``"penalty"``: weights train in float, pulled toward their learned
          grid by ``quant_lambda``; inference uses the hard projection
          ``q(W)``. With ``quant_lambda=0`` this is post-training rounding: the
          grid is fitted to the final weights. Activations LSQ.

    granularity : {"per_tensor", "per_channel"}, default="per_tensor"
        One weight scale per layer, or one per output unit. Input and
        activation grids are per tensor.

    symmetric : bool, default=True
        ``True``: zero point fixed at 0. ``False``: an unsigned grid with a
        learned integer zero point, ``x_hat = s * (q - zp)``; zero stays on
        the grid.

    quant_lambda : float, default=0.0
        Weight of the grid penalty ``sum_l ||W_l - q(W_l)||^2`` added to each
        batch's mean loss. The sum runs over all elements of all quantized
        weight matrices and is not normalised: each latent weight ``w`` gets
        the extra gradient ``2 * quant_lambda * (w - q(w))``, and the grid is
        pulled toward the weights.

    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train. ``"auto"`` uses CUDA when available. Fitted models
        pickle as numpy arrays and load on any machine.

    ste : {"clipped", "identity"}, default="clipped"
        Straight-through estimator: ``"clipped"`` passes the gradient only
        inside the clipping range, ``"identity"`` everywhere.

    quant_delay : int, default=0
        Epochs of float training before quantization switches on; the grids
        are then initialised from the trained weights and activations. A fit
        that ends earlier is quantized after training.

    quant_lambda_schedule : {"constant", "linear"}, default="constant"
        ``"linear"`` ramps ``quant_lambda`` in equal steps, from
        ``quant_lambda / (max_iter - quant_delay)`` at the first quantized
        epoch to its full value at epoch ``max_iter``: the penalty "triggers"
        quantization gradually.

    noise_rate : float in (0, 1], default=0.5
        Fraction of weights quantized per step with ``quantizer="noise"``.

    bit_lambda : float, default=0.0
        With ``weight_bits="learned"``: the price of one bit of mean weight
        width, in units of the training loss (log-loss or half squared
        error). The widths minimise the measured loss plus ``bit_lambda``
        times the mean bits per weight, within ``target_bits`` if it is set
        too. 0.01 trades a bit for a loss increase of 0.01.

    bit_bounds : tuple (min_bits, max_bits), default=(2, 8)
        Bounds of learned bit widths (``1 <= min_bits``; 1 is binary).

    target_bits : float in [1, 16] or None, default=None
        With ``weight_bits="learned"``: the budget, the most mean bits per
        weight (total weight bits divided by the number of weights). It is a
        guarantee: ``weight_bits_`` holds integer widths within
        ``bit_bounds`` whose mean is at most ``target_bits``. A warm-up
        trains the network at ``max_bits`` for a quarter of the quantized
        epochs, on top of ``max_iter``; then each layer's loss at each width
        is measured on up to 2048 training rows, an exact knapsack picks the
        widths that lose least within the budget, and those widths train for
        all ``max_iter`` epochs. ``partial_fit`` allocates at the end of its
        first call. The widths are chosen once per model: later
        ``partial_fit`` and warm-start ``fit`` calls keep them.

    target_bytes : int or None, default=None
        With ``weight_bits="learned"``, instead of ``target_bits``: the most
        bytes of the packed model, as ``quantization_report()["bytes"].sum()``
        and ``export_integer().nbytes`` count them (weights, biases, scales,
        zero points and grids). Chosen the same way; a budget below the
        model with every layer at ``bit_bounds[0]`` raises ``ValueError``.

    input_bits : int in [2, 16], "auto", "learned" or None, default="auto"
        Quantize the input features on a learned grid: the features become
        ``input_bits``-bit integers. ``"learned"``: each feature gets its own
        width under a budget (``input_target_bits`` or ``input_bit_lambda``,
        within ``input_bit_bounds``; needs ``input_granularity="per_feature"``).
        ``"auto"``: 8 when the weights of every
        layer and the hidden activations are quantized (``weight_bits`` and
        ``activation_bits`` set), so the model trains on the input grid it
        deploys on and ``predict`` runs the integer model (see ``predict``);
        None (float inputs) otherwise.

    input_granularity : {"per_feature", "per_tensor"}, default="per_feature"
        With ``input_bits``: one learned scale (and zero point) per feature,
        each initialised from its column's range, so raw columns of very
        different ranges keep their resolution; or one for all features
        (standardize them first). Per feature, the scales fold into the
        first layer's weight grid, whose weights then multiply the input
        codes, centered on each column's mean and normalized to about unit
        spread, so raw columns train like standardized ones; the integer
        model, the C header and the ONNX and QONNX graphs quantize each
        feature on its own grid. A per-feature grid of 8 bits or more is set
        once from the training data and then fixed (narrower ones are
        learned), and ``fit`` holds the training rows as integer codes on it
        rather than as floats. Without ``input_bits`` it has no effect.

    bias_bits : int in [2, 32], "auto" or None, default="auto"
        Quantize each bias on a signed grid with scale ``s_w * s_in`` (weight
        scale times the layer input's scale), as integer-only inference
        needs. ``"auto"``: 32 (the int32 biases the integer model stores) on
        the same condition as ``input_bits="auto"``, None (float biases)
        otherwise.

    sparsity : float in [0, 1), default=0.0
        Fraction of each weight matrix pruned by magnitude, trained jointly
        with quantization. The pruned fraction ramps up cubically (Zhu and
        Gupta 2017) over the first ``max_iter // 2`` epochs and is enforced at
        the end of ``fit``; pruned weights are exact zeros.

    input_bit_bounds : tuple (min_bits, max_bits), default=(0, 8)
        With ``input_bits="learned"``: bounds of each input feature's width
        (``0 <= min_bits <= max_bits <= 8``). A feature at 0 bits is dropped:
        its codes are one value (its training mean), so predictions no
        longer depend on it (learned feature selection). The input grid
        trains at ``max_bits`` until the widths are chosen.

    input_target_bits : float in [0, 16] or None, default=None
        With ``input_bits="learned"``: the budget, the most mean bits per
        input feature. ``input_bits_`` then holds integer widths within
        ``input_bit_bounds`` whose mean is at most ``input_target_bits``.
        They are chosen as ``target_bits`` chooses layer widths, after the
        same warm-up: each feature's loss at each width is measured on up to
        2048 training rows and an exact knapsack picks the widths that lose
        least. A feature whose measured rows hold ``k`` distinct values is
        offered at most ``ceil(log2(k))`` bits (a one-hot column: 0 or 1).
        Each feature of ``b >= 1`` bits quantizes on a window of ``2**b``
        codes placed over its own range, with a learned scale.

    input_bit_lambda : float, default=0.0
        With ``input_bits="learned"``: the price of one bit of mean input
        width, in units of the training loss, instead of (or within)
        ``input_target_bits``.
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
        The dequantized weights, on the dequantized inputs: every value lies
        on its layer's grid (with per-feature input grids, the first layer's
        row for feature ``j`` is its grid values divided by that feature's
        input scale, since the integer model multiplies input codes).

    intercepts_ : list of ndarray of shape (n_out,)
        Biases (float; on the dequantized inputs, as ``coefs_``).

    predict_arithmetic_ : {"integer", "float"}
        What ``predict`` computes. ``"integer"`` for a model trained
        integer-only (every layer's weights, the input and the hidden
        activations on trained grids; the default): the integer model of
        ``export_integer()`` (input codes, integer accumulation, int32
        biases, fixed-point requantization), so ``predict`` and
        ``predict_proba`` equal ``export_integer().predict`` and
        ``.predict_proba`` exactly. ``"float"`` for any other model (a float
        layer, float inputs or float activations): the trained network in
        float, whose integer export runs on grids calibrated after training
        and can differ on a few rows.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.

    n_iter_ : int
        Epochs run by the last call to ``fit`` (1 for ``partial_fit``).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    weight_bits_ : list of int
        Bit width of each layer's weights as stored (32 for float layers);
        the allocated widths with ``weight_bits="learned"``.

    input_bits_ : ndarray of int of shape (`n_features_in_`,) or None
        Bit width of each input feature's codes: the allocated widths with
        ``input_bits="learned"`` (0 for a dropped feature), the grid's width
        for every feature otherwise, None for float inputs.

    grid_distance_ : float
        Mean distance of the latent float weights to their grids at the end
        of training, in grid steps (0: on the grid; 0.25: uniform rounding
        error). ``coefs_`` always lie on the grid.
"""


def fill(doc: str) -> str:
    """Insert the shared sections into a class docstring.

    A placeholder's own indentation is replaced along with it: the shared
    text carries the section's indentation (4 spaces), so every inserted line
    lines up with the docstring's other lines.
    """
    for placeholder, text in (
        ("%(network_parameters)s", NETWORK_PARAMETERS),
        ("%(fitted_attributes)s", FITTED_ATTRIBUTES),
    ):
        # Plain string splicing (no regex replacement string): backslashes stay literal.
        match = re.search(rf"[ \t]*{re.escape(placeholder)}", doc)
        if match is not None:
            doc = doc[: match.start()] + text + doc[match.end() :]
    return doc
