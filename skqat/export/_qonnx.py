"""QONNX export of fitted skqat estimators, for FINN and hls4ml (extra ``skqat[qonnx]``).

:func:`to_qonnx` writes the frozen network (:mod:`skqat._frozen`, nothing
else) as a float32 ONNX graph in which every quantized tensor passes through
a quantization operator of QONNX's ``qonnx.custom_op.general`` domain. The
operator carries the record's grid: scale, zero point and bit width as
constant inputs, ``signed``, ``narrow`` and ``rounding_mode`` as attributes.
For hidden layers ``0 .. L-2`` and the output layer ``L-1``::

    global_in (batch, n_features)
      -> IntQuant(input grid)                        only with input_bits, per tensor
      -> Mul(1/s) -> Add(zp) -> IntQuant(scale 1)    with input_bits, per feature:
         -> Sub(zp)                                  the codes q - zp (Add/Sub where zp != 0)
      -> Mul(1/s) -> Add(zp) -> Sub(low)             with input_bits="learned":
         -> Gather -> IntQuant(b bits, scale step)   one per width b >= 1
         -> Concat -> Add(low - zp)                  the codes q - zp of the features kept
    each layer i:
      W_i (n_in, n_out) -> IntQuant(weight grid)     BipolarQuant for 1-bit codes -1/+1
      b_i (n_out,)      -> IntQuant(s_in * s_w)      only with bias_bits
      MatMul(x, W_i) -> Add(b_i)
      hidden layers:  -> Relu | Tanh | Sigmoid       nothing for identity
                      -> IntQuant(activation grid)   only with activation_bits
    -> Softmax(axis=-1) | Sigmoid | nothing          -> global_out (batch, n_outputs)

It is ``predict``'s network (:mod:`skqat._inference`):

- Weight initializers hold the dequantized weight ``s * (q - zp)`` that
  ``predict`` multiplies by, transposed for ``MatMul``. The quantization
  node recovers the codes exactly and returns the same float32 values.
  Per-channel scales and zero points have shape ``(1, n_out)``, one per
  column of the transposed weight. Binary weights (codes -1 and +1) use
  ``BipolarQuant``, because the QONNX spec leaves them out of ``IntQuant``.
  Its ``where(x >= 0, 1, -1) * s`` is skqat's ``sign(0) = +1``. An
  unsigned one-bit grid ``[0, 1]`` stays an ``IntQuant``.
- Signed grids ``[-2^(b-1), 2^(b-1) - 1]`` become ``signed=1``, unsigned
  ones ``[0, 2^b - 1]`` become ``signed=0``, both with ``narrow=0``. QONNX's
  ``ROUND`` is numpy's round half to even, as in skqat. QONNX clamps before
  it rounds, which gives the same codes because the limits are integers.
  Its zero point has skqat's sign: ``round(x / s + zp)``, then ``- zp``.
- A per-feature input grid's scales live in the first layer's weight grid
  (``QuantLinear.fold_input_scales``): the first ``MatMul`` takes the codes
  ``q - zp``, computed in skqat's order (``zp`` before rounding) with one
  per-tensor ``IntQuant`` of scale 1, so no quantizer has a scale per
  channel on activations (hls4ml converts it; ``tests/test_qonnx.py``). Its
  weight initializer holds ``W * s``, on the first layer's weight grid.
- Learned input widths (``input_bits="learned"``): feature ``j``'s codes
  are ``low_j + step_j * k``, ``k = clamp(round((u - low_j) / step_j), 0,
  2**b_j - 1)``. After ``Sub(low)``, an unsigned ``b``-bit ``IntQuant`` with
  scale ``step`` (one per feature) and zero point 0 computes
  ``step * k`` with that very division, clamp and rounding; qonnx's executor
  takes one bit width per node, so the features are gathered by width, one
  node each, and the first layer's weight rows follow the gathered order.
  A dropped feature (0 bits) has no node: its code is the constant
  ``low_j``, whose product with its weights is added to the first layer's
  (float) bias, so the graph ignores that input.
- A bias trained with ``bias_bits`` is quantized on its training grid:
  signed ``bias_bits``, scale ``s_w * s_in`` (just ``s_w`` where the layer's
  input is float), zero point 0; except a per-feature first layer's, which
  also holds its centers' shift and stays a float constant. A bias trained in float stays a float32
  constant, because a 32-bit grid on ``s_w * s_in`` would move it by up to
  half a step, and the graph would then differ from ``predict``.
- ``predict`` does not apply the grids calibrated at the end of ``fit`` for
  integer deployment (``calibrated=True`` in the record: the input without
  ``input_bits``, activations without ``activation_bits``). The graph leaves
  them out too, unless ``calibrated_grids=True`` asks for them. That gives
  a fully quantized graph for dataflow compilers, which no longer follows
  ``predict``.
- ``global_out`` is the network's activated output: class probabilities for
  softmax, the positive class's probability for a binary classifier (one
  column, ``predict_proba(X)[:, 1]``), each label's probability for
  multilabel targets, and the predicted values (``n_outputs`` columns) for a
  regressor. ``output_activation=False`` ends the graph at the logits.

Precision
---------
The graph is float32, because QONNX's executor returns its quantization
nodes' outputs as float32. For a float32-trained model the graph repeats
``predict``'s float32 operations, with three exceptions. QONNX divides by
the scale where ``predict`` multiplies by ``1/s``, and the two can differ by
one unit in the last place. onnxruntime's ``Tanh`` and ``Sigmoid`` can
differ from numpy's by a few units in the last place. The matrix products
may also sum in a different order. So a value that lies within a rounding
error of a grid's half-way point can, rarely, get the neighbouring code:
about 2 in a million values on an 8-bit relu grid, 3 in a million after
tanh or logistic, and each such value moves the probabilities by about
1e-3. A float64-trained model is computed in float32, with the same caveat
at float32's precision.

Shapes and tools
----------------
The batch size is fixed: ``batch_size``, 1 by default, which is what FINN
and hls4ml expect. Every tensor's shape is recorded, so
:func:`qonnx.core.onnx_exec.execute_onnx` runs the graph as exported, and
:func:`qonnx.util.cleanup.cleanup_model` accepts it. qonnx 1.0's cleanup
keeps ``BipolarQuant`` and activation quantizers but constant-folds
``IntQuant`` nodes on weights and biases into their float values: its list
of operators to keep names only ``Quant``, the operator's name before 1.0.
``op_type="Quant"`` writes that older name, which qonnx still executes as
``IntQuant``, for flows that need the weight quantizers after cleanup
(FINN's weight data types).

hls4ml 1.3 converts the cleaned graph, and its C++ emulation predicts the
same classes. Two settings are needed. Give it a wide default precision
(``fixed<32,16>``), or ``1/s`` of an activation grid overflows. Export the
logits (``output_activation=False``), or give the layer that feeds its
softmax a narrow result type. hls4ml cannot move the scales of
per-channel, zero-point or bias quantizers below ``MatMul`` and ``Add``.
It therefore rejects graphs that keep those quantizers on constants,
such as ``op_type="Quant"``, an uncleaned graph, or per-channel binary
weights. ``cleanup_model(model, preserve_qnt_ops=False)`` folds them into
the weights.
"""

