"""The frozen record of a fitted skqat estimator, for the exporters: a clear error for anything else."""

from __future__ import annotations

from .._frozen import FrozenNetwork

__all__ = ["fitted_network"]


def fitted_network(estimator, target: str) -> FrozenNetwork:
    """``estimator``'s frozen network, after checking it is a fitted skqat estimator.

    Parameters
    ----------
    estimator : object
        What the user passed to the exporter.
    target : str
        The exporter's name, for the messages (``"to_onnx"``, ``"to_qonnx"``).

    Raises
    ------
    TypeError
        If ``estimator`` is a scikit-learn ``Pipeline`` (``to_onnx`` folds a
        pipeline before it gets here; ``to_qonnx`` exports the network alone)
        or not a skqat estimator.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    if isinstance(estimator, Pipeline):
        raise TypeError(
            f"{target} exports a skqat estimator, not a Pipeline. Pass its last step, "
            f"{target}(pipeline[-1], ...), to export the network alone. To deploy the whole "
            "pipeline, skqat.to_onnx(pipeline, X_sample) writes an ONNX graph with its preprocessing "
            "folded into the integer model, and skqat.export_integer(pipeline) the same integer model "
            "in numpy (and a C header); skqat.register_skl2onnx() then skl2onnx.to_onnx(pipeline, ...) "
            "keeps the preprocessing in float."
        )
    # skqat's estimators, by what they have (importing them would import torch).
    if not (hasattr(estimator, "export_integer") and hasattr(estimator, "quantization_report")):
        raise TypeError(
            f"{target} exports a fitted QuantizedMLPClassifier or QuantizedMLPRegressor, "
            f"got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator._frozen
