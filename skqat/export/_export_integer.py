"""``skqat.export_integer``: a fitted pipeline (or estimator) as one integer model from raw columns."""

from __future__ import annotations

__all__ = ["export_integer"]


def export_integer(model, requantize: str = "fixed_point"):
    """Fold a fitted pipeline's preprocessing into its network's integer model.

    Parameters
    ----------
    model : Pipeline or QuantizedMLPClassifier or QuantizedMLPRegressor
        Fitted. A ``Pipeline``'s steps before the skqat estimator must be
        foldable: ``SimpleImputer``, the scalers, ``OneHotEncoder``,
        ``OrdinalEncoder``, ``KBinsDiscretizer``, in ``ColumnTransformer``\\ s
        and nested pipelines (the user guide's fold table). A bare estimator
        folds with no preprocessing.
    requantize : {"fixed_point", "float32"}, default="fixed_point"
        As in the estimators' ``export_integer``.

    Returns
    -------
    IntegerPipeline
        ``predict`` and ``predict_proba`` equal the pipeline's on every row
        it accepts; ``to_c`` writes a C header, ``skqat.to_onnx(pipeline,
        X_sample)`` an ONNX graph of the same arithmetic.

    Raises
    ------
    ValueError
        For a step that cannot be folded (the message names it and lists
        what can), or a network that is not integer-only.
    TypeError
        If the last step is not a skqat estimator.
    """
    from ._fold import final_estimator, fold_pipeline
    from ._integer_pipeline import IntegerPipeline

    estimator = final_estimator(model)
    network = estimator._frozen
    if not network.integer:
        raise ValueError(
            "export_integer needs an integer-only network; this model has a float layer "
            "(weight_bits=None somewhere). Refit with integer weight_bits."
        )
    return IntegerPipeline(network, fold_pipeline(model), requantize=requantize)