from __future__ import annotations

import numpy as np

from .._activations import get_activation
from .._frozen import FrozenGrid, FrozenNetwork, accumulator_scale
from ._fitted import fitted_network
from ._onnx_graph import require_onnx

__all__ = ["DEFAULT_OPSET", "QONNX_DOMAIN", "grid_attributes", "quant_op_type", "to_qonnx"]

#: Domain of QONNX's quantization operators.
QONNX_DOMAIN = "qonnx.custom_op.general"

#: Opset of the standard operators (QONNX tools target 11 to 13).
DEFAULT_OPSET = 13

#: The head's output activation as an operator and its attributes (the identity adds none).
_OUTPUT_OPS: dict[str, tuple[str, dict]] = {
    "softmax": ("Softmax", {"axis": -1}),
    "logistic": ("Sigmoid", {}),
    "exp": ("Exp", {}),
}


def quant_op_type() -> str:
    """``"IntQuant"`` if the installed qonnx has it (or qonnx is not installed), else ``"Quant"``.

    qonnx 1.0 renamed ``Quant`` to ``IntQuant`` and still executes the old
    name. Older releases know only ``Quant``.
    """
    try:
        import qonnx.custom_op.general as general
    except ImportError:
        return "IntQuant"
    return "IntQuant" if hasattr(general, "IntQuant") else "Quant"


