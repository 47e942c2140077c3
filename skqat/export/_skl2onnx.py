"""A skl2onnx converter for skqat estimators, so whole pipelines convert (extra ``skqat[onnx]``).

The converter writes the graphs of :mod:`skqat.export._onnx` into skl2onnx's
container: the float graph by default, the integer graph with the option
``integer_ops``.
"""

from __future__ import annotations

import numpy as np

from .._frozen import FrozenNetwork
from ._onnx import build_model, compute_dtype, label_dtype, label_shape
from ._onnx_graph import MS_DOMAIN, GraphBuilder, onnx_type

__all__ = ["register_skl2onnx"]

#: Options of the classifier's converter, with the values skl2onnx accepts.
CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False], "integer_ops": [False, True]}
REGRESSOR_OPTIONS = {"integer_ops": [False, True]}


class _ContainerGraph(GraphBuilder):
    """Writes into the scope and container skl2onnx hands a converter."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def constant(self, hint, array):
        from onnx import numpy_helper

        array = np.asarray(array)
        name = self.scope.get_unique_variable_name(hint)
        if array.dtype.kind == "O":  # strings
            content = [str(v).encode() for v in array.ravel()]
        else:
            content = numpy_helper.from_array(array, name)  # raw bytes: large weights stay fast
        self.container.add_initializer(name, onnx_type(array.dtype), list(array.shape), content)
        return name

    def node(self, op_type, inputs, hint, output=None, domain="", **attrs):
        output = output or self.scope.get_unique_variable_name(hint)
        self.container.add_node(
            op_type,
            inputs,
            [output],
            op_domain=domain,
            op_version=1 if domain == MS_DOMAIN else None,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output


def _float_type(dtype):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return FloatTensorType if np.dtype(dtype) == np.float32 else DoubleTensorType


def _input_dtype(operator) -> np.dtype | None:
    """The float type of the operator's input (float32 or float64), or None for another type."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    variable_type = operator.inputs[0].type
    if isinstance(variable_type, FloatTensorType):
        return np.dtype(np.float32)
    if isinstance(variable_type, DoubleTensorType):
        return np.dtype(np.float64)
    return None


def _io_dtype(operator) -> np.dtype:
    """The float type the skqat part takes and outputs: its input's, or the training dtype."""
    return _input_dtype(operator) or compute_dtype(_network(operator))


def _network(operator) -> FrozenNetwork:
    """The fitted estimator's frozen record: all the converter reads of it."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(operator.raw_operator)
    return operator.raw_operator._frozen


def _classes(scope, operator) -> np.ndarray | None:
    """The labels the graph outputs: the head's classes, or their indices with skl2onnx's option ``nocl``."""
    head = _network(operator).head
    if not head.is_classifier:
        return None
    options = scope.get_options(operator.raw_operator, dict(nocl=False))
    if options["nocl"]:
        if head.kind == "multilabel":
            raise RuntimeError("Option 'nocl=True' is not implemented for multilabel classification.")
        assert head.classes is not None
        return np.arange(len(head.classes))
    return head.classes


def _shape_classifier(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    network = _network(operator)
    n = operator.inputs[0].get_first_dimension()
    shape = [n, *label_shape(network)[1:]]
    label = label_dtype(network.head, _classes(operator.scope_inst, operator))
    operator.outputs[0].type = (Int64TensorType if label == np.int64 else StringTensorType)(shape)
    columns = network.head.proba_columns(network.n_outputs)
    operator.outputs[1].type = _float_type(_io_dtype(operator))([n, columns])


def _shape_regressor(operator):
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _float_type(_io_dtype(operator))([n, _network(operator).n_outputs])


def _convert(scope, operator, container):
    estimator = operator.raw_operator
    options = container.get_options(estimator, dict(integer_ops=False))
    graph = _ContainerGraph(scope, container)
    x, x_dtype = operator.inputs[0].full_name, _io_dtype(operator)
    if _input_dtype(operator) is None:  # integers from the pipeline: into the float type first
        x = graph.node("Cast", [x], "input_float", to=onnx_type(x_dtype))
    build_model(
        graph,
        _network(operator),
        x,
        x_dtype,
        [v.full_name for v in operator.outputs],
        integer_ops=bool(options["integer_ops"]),
        classes=_classes(scope, operator),
    )


def register_skl2onnx() -> None:
    """Register skqat's estimators with skl2onnx, so ``skl2onnx.to_onnx(pipeline, X)`` converts them.

    Call once per process before converting a pipeline that ends in a skqat
    estimator; calling again is harmless. Options (skl2onnx's ``options=``,
    keyed by the estimator's class or ``id``):

    - ``integer_ops`` (default False): the integer graph of
      :func:`skqat.to_onnx` (onnxruntime's 8-bit integer kernels, computing
      ``export_integer(requantize="float32")`` exactly);
    - classifiers: skl2onnx's ``zipmap`` (default True; ``False`` for a plain
      probability matrix) and ``nocl``.

    The skqat part computes in the estimator's training dtype, casting its
    input if the pipeline hands over another type, and outputs probabilities
    (or values) of the float type it was handed, so float32 pipelines get
    float32 probabilities, which skl2onnx's ``ZipMap`` takes.

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort, skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skqat import QuantizedMLPClassifier, register_skl2onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=300,
    ...                              learning_rate_init=0.01, random_state=0)
    >>> pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    >>> register_skl2onnx()
    >>> onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={id(clf): {"integer_ops": True}})
    >>> labels, probabilities = ort.InferenceSession(onx.SerializeToString()).run(
    ...     None, {"X": X.astype(np.float32)})
    >>> bool((labels == pipe.predict(X)).mean() > 0.99), sorted(probabilities[0])
    (True, [0, 1, 2])
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as exc:
        raise ImportError(
            "register_skl2onnx needs skl2onnx; install it with: pip install 'skqat[onnx]'"
        ) from exc
    from .._classifier import QuantizedMLPClassifier
    from .._regressor import QuantizedMLPRegressor

    update_registered_converter(
        QuantizedMLPClassifier,
        "SkqatQuantizedMLPClassifier",
        _shape_classifier,
        _convert,
        options=CLASSIFIER_OPTIONS,
        overwrite=True,
    )
    update_registered_converter(
        QuantizedMLPRegressor,
        "SkqatQuantizedMLPRegressor",
        _shape_regressor,
        _convert,
        options=REGRESSOR_OPTIONS,
        overwrite=True,
    )
