"""A skl2onnx converter for skqat estimators, so whole pipelines convert (extra ``skqat[onnx]``)."""

from __future__ import annotations

import numpy as np

from ._onnx import (
    GraphBuilder,
    build_classifier_heads,
    build_network,
    build_regressor_head,
    graph_dtype,
    is_multilabel,
    onnx_type,
    probability_columns,
)

__all__ = ["register_skl2onnx"]


class _ContainerGraph(GraphBuilder):
    """Writes into the scope and container skl2onnx hands a converter."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def constant(self, hint, array):
        from onnx import helper

        array = np.asarray(array)
        name = self.scope.get_unique_variable_name(hint)
        onnx_type = helper.np_dtype_to_tensor_dtype(
            np.dtype(object) if array.dtype == object else array.dtype
        )
        content = array.ravel().tolist()
        if array.dtype == object:
            content = [str(v).encode() for v in content]
        self.container.add_initializer(name, onnx_type, list(array.shape), content)
        return name

    def node(self, op_type, inputs, hint, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(hint)
        versions = {
            "DequantizeLinear": 13,
            "Clip": 13,
            "Round": 11,
            "ArgMax": 13,
            "Gather": 13,
            "Softmax": 13,
        }
        self.container.add_node(
            op_type,
            inputs,
            [output],
            name=self.scope.get_unique_operator_name(op_type),
            op_version=versions.get(op_type),
            **attrs,
        )
        return output


def _input(graph: _ContainerGraph, operator, dtype) -> str:
    """The operator's input in the estimator's dtype (cast when the pipeline hands over another)."""
    variable = operator.inputs[0]
    if variable.type.__class__ is _float_type(dtype):
        return variable.full_name
    return graph.node("Cast", [variable.full_name], "input_cast", to=onnx_type(dtype))


def _float_type(dtype):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return FloatTensorType if dtype == np.float32 else DoubleTensorType


def _shape_classifier(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    estimator = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    if is_multilabel(estimator):
        operator.outputs[0].type = Int64TensorType([n, estimator.n_outputs_])
    elif estimator.classes_.dtype.kind in "iub":
        operator.outputs[0].type = Int64TensorType([n])
    else:
        operator.outputs[0].type = StringTensorType([n])
    operator.outputs[1].type = _float_type(graph_dtype(estimator))([n, probability_columns(estimator)])


def _shape_regressor(operator):
    estimator = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _float_type(graph_dtype(estimator))([n, estimator.n_outputs_])


def _network(scope, operator, container):
    graph = _ContainerGraph(scope, container)
    dtype = graph_dtype(operator.raw_operator)
    return graph, dtype, build_network(graph, operator.raw_operator, _input(graph, operator, dtype), dtype)


def _convert_classifier(scope, operator, container):
    graph, dtype, raw = _network(scope, operator, container)
    label, probabilities = (v.full_name for v in operator.outputs[:2])
    build_classifier_heads(graph, operator.raw_operator, raw, label, probabilities, dtype)


def _convert_regressor(scope, operator, container):
    graph, _, raw = _network(scope, operator, container)
    build_regressor_head(graph, raw, operator.outputs[0].full_name)


def register_skl2onnx() -> None:
    """Register skqat's estimators with skl2onnx, so ``skl2onnx.to_onnx(pipeline, X)`` converts them.

    Call once per process before converting a pipeline that ends in a skqat
    estimator; calling again is harmless. Classifiers get skl2onnx's usual
    ``zipmap`` option (pass ``options={"zipmap": False}`` for a plain
    probability matrix). The skqat part computes in the estimator's training
    dtype, casting its input if the pipeline hands over another; pipelines
    that produce float32 features (``dtype=np.float32`` in ``OneHotEncoder``,
    float32 columns) reproduce ``predict`` exactly.

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort, skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skqat import QuantizedMLPClassifier, register_skl2onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), QuantizedMLPClassifier(
    ...     hidden_layer_sizes=(8,), weight_bits=4, max_iter=300, learning_rate_init=0.01,
    ...     random_state=0)).fit(X, y)
    >>> register_skl2onnx()
    >>> onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={"zipmap": False})
    >>> labels, proba = ort.InferenceSession(onx.SerializeToString()).run(None, {"X": X.astype(np.float32)})
    >>> bool((labels == pipe.predict(X)).mean() > 0.99)
    True
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
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
        overwrite=True,
    )
    update_registered_converter(
        QuantizedMLPRegressor,
        "SkqatQuantizedMLPRegressor",
        _shape_regressor,
        _convert_regressor,
        overwrite=True,
    )