def grid_attributes(grid: FrozenGrid) -> dict:
    """``signed`` and ``narrow`` of the QONNX ``IntQuant`` node for a record's grid.

    Parameters
    ----------
    grid : FrozenGrid
        A grid other than the binary one.

    Returns
    -------
    dict
        ``{"signed": 0 or 1, "narrow": 0 or 1}``.

    Raises
    ------
    ValueError
        If ``[qmin, qmax]`` is not a QONNX integer range of ``bits`` bits.

    Examples
    --------
    >>> grid_attributes(FrozenGrid(4, -8, 7, np.array(0.5), np.array(0, np.int32)))
    {'signed': 1, 'narrow': 0}
    >>> grid_attributes(FrozenGrid(8, 0, 255, np.array(0.1), np.array(3, np.int32), symmetric=False))
    {'signed': 0, 'narrow': 0}
    """
    half = 2 ** (grid.bits - 1)
    ranges = {(-half, half - 1): (1, 0), (1 - half, half - 1): (1, 1), (0, 2 * half - 1): (0, 0)}
    if (grid.qmin, grid.qmax) not in ranges:
        raise ValueError(f"no QONNX IntQuant range for the {grid.bits}-bit grid [{grid.qmin}, {grid.qmax}]")
    signed, narrow = ranges[grid.qmin, grid.qmax]
    return {"signed": signed, "narrow": narrow}


class _Graph:
    """Nodes, float32 initializers and every tensor's shape, for :func:`onnx.helper.make_graph`."""

    def __init__(self, op_type: str):
        self.op_type = op_type
        self.nodes: list = []
        self.initializers: list = []
        self.shapes: dict[str, tuple] = {}
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint: str, array, dtype=np.float32) -> str:
        from onnx import numpy_helper

        array = np.asarray(array, dtype)
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        self.shapes[name] = array.shape
        return name

    def integer_constant(self, hint: str, array) -> str:
        """An int64 initializer (``Gather`` indices)."""
        return self.constant(hint, array, np.int64)

    def node(self, op_type: str, inputs: list, hint: str, shape, domain: str = "", **attrs) -> str:
        from onnx import helper

        output = self._name(hint)
        node = helper.make_node(op_type, inputs, [output], name=self._name(op_type), domain=domain, **attrs)
        self.nodes.append(node)
        self.shapes[output] = tuple(shape)
        return output

    def quantize(self, x: str, grid: FrozenGrid, hint: str, shape, channel_axis: int = 0) -> str:
        """``x`` on ``grid``, through ``IntQuant`` (``BipolarQuant`` for the binary grid).

        A per-channel grid's scales and zero points lie along
        ``channel_axis`` of ``x``.
        """
        scale = np.asarray(grid.scale, np.float32)
        zero = np.asarray(grid.zero_point, np.float32)
        if grid.per_channel:
            view = [1] * len(shape)
            view[channel_axis] = -1
            scale, zero = scale.reshape(view), zero.reshape(view)
        if grid.binary:
            inputs = [x, self.constant(f"{hint}_scale", scale)]
            return self.node("BipolarQuant", inputs, f"{hint}_q", shape, domain=QONNX_DOMAIN)
        inputs = [
            x,
            self.constant(f"{hint}_scale", scale),
            self.constant(f"{hint}_zeropt", zero),
            self.constant(f"{hint}_bitwidth", np.asarray(grid.bits, np.float32)),
        ]
        attrs = {"rounding_mode": "ROUND", **grid_attributes(grid)}
        return self.node(self.op_type, inputs, f"{hint}_q", shape, domain=QONNX_DOMAIN, **attrs)


def _applied(grid: FrozenGrid | None, calibrated_grids: bool) -> FrozenGrid | None:
    """``grid`` if the graph quantizes on it, else None."""
    if grid is None or (grid.calibrated and not calibrated_grids):
        return None
    return grid


def _bias_grid(network: FrozenNetwork, i: int) -> FrozenGrid | None:
    """Layer ``i``'s bias grid as training set it, or None for a float bias."""
    layer = network.layers[i]
    if layer.bias_bits is None or layer.weight_grid is None:
        return None
    in_grid = network.grids()[i]
    if in_grid is not None and in_grid.per_feature:
        # The folded first layer's bias also holds its centers' shift, off the bias grid: the
        # trained network adds it in float, and so does the graph.
        return None
    # Training multiplies by the input's scale only where the input is quantized
    # (QuantLinear.bias_scale). Two float32 scales multiply exactly in float64,
    # so the float32 cast below rounds once, like training's float32 product.
    scale = accumulator_scale(layer.weight_grid, None if in_grid is None or in_grid.calibrated else in_grid)
    half = 2 ** (layer.bias_bits - 1)
    return FrozenGrid(layer.bias_bits, -half, half - 1, scale, np.zeros(scale.shape, np.int32))


