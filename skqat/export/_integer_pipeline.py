"""``IntegerPipeline``: a whole fitted pipeline as one integer model, from raw columns (numpy only).

``skqat.export_integer(pipeline)`` folds the pipeline's preprocessing
(:mod:`skqat.export._fold`) into the network's input stage
(:mod:`skqat.export._fold_record`):

- numeric columns run scikit-learn's own floating-point operations (in
  float64), are cast to the network's float type and quantized on the
  network's per-feature input grid (learned widths' windows included:
  :class:`~skqat._frozen.GridParams`), exactly as ``pipeline.predict`` does;
- categorical columns (and ``KBinsDiscretizer`` bins) become a state per
  row: the first layer adds one stored row of int64 accumulators per such
  column, the sum of its encoded columns' levels times their weight levels,
  precomputed. There is no one-hot vector, and the sum is the same integer
  the one-hot product gives;
- from the first accumulator on, it is the network's integer model
  (:class:`~skqat._integer_inference.IntegerPlan`), so ``predict`` equals
  ``pipeline.predict`` on every row the pipeline accepts.

Loading a saved model needs numpy and pandas only (no torch, no scikit-learn).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._frozen import FrozenNetwork, GridParams, smallest_int_dtype
from .._integer_codes import weight_levels
from .._integer_inference import REQUANTIZE_MODES, IntegerPlan
from ._fold_record import (
    MISSING,
    UNKNOWN,
    FoldedInput,
    apply_ops,
    folded_from_json,
    folded_to_json,
    op_signature,
)
from ._integer import off_window
from ._model_file import network_arrays, read_network

__all__ = ["IntegerPipeline"]


class IntegerPipeline:
    """A fitted pipeline (preprocessing and network) on integers, from raw columns (module docstring).

    Build one with ``skqat.export_integer(pipeline)``, or :meth:`load`.

    Parameters
    ----------
    network : FrozenNetwork
        The final estimator's frozen record (integer-only).
    folded : FoldedInput
        The pipeline's preprocessing, folded.
    requantize : {"fixed_point", "float32"}, default="fixed_point"

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> import skqat
    >>> X = pd.DataFrame({"size": [1.0, 2.5, 3.0, 4.5, 5.0, 0.5] * 10,
    ...                   "color": ["red", "blue", "red", "green", "blue", "red"] * 10})
    >>> y = [0, 1, 0, 1, 1, 0] * 10
    >>> pipe = make_pipeline(
    ...     make_column_transformer((StandardScaler(), ["size"]), (OneHotEncoder(), ["color"])),
    ...     skqat.QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=50, random_state=0),
    ... ).fit(X, y)
    >>> model = skqat.export_integer(pipe)
    >>> codes, states = model.quantize_input(X[:2])
    >>> states.tolist()   # category indices into ['blue', 'green', 'red']
    [[2], [0]]
    >>> bool((model.predict(X) == pipe.predict(X)).all())
    True
    """

    def __init__(self, network: FrozenNetwork, folded: FoldedInput, *, requantize="fixed_point"):
        self.network = network
        self.folded = folded
        self.requantize = requantize
        self._plan = IntegerPlan(network, requantize)
        self._prepare()

    # ------------------------------------------------------------------
    # Preparation: numeric weights, state tables
    # ------------------------------------------------------------------
    def _prepare(self) -> None:
        network, folded = self.network, self.folded
        dtype = network.dtype
        grid = network.input_grid
        assert grid is not None
        params = GridParams.prepared(grid, dtype)
        levels = weight_levels(network.layers[0]).astype(np.int64)  # (n_hidden, n_features)
        first = self._plan.layers[0]

        numeric_index = np.array([f.feature for f in folded.numeric], dtype=np.int64)
        self._numeric_grid = params.select(numeric_index)
        self._numeric_weights = np.ascontiguousarray(levels[:, numeric_index].T, dtype=first.weights.dtype)
        self._bias = first.bias.astype(np.int64)
        # Numeric features sharing their operations' kinds run as one block.
        blocks: dict = {}
        for position, feature in enumerate(folded.numeric):
            blocks.setdefault(op_signature(feature.ops), []).append(position)
        self._blocks = [self._block(folded.numeric, positions) for positions in blocks.values()]
        # One table of accumulator rows per state source.
        tables = [np.zeros((s.n_states, levels.shape[0]), dtype=np.int64) for s in folded.sources]
        for feature in folded.state_features:
            f = feature.feature
            one = params.select(f)
            state_levels = one.levels(feature.values.astype(dtype)).astype(np.int64)
            tables[feature.source] += np.outer(state_levels, levels[:, f])
        self._tables = tables
        self._column_of = {c: i for i, c in enumerate(folded.numeric_columns)}
        self._category_of = {c: i for i, c in enumerate(folded.categorical_columns)}
        self._indexes: dict = {}  # pandas Index of each source's categories, per input dtype

    @staticmethod
    def _block(numeric: tuple, positions: list) -> tuple:
        """Positions, raw columns and operations (constants stacked per column) of one block."""
        features = [numeric[p] for p in positions]
        ops = []
        for k, (kind, *_) in enumerate(features[0].ops):
            constants = zip(*(f.ops[k][1:] for f in features))
            ops.append((kind, *(np.array(c, dtype=np.float64) for c in constants)))
        return np.array(positions), np.array([f.column for f in features]), tuple(ops)

    # ------------------------------------------------------------------
    # Structure
    # ------------------------------------------------------------------
    @property
    def columns(self) -> tuple:
        """The raw input columns (names, or positions for a pipeline fitted on an array)."""
        return self.folded.columns

    @property
    def numeric_columns(self) -> list:
        """The raw columns read as numbers, in input order (the C header's ``numeric`` array)."""
        return [self.columns[c] for c in self.folded.numeric_columns]

    @property
    def categorical_columns(self) -> list:
        """The raw columns read as categories, in input order (the C header's ``category`` array)."""
        return [self.columns[c] for c in self.folded.categorical_columns]

    def categories(self, column) -> list:
        """The categories of a categorical column, in the order of their indices."""
        position = self.columns.index(column)
        return list(self.folded.column_categories(position))

    @property
    def head(self):
        return self.network.head

    @property
    def classes_(self):
        return self.head.classes

    @property
    def logit_scale(self) -> float:
        return float(self.network.logit_scale)  # type: ignore[arg-type]

    @property
    def nbytes(self) -> int:
        """Bytes of what is deployed: the network without its state columns' first-layer weights, plus
        the accumulator tables (in their smallest integer type), the numeric operations' and bin edges'
        float64 constants, and the numeric features' input grids."""
        network, folded = self.network, self.folded
        first = network.layers[0]
        n_hidden, n_in = first.shape
        state_weights = first.weight_grid.bits * n_hidden * len(folded.state_features) // 8
        tables = sum(
            t.size * smallest_int_dtype(int(t.min(initial=0)), int(t.max(initial=0))).itemsize
            for t in self._tables
        )
        constants = 8 * sum(len(c) for f in folded.numeric for _, *c in f.ops)
        constants += 8 * sum(
            len(s.edges) + sum(len(c) for _, *c in s.front) for s in folded.sources if s.edges is not None
        )
        assert network.input_grid is not None, "an integer network has an input grid"
        grid_state = 8 * len(folded.state_features) if network.input_grid.per_feature else 0
        return network.nbytes() - state_weights - grid_state + tables + constants

    # ------------------------------------------------------------------
    # Raw columns
    # ------------------------------------------------------------------
    def _raw(self, X) -> tuple:
        """``(numeric float64 (n, n_numeric), categorical columns)`` of raw ``X`` (Series or arrays)."""
        import pandas as pd

        folded = self.folded
        if hasattr(X, "columns"):
            if folded.from_dataframe:
                absent = [c for c in folded.columns if c not in X.columns]
                if absent:
                    raise ValueError(f"X lacks the columns {absent}, which the pipeline was fitted on.")
                column = lambda c: X[folded.columns[c]]  # noqa: E731
            else:
                column = lambda c: X.iloc[:, c]  # noqa: E731
            width = X.shape[1] if not folded.from_dataframe else len(folded.columns)
        else:
            array = np.asarray(X)
            if array.ndim != 2:
                raise ValueError(f"X must be 2-dimensional (rows of raw columns), got shape {array.shape}.")
            column = lambda c: pd.Series(array[:, c])  # noqa: E731
            width = array.shape[1]
        if width != len(folded.columns):
            raise ValueError(f"X has {width} columns; the pipeline was fitted on {len(folded.columns)}.")
        n = len(X)
        if not hasattr(X, "columns") and array.dtype.kind in "fiub":
            # A numeric array: its columns as they are, without a pandas Series each.
            numeric = array[:, list(folded.numeric_columns)].astype(np.float64)
            self._refuse_infinity(numeric)
            return numeric, [column(c) for c in folded.categorical_columns]
        numeric = np.empty((n, len(folded.numeric_columns)), dtype=np.float64)
        for i, c in enumerate(folded.numeric_columns):
            try:
                numeric[:, i] = column(c).to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"Column {folded.columns[c]!r} must hold numbers (NaN for missing): {exc}"
                ) from None
        self._refuse_infinity(numeric)
        return numeric, [column(c) for c in folded.categorical_columns]

    def _refuse_infinity(self, numeric: np.ndarray) -> None:
        """Raise where scikit-learn's preprocessing does: infinity in a numeric column."""
        if np.isinf(numeric).any():
            folded = self.folded
            bad = folded.columns[
                folded.numeric_columns[int(np.flatnonzero(np.isinf(numeric).any(axis=0))[0])]
            ]
            raise ValueError(
                f"Input X contains infinity in column {bad!r}, which scikit-learn's preprocessing refuses; "
                "replace it (by NaN to impute it) before predicting."
            )

    def _category_index(self, source, values) -> np.ndarray:
        """Index of each value among ``source``'s categories (-1 if absent), by a hash lookup.

        Arrow-backed string columns (pandas' default string dtype) are looked
        up by pyarrow's ``index_in``; anything else by a pandas ``Index``.
        """
        import pandas as pd

        arrow = _arrow_strings(values)
        key = (id(source), "arrow" if arrow is not None else values.dtype)
        index = self._indexes.get(key)
        if index is None:
            if arrow is not None and all(isinstance(c, str) for c in source.categories):
                import pyarrow as pa

                index = pa.array(list(source.categories), type=pa.string())
            else:
                index = pd.Index(source.categories, dtype=object)
            self._indexes[key] = index
        if isinstance(index, pd.Index):
            return index.get_indexer(values.to_numpy(dtype=object) if arrow is not None else values.array)
        import pyarrow.compute as pc

        return pc.fill_null(pc.index_in(arrow, value_set=index), -1).to_numpy().astype(np.int64)

    def _states(self, numeric: np.ndarray, categorical: list) -> np.ndarray:
        """Category indices (``-1`` unknown, ``-2`` missing) or bins per source, int64 ``(n, n_sources)``."""
        folded = self.folded
        states = np.empty((len(numeric), len(folded.sources)), dtype=np.int64)
        for k, source in enumerate(folded.sources):
            if source.categories is None:
                values = apply_ops(numeric[:, self._column_of[source.column]].copy(), source.front)
                bins = np.searchsorted(source.edges, values, side="right")
                states[:, k] = np.where(np.isnan(values), MISSING, bins)
            else:
                values = categorical[self._category_of[source.column]]
                index = self._category_index(source, values)
                states[:, k] = np.where(values.isna().to_numpy(), MISSING, index)
        return states

    def quantize_input(self, X) -> tuple:
        """Raw rows to what the integer model reads: numeric input codes and category indices.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            Raw columns, as ``pipeline.predict`` takes them (NaN, None or
            ``pd.NA`` for missing).

        Returns
        -------
        codes : ndarray of shape (n_samples, n_numeric_features)
            Input codes of the numeric features (smallest integer dtype).
        states : ndarray of int64, shape (n_samples, n_sources)
            Per categorical column, the index among its categories
            (``-1``: not among them, ``-2``: missing); per
            ``KBinsDiscretizer`` column, the bin.

        Raises
        ------
        ValueError
            Where ``pipeline.predict`` raises: infinity, NaN that nothing
            imputes, a category an encoder with ``handle_unknown="error"``
            did not see.
        """
        numeric, categorical = self._raw(X)
        states = self._states(numeric, categorical)
        self._check_states(states)
        codes = self._numeric_codes(numeric)
        return codes.astype(smallest_int_dtype(self._numeric_grid.qmin, self._numeric_grid.qmax)), states

    def _numeric_values(self, numeric: np.ndarray) -> np.ndarray:
        """The numeric features as the network receives them, in its float type."""
        folded = self.folded
        out = np.empty((len(numeric), len(folded.numeric)), dtype=self.network.dtype)
        for positions, columns, ops in self._blocks:
            values = apply_ops(numeric[:, [self._column_of[c] for c in columns]], ops)
            if np.isnan(values).any():
                bad = folded.columns[columns[int(np.flatnonzero(np.isnan(values).any(axis=0))[0])]]
                raise ValueError(
                    f"Input X contains NaN in column {bad!r}, which no imputer fills; the pipeline's "
                    "network refuses it. Add a SimpleImputer for it, or drop those rows."
                )
            with np.errstate(over="ignore"):  # beyond float32: +-inf, then the grid's end, as predict
                out[:, positions] = values
        return out

    def _numeric_codes(self, numeric: np.ndarray) -> np.ndarray:
        grid = self._numeric_grid
        values = self._numeric_values(numeric)
        return grid.levels(values, out=values) + (0 if grid.zero is None else grid.zero)

    def _check_states(self, states: np.ndarray) -> None:
        for k, source in enumerate(self.folded.sources):
            rows = source.state_index(states[:, k])
            if source.errors[rows].any():
                value = (
                    "a missing value"
                    if (states[:, k][source.errors[rows]] == MISSING).any()
                    else ("a category it did not see at fit")
                )
                raise ValueError(
                    f"Column {self.columns[source.column]!r} holds {value}, which step {source.step!r} "
                    "refuses (as pipeline.predict does)."
                )

    # ------------------------------------------------------------------
    # Integer logits
    # ------------------------------------------------------------------
    def integer_logits(self, codes, states) -> np.ndarray:
        """int32 logits from numeric input codes and states (:meth:`quantize_input`), integers only."""
        codes = np.asarray(codes)
        states = np.asarray(states, dtype=np.int64)
        grid = self._numeric_grid
        if codes.ndim != 2 or codes.shape[1] != len(self.folded.numeric) or codes.dtype.kind not in "iu":
            raise ValueError(f"codes must be integers of shape (n_samples, {len(self.folded.numeric)}).")
        if states.shape != (len(codes), len(self.folded.sources)):
            raise ValueError(f"states must have shape ({len(codes)}, {len(self.folded.sources)}).")
        off = off_window(codes, grid.window)
        if off is not None:
            raise ValueError(
                f"numeric code {off[1]} of numeric input {off[0]} is not one of its learned width's codes "
                "(low + step * k, k in [0, levels - 1]); get the codes from quantize_input(X)."
            )
        levels = codes.astype(np.int64) - (0 if grid.zero is None else grid.zero.astype(np.int64))
        return self._logits(levels, states)

    def _logits(self, levels: np.ndarray, states: np.ndarray) -> np.ndarray:
        acc = levels.astype(self._numeric_weights.dtype, copy=False) @ self._numeric_weights
        acc = acc.astype(np.int64) if acc.dtype != np.int64 else acc
        acc += self._bias
        for k, (source, table) in enumerate(zip(self.folded.sources, self._tables)):
            acc += table[source.state_index(states[:, k])]
        return self._plan.logits_from_accumulator(acc)

    def _logits_of(self, X) -> np.ndarray:
        numeric, categorical = self._raw(X)
        states = self._states(numeric, categorical)
        self._check_states(states)
        values = self._numeric_values(numeric)
        return self._logits(self._numeric_grid.levels(values, out=values), states)

    def predict(self, X) -> np.ndarray:
        """What ``pipeline.predict`` returns, from the integer logits (labels, or regression values)."""
        logits = self._logits_of(X)
        if self.head.is_classifier:
            return self.head.labels(logits, logits=True)
        return self.head.values(self.head.outputs(logits * self.logit_scale).astype(self.network.dtype))

    def predict_proba(self, X) -> np.ndarray:
        """What ``pipeline.predict_proba`` returns (classifiers only)."""
        if not self.head.is_classifier:
            raise AttributeError("predict_proba is only available for classifiers.")
        outputs = self.head.outputs(self._logits_of(X) * self.logit_scale).astype(self.network.dtype)
        return self.head.proba(outputs)

    # ------------------------------------------------------------------
    # Targets and persistence
    # ------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to ``path`` (``.npz``: the network as ``IntegerMLP.save`` writes it, and the
        folded stage as JSON in ``fold``)."""
        extra = {"fold": np.array(folded_to_json(self.folded))}
        with open(path, "wb") as f:
            np.savez_compressed(f, **network_arrays(self.network, self.requantize, extra))

    @classmethod
    def load(cls, path) -> IntegerPipeline:
        """Read a model written by :meth:`save` (numpy and pandas only)."""
        network, requantize, extra = read_network(path, extra=("fold",))
        if requantize not in REQUANTIZE_MODES:
            raise ValueError(f"{path} is not a valid skqat model: meta 'requantize' is {requantize!r}.")
        try:
            folded = folded_from_json(str(extra["fold"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a valid skqat pipeline file: field 'fold' ({exc}).") from None
        return cls(network, folded, requantize=requantize)

    def to_c(self, path, name: str = "skqat_model") -> Path:
        """Write a C99 header computing :meth:`integer_logits` from raw values.

        See :mod:`skqat.export._c_pipeline` for the functions and macros.
        """
        from ._c_pipeline import write_pipeline_header

        return write_pipeline_header(self, path, name)

    def __repr__(self) -> str:
        return (
            f"IntegerPipeline(columns={len(self.columns)}, numeric={len(self.numeric_columns)}, "
            f"categorical={len(self.categorical_columns)}, sources={len(self.folded.sources)}, "
            f"nbytes={self.nbytes})"
        )


def _arrow_strings(values):
    """A pandas column's pyarrow string array when it is stored as one, else None."""
    dtype = values.dtype
    if getattr(dtype, "storage", None) != "pyarrow" or getattr(dtype, "kind", None) not in ("O", "U", "T"):
        return None
    import pyarrow as pa

    array = pa.array(values.array)
    return array if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) else None


__all__ += ["UNKNOWN", "MISSING"]
