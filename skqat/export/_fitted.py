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
        If ``estimator`` is a scikit-learn ``Pipeline`` (the exporters take
        the skqat estimator itself) or not a skqat estimator.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    if isinstance(estimator, Pipeline):
        raise TypeError(
            f"{target} exports a skqat estimator, not a Pipeline. Pass its last step, "
            f"{target}(pipeline[-1], ...), to export the network alone; to export the whole "
            "pipeline (its preprocessing in float), call skqat.register_skl2onnx() and then "
            "skl2onnx.to_onnx(pipeline, ...)."
        )
    # skqat's estimators, by what they have (importing them would import torch).
    if not (hasattr(estimator, "export_integer") and hasattr(estimator, "quantization_report")):
        raise TypeError(
            f"{target} exports a fitted QuantizedMLPClassifier or QuantizedMLPRegressor, "
            f"got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator._frozen