def _per_feature_codes(g: _Graph, x: str, grid: FrozenGrid, shape) -> str:
    """``q - zp`` of a per-feature input grid: what the first layer's weights multiply.

    ``Mul(x, 1/s)`` and ``Add(zp)`` per feature (skqat's order: ``zp`` before
    rounding), then one per-tensor ``IntQuant`` with scale 1 that rounds half
    to even and clamps to the code range, then ``Sub(zp)``. The per-feature
    scales live in the first layer's weight grid, so no quantizer needs a
    scale per channel on activations.
    """
    inverse = np.reciprocal(np.asarray(grid.scale, np.float32)).reshape(1, -1)
    u = g.node("Mul", [x, g.constant("input_inverse", inverse)], "input_u", shape)
    zero = np.asarray(grid.zero_point, np.float32).reshape(1, -1)
    if grid.nonzero_zero_point:
        u = g.node("Add", [u, g.constant("input_zp", zero)], "input_shift", shape)
    unit = FrozenGrid(grid.bits, grid.qmin, grid.qmax, np.asarray(1.0, np.float32), np.asarray(0, np.int32))
    codes = g.quantize(u, unit, "input", shape)
    if grid.nonzero_zero_point:
        codes = g.node("Sub", [codes, g.constant("input_zp_levels", zero)], "input_levels", shape)
    return codes


def _window_levels(g: _Graph, x: str, grid: FrozenGrid, batch_size: int) -> tuple[str, np.ndarray]:
    """``q - zp`` of a grid with learned input widths, and the features it holds, in its column order.

    ``u = x * (1/s) + zp`` per feature as :func:`_per_feature_codes`, then
    ``Sub(low)``. The features of each width ``b >= 1`` are gathered and go
    through one unsigned ``b``-bit ``IntQuant`` with scale ``step`` (one per
    feature) and zero point 0: ``step * clamp(round((u - low) / step), 0,
    2**b - 1)``, :func:`skqat._frozen.window_codes`' division, rounding and
    clamp, so the node's bit width is the feature's (qonnx's ``IntQuant``
    takes one bit width per node). ``Concat`` joins the groups and ``Add(low
    - zp)`` gives the levels. Dropped features (0 bits) are left out: their
    code is the constant ``low``, which :func:`_build` adds to the first
    layer's bias.
    """
    assert grid.window is not None, "learned input widths"
    n = np.size(grid.scale)
    low, step = (np.asarray(w, np.int64) for w in grid.window[:2])
    bits = np.asarray(grid.feature_bits)
    full = (batch_size, n)
    inverse = np.reciprocal(np.asarray(grid.scale, np.float32)).reshape(1, -1)
    u = g.node("Mul", [x, g.constant("input_inverse", inverse)], "input_u", full)
    if grid.nonzero_zero_point:
        zero = np.asarray(grid.zero_point, np.float32).reshape(1, -1)
        u = g.node("Add", [u, g.constant("input_zp", zero)], "input_shift", full)
    u = g.node("Sub", [u, g.constant("input_low", low.reshape(1, -1))], "input_from_low", full)
    widths = [int(b) for b in np.unique(bits) if b > 0]
    parts, order = [], []
    for b in widths:
        features = np.flatnonzero(bits == b)
        part, shape = u, (batch_size, len(features))
        if len(features) < n:
            index = g.integer_constant(f"input_b{b}_features", features)
            part = g.node("Gather", [u, index], f"input_b{b}", shape, axis=1)
        unsigned = FrozenGrid(b, 0, 2**b - 1, step[features], np.zeros(len(features), np.int32), False)
        parts.append(g.quantize(part, unsigned, f"input_b{b}", shape, channel_axis=1))
        order.extend(features.tolist())
    kept = np.array(order, np.int64)
    shape = (batch_size, len(kept))
    steps = parts[0] if len(parts) == 1 else g.node("Concat", parts, "input_steps", shape, axis=1)
    offset = (low - np.asarray(grid.zero_point, np.int64))[kept].reshape(1, -1)
    return g.node("Add", [steps, g.constant("input_levels_low", offset)], "input_levels", shape), kept


