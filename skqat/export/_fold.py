"""Fold a fitted scikit-learn ``Pipeline`` into a :class:`~skqat.export._fold_record.FoldedInput`.

The walk follows the data through the pipeline column by column. Each
column is, at every point, one of:

- ``_Raw``: a raw input column, perhaps imputed (a numeric ``SimpleImputer``
  fill, or a categorical one), not yet read as a number or a category;
- ``_Numeric``: a raw numeric column and the operations scikit-learn applied
  to it so far (:data:`~skqat.export._fold_record.OP_KINDS`);
- ``_State``: a function of a state source (a category index or a bin), as
  its value in every state.

Numeric steps append scikit-learn's own operations (read from the fitted
attributes, in the order ``transform`` applies them; the tests check every
code against ``pipeline.predict``, ties included). A step applied to state
columns is run through its own ``transform`` on every state's value, so the
folded values are scikit-learn's. Steps not in :data:`FOLDABLE` are refused
with a ``ValueError`` naming them: nothing is silently kept in float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fold_record import FoldedInput, NumericFeature, StateFeature, StateSource

__all__ = ["FOLDABLE", "fold_pipeline", "final_estimator"]

#: What can be folded, for the refusal message and the docs.
FOLDABLE = (
    "SimpleImputer (mean, median, most_frequent, constant; add_indicator=False)",
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "RobustScaler",
    "OneHotEncoder",
    "OrdinalEncoder",
    "KBinsDiscretizer (encode='ordinal', 'onehot' or 'onehot-dense')",
    "ColumnTransformer",
    "Pipeline",
    "'passthrough' and 'drop' (and FunctionTransformer() without a function)",
)


@dataclass(frozen=True)
class _Raw:
    column: int
    fill: tuple | None = None  # (missing_values, statistic) of a SimpleImputer


@dataclass(frozen=True)
class _Numeric:
    column: int
    ops: tuple


@dataclass(frozen=True)
class _State:
    source: int
    values: np.ndarray  # float64, one per state


class _Walk:
    """The sources found so far and the steps folded, shared by the whole walk."""

    def __init__(self):
        self.sources: list[StateSource] = []
        self.steps: list[str] = []


def final_estimator(pipeline):
    """The skqat estimator ending ``pipeline`` (or ``pipeline`` itself), checked to be fitted and integer."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    estimator = pipeline[-1] if isinstance(pipeline, Pipeline) else pipeline
    if not (hasattr(estimator, "export_integer") and hasattr(estimator, "quantization_report")):
        raise TypeError(
            "export_integer folds a Pipeline ending in a QuantizedMLPClassifier or QuantizedMLPRegressor "
            f"(or takes one of them alone); its last step is {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator


def fold_pipeline(pipeline) -> FoldedInput:
    """Fold a fitted ``Pipeline`` (or a bare skqat estimator) into its numeric features and states.

    Parameters
    ----------
    pipeline : Pipeline or QuantizedMLPClassifier or QuantizedMLPRegressor
        Fitted; the last step is a skqat estimator, every other step foldable
        (:data:`FOLDABLE`).

    Returns
    -------
    FoldedInput

    Raises
    ------
    ValueError
        For a step that cannot be folded; the message names it and lists
        what can.
    """
    from sklearn.pipeline import Pipeline

    estimator = final_estimator(pipeline)
    steps = list(pipeline.steps[:-1]) if isinstance(pipeline, Pipeline) else []
    # A Pipeline reports its first step's input columns.
    names = getattr(pipeline, "feature_names_in_", None)
    n_columns = int(getattr(pipeline, "n_features_in_", estimator.n_features_in_))
    walk = _Walk()
    columns: list = [_Raw(j) for j in range(n_columns)]
    sparse = False
    for name, step in steps:
        columns, sparse = _fold_step(step, name, columns, sparse, walk)
    if len(columns) != estimator.n_features_in_:  # pragma: no cover - scikit-learn checked it at fit
        raise ValueError(
            f"the pipeline hands {len(columns)} columns to a network of {estimator.n_features_in_}."
        )
    numeric, state_features = [], []
    for feature, column in enumerate(columns):
        if isinstance(column, _State):
            state_features.append(StateFeature(column.source, feature, column.values))
        else:
            column = _as_numeric(column, "the network")
            numeric.append(NumericFeature(column.column, feature, column.ops))
    folded = FoldedInput(
        columns=tuple(str(n) for n in names) if names is not None else tuple(range(n_columns)),
        from_dataframe=names is not None,
        numeric=tuple(numeric),
        sources=tuple(walk.sources),
        state_features=tuple(state_features),
        n_features=len(columns),
        steps=tuple(walk.steps),
    )
    _check_column_roles(folded)
    return folded


# ----------------------------------------------------------------------
# Steps
# ----------------------------------------------------------------------
def _refuse(step, name: str, why: str = ""):
    listed = "; ".join(FOLDABLE)
    reason = f" ({why})" if why else ""
    return ValueError(
        f"Step {name!r} ({type(step).__name__}) cannot be folded into the integer model{reason}. "
        f"Foldable steps: {listed}. Apply the others before the pipeline, or export with skl2onnx "
        "(skqat.register_skl2onnx) to keep them in float."
    )


def _fold_step(step, name: str, columns: list, sparse: bool, walk: _Walk):
    """Columns after ``step`` and whether scikit-learn hands them on as a sparse matrix."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        KBinsDiscretizer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    if step is None or (isinstance(step, str) and step == "passthrough") or _identity(step):
        return columns, sparse
    if isinstance(step, str) and step == "drop":
        return [], False
    if isinstance(step, Pipeline):
        for inner_name, inner in step.steps:
            columns, sparse = _fold_step(inner, f"{name}__{inner_name}", columns, sparse, walk)
        return columns, sparse
    if isinstance(step, ColumnTransformer):
        return _fold_column_transformer(step, name, columns, walk), bool(step.sparse_output_)
    kind = type(step)
    if kind is SimpleImputer:
        return _fold_imputer(step, name, columns, sparse, walk), sparse
    if kind in (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler):
        return _fold_scaler(step, name, columns, sparse, walk), sparse
    if kind in (OneHotEncoder, OrdinalEncoder):
        out = _fold_encoder(step, name, columns, sparse, walk)
        return out, kind is OneHotEncoder and bool(step.sparse_output)
    if kind is KBinsDiscretizer:
        return _fold_bins(step, name, columns, sparse, walk), step.encode == "onehot"
    raise _refuse(step, name)


def _fold_column_transformer(ct, name: str, columns: list, walk: _Walk) -> list:
    out: list = [None] * sum(s.stop - s.start for s in ct.output_indices_.values())
    for inner_name, inner, _ in ct.transformers_:
        picked = [columns[i] for i in ct._transformer_to_input_indices[inner_name]]
        # Each transformer sees its columns as the ColumnTransformer's input gives them: dense.
        result, _ = _fold_step(inner, f"{name}__{inner_name}", picked, False, walk)
        where = ct.output_indices_[inner_name]
        if len(result) != where.stop - where.start:  # pragma: no cover - defensive
            raise _refuse(inner, f"{name}__{inner_name}", "its output width does not match")
        out[where] = result
    walk.steps.append(f"{name}: ColumnTransformer")
    return out


def _fold_imputer(imputer, name: str, columns: list, sparse: bool, walk: _Walk) -> list:
    if imputer.add_indicator:
        raise _refuse(imputer, name, "add_indicator=True adds indicator columns")
    stats = imputer.statistics_
    if len(imputer.get_feature_names_out()) != len(columns):
        raise _refuse(imputer, name, "it drops columns that were all missing at fit")
    missing = imputer.missing_values
    if not _is_nan(missing) and not isinstance(missing, (int, float)):
        raise _refuse(imputer, name, f"missing_values={missing!r}: only NaN or a number")
    out: list = []
    for j, column in enumerate(columns):
        stat = stats[j]
        if isinstance(column, _Raw) and column.fill is None:
            out.append(_Raw(column.column, (missing, stat)))
        elif isinstance(column, _Numeric) and _is_number(stat):
            out.append(
                _Numeric(column.column, column.ops + (("fill", np.float64(missing), np.float64(stat)),))
            )
        elif isinstance(column, _State):
            out.append(column)  # replaced below by the step's own transform
        else:
            raise _refuse(imputer, name, "a second imputation of the same column")
    walk.steps.append(f"{name}: SimpleImputer(strategy={imputer.strategy!r})")
    return _through_states(imputer, name, columns, out, sparse)


def _fold_scaler(scaler, name: str, columns: list, sparse: bool, walk: _Walk) -> list:
    ops_of = _scaler_ops(scaler, sparse)
    out: list = []
    for j, column in enumerate(columns):
        if isinstance(column, _State):
            out.append(column)
        else:
            column = _as_numeric(column, name)
            out.append(
                _Numeric(
                    column.column,
                    column.ops
                    + tuple((kind, *(c[j] if np.ndim(c) else c for c in consts)) for kind, *consts in ops_of),
                )
            )
    walk.steps.append(f"{name}: {type(scaler).__name__}")
    return _through_states(scaler, name, columns, out, sparse)


def _scaler_ops(scaler, sparse: bool) -> list:
    """The scaler's ``transform`` as ``(kind, *constants)`` (per-column arrays), in its order."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    ops: list = []
    if isinstance(scaler, (StandardScaler, RobustScaler)):
        standard = isinstance(scaler, StandardScaler)
        centers = scaler.with_mean if standard else scaler.with_centering
        scales = scaler.with_std if standard else scaler.with_scaling
        if sparse:  # scikit-learn never centers sparse input; it multiplies by 1/scale
            if scales:
                ops.append(("mul", 1.0 / f64(scaler.scale_)))
        else:
            if centers:
                ops.append(("sub", f64(scaler.mean_ if standard else scaler.center_)))
            if scales:
                ops.append(("div", f64(scaler.scale_)))
    elif isinstance(scaler, MaxAbsScaler):
        ops.append(("mul", 1.0 / f64(scaler.scale_)) if sparse else ("div", f64(scaler.scale_)))
        if getattr(scaler, "clip", False):
            ops.append(("clip", np.float64(-1.0), np.float64(1.0)))
    elif isinstance(scaler, MinMaxScaler):
        ops.append(("mul", f64(scaler.scale_)))
        ops.append(("add", f64(scaler.min_)))
        if scaler.clip:
            low, high = scaler.feature_range
            ops.append(("clip", np.float64(low), np.float64(high)))
    return ops


def _fold_bins(kbins, name: str, columns: list, sparse: bool, walk: _Walk) -> list:
    if kbins.dtype not in (None, np.float64):
        raise _refuse(kbins, name, f"dtype={kbins.dtype!r}: only None or float64")
    n_out = [int(n) if kbins.encode != "ordinal" else 1 for n in kbins.n_bins_]
    crafted: list = []
    for j, column in enumerate(columns):
        if isinstance(column, _State):
            crafted.append(column)
            continue
        column = _as_numeric(column, name)
        edges = np.asarray(kbins.bin_edges_[j], dtype=np.float64)
        n_bins = len(edges) - 1
        errors = np.zeros(n_bins + 2, dtype=bool)
        errors[n_bins:] = True  # no unknown bin; a NaN reaching the discretizer is refused
        walk.sources.append(StateSource(column.column, None, column.ops, edges[1:-1].copy(), errors, name))
        # A value inside each bin: its lower edge.
        values = np.concatenate([edges[:n_bins], [edges[0], edges[0]]])
        crafted.append(_State(len(walk.sources) - 1, values))
    walk.steps.append(f"{name}: KBinsDiscretizer(encode={kbins.encode!r}, strategy={kbins.strategy!r})")
    return _expand_states(kbins, name, crafted, n_out, sparse)


def _fold_encoder(encoder, name: str, columns: list, sparse: bool, walk: _Walk) -> list:
    from sklearn.preprocessing import OneHotEncoder

    n_out = list(encoder._n_features_outs) if isinstance(encoder, OneHotEncoder) else [1] * len(columns)
    crafted: list = []
    for j, column in enumerate(columns):
        if isinstance(column, _State):
            crafted.append(column)
            continue
        if not isinstance(column, _Raw):
            raise _refuse(encoder, name, "it encodes a column already scaled; encode raw columns")
        categories = np.asarray(encoder.categories_[j])
        missing = np.nan if column.fill is None else column.fill[1]
        values = np.empty(len(categories) + 2, dtype=object)
        values[: len(categories)] = list(categories)
        values[len(categories)] = _unknown_value(categories)
        values[len(categories) + 1] = missing
        errors = np.zeros(len(values), dtype=bool)
        walk.sources.append(StateSource(column.column, categories, (), None, errors, name))
        crafted.append(_State(len(walk.sources) - 1, values))
    walk.steps.append(f"{name}: {type(encoder).__name__}")
    return _expand_states(encoder, name, crafted, n_out, sparse, walk)


# ----------------------------------------------------------------------
# States through a step's own transform
# ----------------------------------------------------------------------
def _state_matrix(step, columns: list, rows: int, sparse: bool, override=None):
    """A matrix of every column's state values (numeric columns at 0), as ``step`` expects it."""
    import pandas as pd

    data = {}
    for j, column in enumerate(columns):
        if isinstance(column, _State):
            values = column.values if override is None else override(j, column)
            pad = np.resize(values[:1], rows - len(values))
            data[j] = np.concatenate([values, pad]) if len(pad) else values
        else:
            data[j] = np.zeros(rows)
    names = getattr(step, "feature_names_in_", None)
    if names is not None or any(v.dtype == object for v in data.values()):
        frame = pd.DataFrame({(names[j] if names is not None else j): v for j, v in data.items()})
        if names is None:
            return frame.to_numpy()
        return frame
    matrix = np.column_stack([data[j] for j in range(len(columns))]) if columns else np.zeros((rows, 0))
    if sparse:
        from scipy import sparse as sp

        return sp.csr_matrix(matrix)
    return matrix


def _dense(a) -> np.ndarray:
    a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    return np.asarray(a, dtype=np.float64)


def _transform_states(step, name: str, columns: list, sparse: bool, walk: _Walk | None) -> np.ndarray:
    """``step.transform`` of every state's value, marking states it refuses as errors (zero values)."""
    states = [c for c in columns if isinstance(c, _State)]
    rows = max(len(c.values) for c in states)
    try:
        return _dense(step.transform(_state_matrix(step, columns, rows, sparse)))
    except (ValueError, TypeError):  # TypeError: scikit-learn's encoders on NaN among strings
        pass
    # Some state is refused (an unknown category under handle_unknown="error",
    # NaN without an imputer): find which, one column and one state at a time.
    safe = {}
    for j, column in enumerate(columns):
        if isinstance(column, _State):
            ok = np.ones(len(column.values), dtype=bool)
            for s in range(len(column.values)):
                probe = [
                    c if k == j or not isinstance(c, _State) else _State(c.source, c.values[:1])
                    for k, c in enumerate(columns)
                ]
                probe[j] = _State(column.source, column.values[s : s + 1])
                try:
                    step.transform(_state_matrix(step, probe, 1, sparse))
                except (ValueError, TypeError):
                    ok[s] = False
            if not ok.any():
                raise _refuse(step, name, "it refuses every value of one of its columns")
            if walk is not None and not ok.all():
                source = walk.sources[column.source]
                errors = source.errors.copy()
                errors[~ok] = True
                walk.sources[column.source] = StateSource(
                    source.column, source.categories, source.front, source.edges, errors, source.step
                )
            safe[j] = ok
    # Refused states take an accepted state's value (their outputs are set to zero later).
    matrix = _state_matrix(step, columns, rows, sparse, override=lambda j, c: _accepted(c.values, safe[j]))
    return _dense(step.transform(matrix))


def _accepted(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``values`` with the refused ones replaced by the first accepted one."""
    values = values.copy()
    values[~ok] = values[np.flatnonzero(ok)[0]]
    return values


def _through_states(step, name: str, columns: list, out: list, sparse: bool) -> list:
    """Replace the state columns of ``out`` (a per-column step) by the step's transform of their values."""
    if not any(isinstance(c, _State) for c in columns):
        return out
    values = _transform_states(step, name, columns, sparse, None)
    return [
        _State(c.source, values[: len(c.values), j].copy()) if isinstance(c, _State) else out[j]
        for j, c in enumerate(columns)
    ]


def _expand_states(
    step, name: str, columns: list, n_out: list, sparse: bool, walk: _Walk | None = None
) -> list:
    """The output columns of an encoding step whose inputs are all states (``n_out[j]`` per input)."""
    for column in columns:
        if not isinstance(column, _State):  # pragma: no cover - the callers make every column a state
            raise _refuse(step, name)
    values = _transform_states(step, name, columns, sparse, walk)
    out: list = []
    start = 0
    for column, width in zip(columns, n_out):
        n = len(column.values)
        for k in range(start, start + width):
            out.append(_State(column.source, values[:n, k].copy()))
        start += width
    if walk is not None:
        # Refused states hand the network zeros.
        for column in out:
            column.values[walk.sources[column.source].errors] = 0.0
    return out


# ----------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------
def _identity(step) -> bool:
    """A ``FunctionTransformer`` without functions (a fitted ``ColumnTransformer``'s "passthrough")."""
    from sklearn.preprocessing import FunctionTransformer

    return type(step) is FunctionTransformer and step.func is None


def _as_numeric(column, where: str) -> _Numeric:
    if isinstance(column, _Numeric):
        return column
    if isinstance(column, _Raw):
        if column.fill is None:
            return _Numeric(column.column, ())
        missing, stat = column.fill
        if not _is_number(stat):
            raise ValueError(
                f"{where} reads raw column {column.column} as a number, but its imputer fills it with "
                f"{stat!r}; encode categorical columns (OneHotEncoder or OrdinalEncoder) before the network."
            )
        return _Numeric(column.column, (("fill", np.float64(missing), np.float64(stat)),))
    raise ValueError(f"{where} cannot read an encoded column as a raw number.")  # pragma: no cover


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _unknown_value(categories: np.ndarray):
    """A value not among ``categories``, of their kind."""
    if categories.dtype.kind in "iuf":
        finite = categories[np.isfinite(categories.astype(np.float64))]
        return (finite.max() if len(finite) else 0) + 1
    value = "__skqat_unknown__"
    while value in set(categories.tolist()):
        value += "_"
    return value


def _check_column_roles(folded: FoldedInput) -> None:
    numeric = set(folded.numeric_columns)
    categorical = set(folded.categorical_columns)
    both = numeric & categorical
    if both:
        column = folded.columns[min(both)]
        raise ValueError(
            f"Raw column {column!r} is read both as a number and as a category; the integer model takes "
            "each raw column one way. Encode it or scale it, not both."
        )
    for column in categorical:
        lists = [s.categories for s in folded.sources if s.column == column and s.categories is not None]
        if any(
            len(c) != len(lists[0])
            or not all(a == b or (_is_nan(a) and _is_nan(b)) for a, b in zip(c, lists[0]))
            for c in lists
        ):
            raise ValueError(
                f"Raw column {folded.columns[column]!r} is encoded twice with different categories; "
                "the integer model takes one category index per column."
            )
