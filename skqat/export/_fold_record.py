"""The folded input stage of a pipeline: raw columns to the network's first accumulator (numpy only).

:func:`skqat.export._fold.fold_pipeline` reads a fitted scikit-learn
``Pipeline`` and writes this record; :class:`~skqat.export.IntegerPipeline`,
the C header and the ONNX graph read it. Nothing here imports scikit-learn.

Each raw column the pipeline reads ends in one of two ways:

- a **numeric feature** (:class:`NumericFeature`): scikit-learn's own
  floating-point operations on the raw value (imputation, then the scalers'
  subtractions, divisions, multiplications, additions and clips, in their
  order, in float64), then the input grid of the network's feature;
- a **state** (:class:`StateSource`): a category's index among the fitted
  encoder's categories (``-1`` unknown, ``-2`` missing), or a
  ``KBinsDiscretizer`` bin found by threshold compares. Everything the
  pipeline computes from a state (one-hot columns, ordinal values, scalers
  after them) takes finitely many values: :class:`StateFeature` holds them,
  computed at fold time by scikit-learn's own ``transform``, so folding
  changes no value. The network's first layer then adds one stored row of
  accumulators per state (a gather, no one-hot vector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FoldedInput",
    "NumericFeature",
    "StateFeature",
    "StateSource",
    "MISSING",
    "UNKNOWN",
    "apply_ops",
    "OP_KINDS",
]

#: Category indices the C and ONNX targets take for a value not among the
#: categories, and for a missing value.
UNKNOWN = -1
MISSING = -2

#: Numeric operations, each as scikit-learn writes it: ``fill`` replaces
#: values equal to ``missing`` (NaN by default) with ``value``
#: (``SimpleImputer``); ``sub``, ``div``, ``mul``, ``add`` are ``x -= c``,
#: ``x /= c``, ``x *= c`` and ``x += c``; ``clip`` is ``np.clip(x, lo, hi)``.
OP_KINDS = ("fill", "sub", "div", "mul", "add", "clip")


def apply_ops(x: np.ndarray, ops: tuple) -> np.ndarray:
    """``x`` (float64, one column or several with per-column constants) through ``ops``, in place.

    Parameters
    ----------
    x : ndarray of float64
        Written over.
    ops : tuple of tuple
        ``(kind, *constants)`` per operation, ``kind`` in :data:`OP_KINDS`;
        constants are float64 scalars or arrays broadcasting against ``x``.

    Returns
    -------
    ndarray
        ``x``.

    Examples
    --------
    >>> apply_ops(np.array([1.0, np.nan, 5.0]), (("fill", np.nan, 3.0), ("sub", 3.0), ("div", 2.0)))
    array([-1.,  0.,  1.])
    """
    for kind, *constants in ops:
        if kind == "fill":
            missing, value = constants
            mask = np.isnan(x) if np.isnan(missing).all() else x == missing
            np.copyto(x, np.broadcast_to(value, x.shape), where=mask)
        elif kind == "sub":
            np.subtract(x, constants[0], out=x)
        elif kind == "div":
            np.divide(x, constants[0], out=x)
        elif kind == "mul":
            np.multiply(x, constants[0], out=x)
        elif kind == "add":
            np.add(x, constants[0], out=x)
        elif kind == "clip":
            np.clip(x, constants[0], constants[1], out=x)
        else:  # pragma: no cover - the fold writes only OP_KINDS
            raise ValueError(f"unknown operation {kind!r}")
    return x


def op_signature(ops: tuple) -> tuple:
    """The kinds of ``ops`` (and whether each ``fill`` is for NaN): features sharing it run as one block."""
    return tuple((kind, bool(np.isnan(constants[0]))) if kind == "fill" else kind for kind, *constants in ops)


@dataclass(frozen=True)
class NumericFeature:
    """A network input computed from one raw numeric column by scikit-learn's operations.

    Attributes
    ----------
    column : int
        Position of the raw column among the pipeline's input columns.
    feature : int
        The network input it feeds.
    ops : tuple
        ``(kind, *float64 constants)`` in order (:func:`apply_ops`).
    """

    column: int
    feature: int
    ops: tuple


@dataclass(frozen=True)
class StateSource:
    """A raw column reduced to one state per row: a category index or a bin.

    States ``0 .. n - 1`` are the categories (or bins), state ``n`` is a
    value not among them (:data:`UNKNOWN`) and ``n + 1`` a missing value
    (:data:`MISSING`).

    Attributes
    ----------
    column : int
        Position of the raw column among the pipeline's input columns.
    categories : ndarray or None
        The values the fitted encoder saw, after imputation (``categories_``),
        or None for bins.
    front : tuple
        Numeric operations before binning (bins only; :func:`apply_ops`).
    edges : ndarray of float64 or None
        Inner bin edges: the bin is the number of edges ``<=`` the value
        (``KBinsDiscretizer``'s ``searchsorted(..., side="right")``).
    errors : ndarray of bool, shape (n + 2,)
        States scikit-learn refuses (an unknown category under
        ``handle_unknown="error"``, a missing value nothing imputes).
    step : str
        The pipeline step that defines the states, for messages.
    """

    column: int
    categories: np.ndarray | None
    front: tuple
    edges: np.ndarray | None
    errors: np.ndarray
    step: str

    @property
    def n_values(self) -> int:
        """Number of categories (or bins)."""
        if self.categories is not None:
            return len(self.categories)
        assert self.edges is not None, "a source has categories or bin edges"
        return len(self.edges) + 1

    @property
    def n_states(self) -> int:
        return self.n_values + 2

    def state_index(self, index: np.ndarray) -> np.ndarray:
        """Table rows of category indices with :data:`UNKNOWN` and :data:`MISSING` (``-1``, ``-2``)."""
        index = np.asarray(index, dtype=np.int64)
        return np.where(index >= 0, index, self.n_values - 1 - index)


@dataclass(frozen=True)
class StateFeature:
    """A network input that is a function of one state: its value in every state.

    Attributes
    ----------
    source : int
        Index into :attr:`FoldedInput.sources`.
    feature : int
        The network input it feeds.
    values : ndarray of float64, shape (n_states,)
        What the pipeline hands the network in each state (0 for refused states).
    """

    source: int
    feature: int
    values: np.ndarray


@dataclass(frozen=True)
class FoldedInput:
    """A pipeline's preprocessing as numeric features and states (module docstring).

    Attributes
    ----------
    columns : tuple
        The raw input columns: names for a pipeline fitted on a DataFrame,
        else positions.
    from_dataframe : bool
        Whether the pipeline was fitted on a DataFrame (columns by name).
    numeric : tuple of NumericFeature
    sources : tuple of StateSource
    state_features : tuple of StateFeature
    n_features : int
        The network's inputs (each one numeric or state feature).
    steps : tuple of str
        What was folded, step by step, for the report.
    """

    columns: tuple
    from_dataframe: bool
    numeric: tuple
    sources: tuple
    state_features: tuple
    n_features: int
    steps: tuple

    @property
    def numeric_columns(self) -> tuple:
        """Positions of the raw columns read as numbers (by numeric features or bins), in input order."""
        used = {f.column for f in self.numeric} | {s.column for s in self.sources if s.categories is None}
        return tuple(sorted(used))

    @property
    def categorical_columns(self) -> tuple:
        """Positions of the raw columns read as categories, in input order."""
        return tuple(sorted({s.column for s in self.sources if s.categories is not None}))

    def column_categories(self, column: int) -> np.ndarray:
        """The categories of a categorical raw column (every encoder of it has the same)."""
        for source in self.sources:
            if source.column == column and source.categories is not None:
                return source.categories
        raise KeyError(column)


# ----------------------------------------------------------------------
# JSON (the folded stage inside an IntegerPipeline's .npz file)
# ----------------------------------------------------------------------
def _scalar(value):
    """A JSON value for a category or constant (floats keep every bit through ``repr``)."""
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return {"int": int(value)}
    if isinstance(value, (np.floating, float)):
        return {"float": float(value)}
    if isinstance(value, str):
        return {"str": value}
    raise TypeError(f"cannot store category {value!r} of type {type(value).__name__}")


def _value(item):
    ((kind, value),) = item.items()
    return {"int": int, "float": float, "str": str}[kind](value)


def folded_to_json(folded: FoldedInput) -> str:
    """``folded`` as JSON (no pickled objects; floats exact)."""
    import json

    def ops(ops):
        return [[kind, *(_scalar(np.float64(c)) for c in constants)] for kind, *constants in ops]

    record = {
        "columns": [_scalar(c) for c in folded.columns],
        "from_dataframe": folded.from_dataframe,
        "n_features": folded.n_features,
        "steps": list(folded.steps),
        "numeric": [{"column": f.column, "feature": f.feature, "ops": ops(f.ops)} for f in folded.numeric],
        "sources": [
            {
                "column": s.column,
                "categories": None if s.categories is None else [_scalar(c) for c in s.categories.tolist()],
                "categories_dtype": None if s.categories is None else s.categories.dtype.str,
                "front": ops(s.front),
                "edges": None if s.edges is None else [_scalar(e) for e in s.edges.tolist()],
                "errors": [bool(e) for e in s.errors],
                "step": s.step,
            }
            for s in folded.sources
        ],
        "state_features": [
            {"source": f.source, "feature": f.feature, "values": [_scalar(v) for v in f.values.tolist()]}
            for f in folded.state_features
        ],
    }
    return json.dumps(record)


def folded_from_json(text: str) -> FoldedInput:
    """The record :func:`folded_to_json` wrote."""
    import json

    record = json.loads(text)

    def ops(items):
        return tuple((kind, *(np.float64(_value(c)) for c in constants)) for kind, *constants in items)

    def categories(source):
        if source["categories"] is None:
            return None
        values = [_value(c) for c in source["categories"]]
        dtype = np.dtype(source["categories_dtype"])
        return np.array(values, dtype=object) if dtype.kind in "OUS" else np.array(values, dtype=dtype)

    return FoldedInput(
        columns=tuple(_value(c) for c in record["columns"]),
        from_dataframe=bool(record["from_dataframe"]),
        numeric=tuple(NumericFeature(f["column"], f["feature"], ops(f["ops"])) for f in record["numeric"]),
        sources=tuple(
            StateSource(
                s["column"],
                categories(s),
                ops(s["front"]),
                None if s["edges"] is None else np.array([_value(e) for e in s["edges"]], dtype=np.float64),
                np.array(s["errors"], dtype=bool),
                s["step"],
            )
            for s in record["sources"]
        ),
        state_features=tuple(
            StateFeature(
                f["source"], f["feature"], np.array([_value(v) for v in f["values"]], dtype=np.float64)
            )
            for f in record["state_features"]
        ),
        n_features=int(record["n_features"]),
        steps=tuple(record["steps"]),
    )