def _build(network: FrozenNetwork, g: _Graph, x: str, batch_size: int, calibrated_grids: bool) -> str:
    """Nodes from the input ``x`` to the last layer's ``Add`` (the logits); returns its output."""
    input_grid = _applied(network.input_grid, calibrated_grids)
    folded = input_grid is not None and input_grid.per_feature
    shape = (batch_size, network.n_features)
    kept = None  # with learned widths: the first layer's input features, in the graph's order
    if folded and input_grid is not None and input_grid.window is not None:
        if not np.any(input_grid.feature_bits):
            raise ValueError(
                "Every input feature of this model is dropped (input_bits='learned' gave each 0 bits): "
                "its QONNX graph would not read its input. Refit with input_target_bits above 0, or export "
                "it with to_onnx or export_integer().to_c, which keep the constant inputs."
            )
        x, kept = _window_levels(g, x, input_grid, batch_size)
    elif folded:
        assert input_grid is not None
        x = _per_feature_codes(g, x, input_grid, shape)
    elif input_grid is not None:
        x = g.quantize(x, input_grid, "input", shape)
    for i, layer in enumerate(network.layers):
        n_out, n_in = layer.weight.shape
        on_grid = (
            layer.weight * input_grid.scale if i == 0 and folded and input_grid is not None else layer.weight
        )
        bias_values = layer.bias
        if i == 0 and kept is not None:
            assert input_grid is not None and input_grid.window is not None
            bias_values = _with_dropped_features(layer, on_grid, input_grid, kept)
            on_grid, n_in = on_grid[:, kept], len(kept)
        weight = g.constant(f"layer{i}_weight", on_grid.T)
        if layer.weight_grid is not None:
            weight = g.quantize(weight, layer.weight_grid, f"layer{i}_weight", (n_in, n_out), channel_axis=1)
        bias = g.constant(f"layer{i}_bias", bias_values)
        bias_grid = _bias_grid(network, i)
        if bias_grid is not None:
            bias = g.quantize(bias, bias_grid, f"layer{i}_bias", (n_out,))
        shape = (batch_size, n_out)
        x = g.node("MatMul", [x, weight], f"layer{i}_matmul", shape)
        x = g.node("Add", [x, bias], f"layer{i}_out", shape)
        if i < len(network.layers) - 1:
            op = get_activation(network.activation).onnx_op
            if op is not None:  # the identity adds no node
                x = g.node(op, [x], f"layer{i}_act", shape)
            grids = network.activation_grids
            grid = _applied(grids[i] if i < len(grids) else None, calibrated_grids)
            if grid is not None:
                x = g.quantize(x, grid, f"layer{i}_act", shape)
    return x


def _with_dropped_features(layer, on_grid: np.ndarray, grid: FrozenGrid, kept: np.ndarray) -> np.ndarray:
    """The first layer's bias plus the constant contribution of the dropped features (0 bits).

    A dropped feature's level is always ``low - zp``; times its column of the
    weights the graph multiplies (the record's codes dequantized, or the
    float ``on_grid`` of a float layer), summed in float64 and rounded once
    to the bias's float32.
    """
    dropped = np.setdiff1d(np.arange(np.size(grid.scale)), kept)
    bias = np.asarray(layer.bias, np.float64)
    if not dropped.size:
        return bias
    assert grid.window is not None
    low = np.asarray(grid.window[0], np.int64)
    levels = (low - np.asarray(grid.zero_point, np.int64))[dropped].astype(np.float64)
    if layer.weight_grid is None:
        weight = np.asarray(on_grid, np.float64)
    else:
        weight = layer.weight_grid.dequantize(layer.weight_codes, np.float64)
    return bias + weight[:, dropped] @ levels


def to_qonnx(
    estimator,
    X_sample=None,
    *,
    batch_size: int = 1,
    calibrated_grids: bool = False,
    output_activation: bool = True,
    op_type: str | None = None,
    name: str = "skqat",
    target_opset: int = DEFAULT_OPSET,
):
    """Export a fitted skqat estimator as a QONNX model for FINN and hls4ml.

    The graph is described in :mod:`skqat.export._qonnx`. Only the
    estimator's frozen network is read.

    Parameters
    ----------
    estimator : QuantizedMLPClassifier or QuantizedMLPRegressor
        A fitted estimator.
    X_sample : array-like of shape (n_samples, n_features), default=None
        Only its number of features is checked.
    batch_size : int, default=1
        The fixed first dimension of ``global_in`` and of every activation.
        QONNX's executor needs every shape, and FINN and hls4ml take batch 1.
        To change it later, apply
        :class:`qonnx.transformation.change_batchsize.ChangeBatchSize` and
        then ``InferShapes``.
    calibrated_grids : bool, default=False
        Also quantize on the grids calibrated for integer deployment: the
        input without ``input_bits``, and hidden activations without
        ``activation_bits``. ``predict`` does not apply them, so the graph
        then differs from ``predict_proba``.
    output_activation : bool, default=True
        End with the output activation (softmax, logistic, or exp for a
        Poisson regressor). ``False`` ends
        at the last layer's ``Add``: the logits, whose argmax is the
        predicted class.
    op_type : {"IntQuant", "Quant"} or None, default=None
        Name of the integer quantization operator. None takes
        :func:`quant_op_type`. ``"Quant"`` is the name used before qonnx 1.0.
        qonnx 1.0 still executes it, and its ``cleanup_model`` keeps
        ``Quant`` nodes on weights, whereas it folds ``IntQuant`` ones into
        float constants.
    name : str, default="skqat"
        Graph name.
    target_opset : int, default=13
        Opset of the standard ONNX operators (11 or newer).

    Returns
    -------
    onnx.ModelProto
        Float32 input ``global_in`` of shape ``(batch_size, n_features)`` and
        output ``global_out`` of shape ``(batch_size, n_outputs)``. These are
        the names that :func:`qonnx.util.cleanup.cleanup_model` gives them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> from skqat.export._qonnx import to_qonnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, activation_bits=4,
    ...                              input_bits=8, max_iter=300, learning_rate_init=0.01,
    ...                              random_state=0).fit(X.astype(np.float32), y)
    >>> model = to_qonnx(clf, batch_size=len(X))
    >>> [node.op_type for node in model.graph.node]  # doctest: +NORMALIZE_WHITESPACE
    ['Mul', 'IntQuant', 'IntQuant', 'MatMul', 'Add', 'Relu', 'IntQuant',
     'IntQuant', 'IntQuant', 'MatMul', 'Add', 'Softmax']

    With qonnx installed, its executor reproduces the trained network's
    probabilities (``predict_proba`` runs the integer model, which agrees with
    them on nearly every row):

    >>> from qonnx.core.modelwrapper import ModelWrapper  # doctest: +SKIP
    >>> from qonnx.core.onnx_exec import execute_onnx  # doctest: +SKIP
    >>> out = execute_onnx(ModelWrapper(model), {"global_in": X.astype(np.float32)})  # doctest: +SKIP
    >>> bool((out["global_out"].argmax(axis=1) == clf.predict(X)).mean() > 0.99)  # doctest: +SKIP
    True
    """
    onnx = require_onnx("qonnx")
    from onnx import TensorProto, helper

    network = fitted_network(estimator, "to_qonnx")
    n_features = network.n_features
    if X_sample is not None and np.shape(X_sample)[-1] != n_features:
        n_sample = np.shape(X_sample)[-1]
        raise ValueError(f"X_sample has {n_sample} features; the estimator expects {n_features}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    op_type = quant_op_type() if op_type is None else op_type
    if op_type not in ("IntQuant", "Quant"):
        raise ValueError(f"op_type must be 'IntQuant' or 'Quant', got {op_type!r}.")

    batch_size = int(batch_size)
    g = _Graph(op_type)
    g.shapes["global_in"] = (batch_size, n_features)
    x = _build(network, g, "global_in", batch_size, calibrated_grids)
    if output_activation and network.out_activation != "identity":
        op_type, attrs = _OUTPUT_OPS[network.out_activation]
        x = g.node(op_type, [x], "out", g.shapes[x], **attrs)
    # The last node writes the output itself: no Identity for the compilers to skip.
    g.nodes[-1].output[0] = "global_out"
    g.shapes["global_out"] = g.shapes.pop(x)

    def info(tensor):
        return helper.make_tensor_value_info(tensor, TensorProto.FLOAT, list(g.shapes[tensor]))

    constants = {init.name for init in g.initializers}
    inner = [t for t in g.shapes if t not in constants and t not in ("global_in", "global_out")]
    graph = helper.make_graph(
        g.nodes,
        name,
        [info("global_in")],
        [info("global_out")],
        initializer=g.initializers,
        value_info=[info(t) for t in inner],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", target_opset), helper.make_opsetid(QONNX_DOMAIN, 1)],
        producer_name="skqat",
    )
    # IR 8 (onnx 1.10+): readable by the older onnx releases that FINN pins.
    model.ir_version = min(model.ir_version, 8)
    onnx.checker.check_model(model)
    return model
