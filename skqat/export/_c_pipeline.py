"""C export of a folded pipeline: one self-contained C99 header, from raw columns (numpy only).

:meth:`IntegerPipeline.to_c <skqat.IntegerPipeline.to_c>` calls
:func:`write_pipeline_header`. The header computes exactly what
``model.integer_logits(*model.quantize_input(X))`` computes (with
``requantize="fixed_point"``): the same numeric input codes, the same states
and the same int32 logits, bit for bit, from the raw values of a row. It is
:mod:`skqat.export._c`'s header for the network with a different input
stage; what the two share (layers, fixed-point helpers, input rounding,
predict functions, macros) is written by the same code.

API
---
A row comes as its raw columns, in the pipeline's input order, split in two
arrays:

- ``numeric``: the ``NAME_N_NUMERIC`` columns read as numbers
  (``model.numeric_columns``), as ``float``, NaN for missing;
- ``category``: per categorical column (``model.categorical_columns``,
  ``NAME_N_CATEGORICAL`` of them), the index of its value among that
  column's categories (``model.categories(column)``, and the macro
  ``NAME_CATEGORIES_<j>``, the categories as C strings, numbers written as
  ``str()`` writes them), ``-1`` for a value not among them and ``-2`` for
  a missing value.

A pipeline without categorical columns keeps :mod:`skqat.export._c`'s
signatures, ``x`` holding its numeric columns::

    void NAME_quantize_input(const float *x, NAME_code_t *codes);      /* NAME_N_NUMERIC_FEATURES > 0 */
    void NAME_states(const float *x, int32_t *states);                 /* NAME_N_STATES > 0 (bins) */
    void NAME_logits_from_codes(const NAME_code_t *codes, const int32_t *states, int32_t *out);
    void NAME_logits(const float *x, int32_t *out);
    int  NAME_predict(const float *x);              /* classifier: class index */
    int  NAME_predict(const float *x, int *labels); /* multilabel: 0/1 per label, returns the count */
    void NAME_predict(const float *x, float *out);  /* regressor */

(``NAME_logits_from_codes`` takes no ``states`` where there are none.) With
categorical columns, ``const float *numeric, const int32_t *category``
replaces ``const float *x`` in ``NAME_states``, ``NAME_logits`` and
``NAME_predict``; ``numeric`` may be a null pointer where ``NAME_N_NUMERIC``
is 0. ``codes`` are :meth:`~skqat.export.IntegerPipeline.quantize_input`'s
codes (one per numeric network input, in ``model.folded.numeric``'s order)
and ``states`` its states (one per state column, ``model.folded.sources``).

The first layer's accumulator is the numeric inputs' levels ``code - zp``
times their weight levels (bit-packed, as the network header stores them),
plus the bias, plus one row per state column of a stored table
(``static const``, ``(n_states, n_hidden)``, in the smallest integer type
holding it: ``model._tables``). Row ``s`` of a column of ``n`` categories
(or bins) is category ``s``; row ``n`` a value not among them (``-1``, or
any index out of range), row ``n + 1`` a missing value (``-2``). From the
first accumulator on it is the network header's code.

Floating point
--------------
Each numeric value is converted to ``double`` (exact) and goes through the
pipeline's operations in ``double``, as scikit-learn computes them in
float64: the imputer's fill (NaN tested as ``v != v``, a numeric missing
marker as ``v == missing``), then the scalers' subtractions, divisions,
multiplications, additions and clips, in order, each rounded once. The
constants are exact hexadecimal literals. Each product is stored through a
``volatile`` so that no compiler fuses it with the next addition into one
fused multiply-add (MinMaxScaler's ``x * scale + min``). The value is then
converted to the network's float type: to ``float`` for a float32 network
(the usual case), after clamping it to ``+-FLT_MAX`` (converting a larger
double is undefined in C; numpy gives ``+-inf`` there, and both quantize to
the end code, which the writer checks). Then it is quantized on its input
grid exactly as the network header does (``volatile`` product, clamp, the
rounding trick). A NaN left after the operations (a column no imputer
fills), which the Python model refuses, takes the zero point's code, as in
the network header. A ``KBinsDiscretizer`` column runs its own operations
(an imputer before it) the same way, then counts the bin edges ``<=`` the
value (``searchsorted(side="right")``); NaN gives the missing state.

The header needs an IEEE 754 64-bit ``double`` (it does not compile
otherwise; avr-gcc needs ``-mdouble=64``), ``FLT_EVAL_METHOD`` 0 (no x87
excess precision: x86-64 and ARM are fine), and no ``-ffast-math``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ._c import _Writer, check_model, save_header
from ._c_interface import _KIND_TEXT
from ._c_text import _c_identifier, _c_string, _comment, _ctype, _offset

__all__ = ["pipeline_header_source", "write_pipeline_header"]

#: What each constant of an operation is, for its table's name.
_ROLES = {"fill": ("missing", "fill"), "clip": ("low", "high")}

#: The largest float, as a double literal: the float32 conversion's clamp.
_FLT_MAX = "0x1.fffffep+127"


def _double(value) -> str:
    """An exact C literal of a finite float64 ``value``."""
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(
            f"The C header writes the pipeline's constants as finite double literals; this pipeline has "
            f"{value!r} among its scalers' or bins' constants."
        )
    return value.hex()


def _same_bits(values: np.ndarray) -> bool:
    """Every float64 of ``values`` is the same, sign of zero included."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    return bits.size == 0 or bool(np.all(bits == bits[0]))


class _PipelineWriter(_Writer):
    """The network header's writer with the pipeline's input stage (module docstring)."""

    reference = "IntegerPipeline"

    def __init__(self, model, name: str):
        super().__init__(model, name)
        folded = model.folded
        grid = self.net.input_grid
        self.folded = folded
        self.numeric_index = [f.feature for f in folded.numeric]
        # The numeric features' grid, as the numpy model quantizes them (1/s already in the float type).
        self.input_inverse = np.asarray(model._numeric_grid.inverse)
        zeros = np.asarray(grid.zero_point)
        self.input_zero_points = zeros[self.numeric_index] if grid.per_feature else zeros
        if self.input_window is not None and self.input_feature_bits is not None:
            self.input_window = tuple(w[self.numeric_index] for w in self.input_window)
            self.input_feature_bits = self.input_feature_bits[self.numeric_index]
        self.n_codes = len(folded.numeric)
        self.n_states = len(folded.sources)
        self.n_categorical = len(folded.categorical_columns)
        if self.n_categorical:
            self.raw, self.params, self.args = (
                "numeric",
                "const float *numeric, const int32_t *category",
                "numeric, category",
            )
        else:
            self.raw, self.params, self.args = "x", "const float *x", "x"

    # -- checks ----------------------------------------------------------
    def check(self) -> None:
        """Refuse what the header cannot compute as the numpy model does."""
        grid = self.net.input_grid
        if grid.binary:  # pragma: no cover - IntegerPipeline itself needs a grid of 2 bits or more
            raise ValueError("The pipeline header quantizes numeric inputs on a grid of 2 bits or more.")
        for source in self.folded.sources:
            if source.edges is not None and (
                not np.all(np.isfinite(source.edges)) or np.any(np.diff(source.edges) < 0)
            ):
                raise ValueError(
                    f"Step {source.step!r} has bin edges the header cannot count (not finite, or not sorted)."
                )
        if self.n_codes and self.dtype == np.float32:
            # The C clamps a double beyond float32 to +-FLT_MAX, where numpy's astype gives +-inf.
            big = np.float32(np.finfo(np.float32).max)
            model = self.model
            values = np.array([[big], [-big], [np.inf], [-np.inf]], dtype=np.float32)
            with np.errstate(over="ignore"):
                levels = model._numeric_grid.levels(np.repeat(values, self.n_codes, axis=1))
            if not (np.array_equal(levels[0], levels[2]) and np.array_equal(levels[1], levels[3])):
                raise ValueError(
                    "An input scale of this network is so large that +-FLT_MAX does not quantize to the end "
                    "code; the C header cannot clamp float32 conversions as numpy's overflow does."
                )

    # -- tables -------------------------------------------------------------
    def double_table(self, table: str, values) -> str:
        """A ``static const double`` table of exact literals."""
        values = np.asarray(values, dtype=np.float64).ravel()
        body = textwrap.fill(
            ", ".join(_double(v) for v in values), 100, initial_indent="    ", subsequent_indent="    "
        )
        self.tables.append(f"static const double {table}[{values.size}] = {{\n{body}\n}};\n")
        self.table_bytes += values.nbytes
        return table

    def index(self, table: str, values, var: str = "j") -> str:
        """``values[var]`` in C: ``var`` plus an offset where they count up by one, else a table."""
        values = np.asarray(values, dtype=np.int64)
        if np.array_equal(values, values[0] + np.arange(len(values))):
            return f"{var}{_offset(int(values[0]))}"
        self.add_table(_ctype(0, values.max()), table, values)
        return f"{table}[{var}]"

    # -- numeric operations ---------------------------------------------
    def op_lines(self, ops: tuple, constant) -> list[str]:
        """C lines running ``ops`` on ``v`` (double); ``constant(k, role, values)`` writes the operands."""
        lines = []
        for k, (kind, *values) in enumerate(ops):
            operands = dict(zip(_ROLES.get(kind, (kind,)), values))
            if kind == "fill":
                if np.isnan(operands["missing"]).all():
                    test = "v != v"
                else:
                    test = f"v == {constant(k, 'missing', operands['missing'])}"
                lines += [f"if ({test}) {{", f"    v = {constant(k, 'fill', operands['fill'])};", "}"]
            elif kind == "mul":
                # Stored through a volatile: no fused multiply-add with a following addition.
                lines += [f"product = v * {constant(k, kind, values[0])};", "v = product;"]
            elif kind == "clip":
                low, high = constant(k, "low", operands["low"]), constant(k, "high", operands["high"])
                # np.clip: the maximum with low, then the minimum with high; NaN stays NaN.
                lines += [f"v = (v < {low}) ? {low} : v;", f"v = (v > {high}) ? {high} : v;"]
            else:
                sign = {"sub": "-", "div": "/", "add": "+"}[kind]
                lines.append(f"v = v {sign} {constant(k, kind, values[0])};")
        return lines

    def read_lines(self, column: str, ops: tuple, constant) -> list[str]:
        """Declarations and statements leaving in ``v`` a raw numeric column through ``ops``."""
        lines = [f"double v = (double){self.raw}[{column}];"]
        if any(kind == "mul" for kind, *_ in ops):
            lines.append("volatile double product;")
        return lines + self.op_lines(ops, constant)

    # -- functions -----------------------------------------------------------
    def quantize_value_function(self) -> str:
        name, real = self.name, "float" if self.dtype == np.float32 else "double"
        if self.dtype == np.float32:
            big = _FLT_MAX
            head = [
                "/* To float as numpy's astype(float32) rounds it, clamped to +-FLT_MAX first: converting",
                "   a larger double is undefined in C (numpy gives +-inf; both quantize to the end code).",
                "   NaN stays NaN. */",
                f"const float x = (float)(v > {big} ? {big} : (v < -{big} ? -{big} : v));",
            ]
            value = "x"
        else:
            head, value = [], "v"
        body = head + self.quantize_statements(value)
        if not any("[i]" in line for line in body):
            body.append("(void)i;")
        return (
            f"/* Input code of numeric feature i from its value after the pipeline's operations (computed\n"
            f"   in {real}; NaN: the zero point's code). */\n"
            f"static inline {name}_code_t {name}_quantize_value(double v, uint32_t i)\n"
            "{\n" + "".join(f"    {line}\n" for line in body) + f"    return ({name}_code_t)(int32_t)u;\n}}\n"
        )

    def quantize_input_function(self) -> str:
        name, model = self.name, self.model
        loops = []
        for b, (positions, columns, ops) in enumerate(model._blocks):
            prefix, n = f"{name}_b{b}", len(positions)

            def constant(k, role, values, prefix=prefix, n=n):
                values = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
                if _same_bits(values):
                    return _double(values[0])
                return f"{self.double_table(f'{prefix}_op{k}_{role}', values)}[j]"

            raw = [model._column_of[c] for c in columns]
            column = self.index(f"{prefix}_column", raw)
            position = self.index(f"{prefix}_feature", positions)
            kinds = ", ".join(kind for kind, *_ in ops) or "no operation"
            listed = ", ".join(_comment(self.model.columns[c]) for c in columns)
            body = self.read_lines(column, ops, constant) + [
                f"codes[{position}] = {name}_quantize_value(v, {position});"
            ]
            loops.append(
                f"    /* {kinds}: {textwrap.shorten(listed, 80, placeholder=' ...')} */\n"
                f"    for (j = 0; j < {len(positions)}u; ++j) {{\n"
                + "".join(f"        {line}\n" for line in body)
                + "    }\n"
            )
        return (
            f"/* Input codes of the {self.n_codes} numeric network inputs, from the numeric columns. */\n"
            f"static inline void {name}_quantize_input(const float *{self.raw}, {name}_code_t *codes)\n"
            "{\n    uint32_t j;\n" + "".join(loops) + "}\n"
        )

    def states_function(self) -> str:
        name, model, folded = self.name, self.model, self.folded
        category = {c: j for j, c in enumerate(folded.categorical_columns)}
        lines = []
        for k, source in enumerate(folded.sources):
            column = _comment(model.columns[source.column])
            if source.categories is not None:
                lines.append(f"    states[{k}] = category[{category[source.column]}]; /* {column} */\n")
                continue
            literal = lambda k, role, value: _double(value)  # noqa: E731 - one column: constants inline
            body = self.read_lines(str(model._column_of[source.column]), source.front, literal)
            if len(source.edges):
                edges = self.double_table(f"{name}_s{k}_edges", source.edges)
                bin_ = f"{name}_bin({edges}, {len(source.edges)}u, v)"
            else:
                bin_ = "0"
            body.append(f"states[{k}] = (v != v) ? -2 : {bin_};")
            lines.append(
                f"    {{ /* {column}: bins */\n" + "".join(f"        {line}\n" for line in body) + "    }\n"
            )
        unused = "" if self.n_bins or not self.n_categorical else "    (void)numeric;\n"
        return (
            "/* The state of each state column: a category index as given (-1 not among the categories,\n"
            "   -2 missing), or a bin (-2 missing). */\n"
            f"static inline void {name}_states({self.params}, int32_t *states)\n"
            "{\n" + unused + "".join(lines) + "}\n"
        )

    @property
    def n_bins(self) -> int:
        return sum(source.categories is None for source in self.folded.sources)

    def state_helpers(self) -> str:
        name = self.name
        parts = [
            "/* Table row of a state among n categories (or bins): the state itself, then n for -1 (or any\n"
            "   other value out of range), n + 1 for -2 (missing). */\n"
            f"static inline uint32_t {name}_row(int32_t state, int32_t n)\n"
            "{\n"
            "    if (state >= 0 && state < n) {\n"
            "        return (uint32_t)state;\n"
            "    }\n"
            "    return (uint32_t)(state == -2 ? n + 1 : n);\n"
            "}\n"
        ]
        if self.n_bins:
            parts.append(
                "/* Bin of v: the number of edges <= v (sorted edges: KBinsDiscretizer's\n"
                '   searchsorted(side="right")). */\n'
                f"static inline int32_t {name}_bin(const double *edges, uint32_t n, double v)\n"
                "{\n"
                "    uint32_t k;\n"
                "    int32_t bin = 0;\n"
                "    for (k = 0; k < n; ++k) {\n"
                "        bin += edges[k] <= v;\n"
                "    }\n"
                "    return bin;\n"
                "}\n"
            )
        return "\n".join(parts)

    def layers(self) -> None:
        """The layer functions; the first reads the numeric codes and adds the state tables' rows."""
        model = self.model
        gathers = []
        for k, table in enumerate(model._tables):
            ctype = _ctype(table.min(initial=0), table.max(initial=0))
            gathers.append(self.add_table(ctype, f"{self.name}_s{k}_table", table))
        self.layer(0, columns=self.numeric_index, gathers=tuple(gathers))
        for i in range(1, len(self.net.layers)):
            self.layer(i)

    def api(self) -> str:
        name, macro = self.name, self.macro
        n_out = self.net.layers[0].shape[0]
        first = ", ".join((["codes"] if self.n_codes else []) + (["rows"] if self.n_states else []))
        decl, calls = self.layer_calls(first)
        if self.n_states:
            values = [s.n_values for s in self.folded.sources]
            table = self.add_table(_ctype(0, max(values)), f"{name}_state_values", values)
            decl = f"    uint32_t rows[{macro}_N_STATES];\n    uint32_t k;\n" + decl
            calls = (
                f"    for (k = 0; k < {macro}_N_STATES; ++k) {{\n"
                f"        rows[k] = {name}_row(states[k], {table}[k]) * {n_out}u;\n"
                "    }\n" + ("" if self.n_codes else "    (void)codes;\n") + calls
            )
        states_param = "const int32_t *states, " if self.n_states else ""
        codes = "codes" if self.n_codes else f"(const {name}_code_t *)0"
        body = ["    " + f"{name}_code_t codes[{macro}_N_NUMERIC_FEATURES];\n"] if self.n_codes else []
        body += [f"    int32_t states[{macro}_N_STATES];\n"] if self.n_states else []
        body += [f"    {name}_quantize_input({self.raw}, codes);\n"] if self.n_codes else []
        body += [f"    {name}_states({self.args}, states);\n"] if self.n_states else []
        body += [f"    {name}_logits_from_codes({codes}, {'states, ' if self.n_states else ''}out);\n"]
        parts = [
            "/* int32 logits from the numeric inputs' codes (each in [NAME_INPUT_QMIN, NAME_INPUT_QMAX])\n"
            "   and the states; integer arithmetic only. */\n".replace("NAME", macro)
            + f"static inline void {name}_logits_from_codes(const {name}_code_t *codes, "
            f"{states_param}int32_t *out)\n"
            "{\n" + decl + calls + "}\n",
            f"/* int32 logits of one row of raw columns; one unit is {macro}_LOGIT_SCALE. */\n"
            f"static inline void {name}_logits({self.params}, int32_t *out)\n"
            "{\n" + "".join(body) + "}\n",
            self.predict_function(self.params, self.args),
        ]
        return "\n".join(parts)

    # -- text ------------------------------------------------------------------
    def input_macros(self) -> list[str]:
        macro, model, folded = self.macro, self.model, self.folded
        lines = [
            f"#define {macro}_N_NUMERIC {len(folded.numeric_columns)}",
            f"#define {macro}_N_CATEGORICAL {self.n_categorical}",
            f"#define {macro}_N_NUMERIC_FEATURES {self.n_codes}",
            f"#define {macro}_N_STATES {self.n_states}",
        ]
        refused: dict = {}
        for source in folded.sources:
            n = source.n_values
            what = [w for w, bad in zip(("not among them", "missing"), source.errors[n:]) if bad]
            if source.categories is not None and what:
                refused.setdefault(source.column, set()).update(what)
        unfilled = {
            f.column for f in folded.numeric if not any(k == "fill" and np.isnan(c[0]) for k, *c in f.ops)
        }
        unfilled |= {s.column for s in folded.sources if s.errors[-1] and s.categories is None}
        listing = []
        if folded.numeric_columns:
            listing.append(f"Numeric columns, {self.raw}[i] (NaN for missing):")
        listing += [
            f"{i:>4} {_comment(model.columns[c])}"
            + (" (NaN refused by the pipeline)" if c in unfilled else "")
            for i, c in enumerate(folded.numeric_columns)
        ]
        if self.n_categorical:
            listing.append(
                f"Categorical columns, category[j]: an index into {macro}_CATEGORIES_j, -1 for a value not\n"
                "   among them, -2 for missing:"
            )
        for j, c in enumerate(folded.categorical_columns):
            note = f"; refused by the pipeline: {' and '.join(sorted(refused[c]))}" if c in refused else ""
            count = len(folded.column_categories(c))
            listing.append(f"{j:>4} {_comment(model.columns[c])} ({count} categories{note})")
        listing = ["/* " + listing[0], *(f"   {line}" for line in listing[1:])]
        listing[-1] += " */"
        lines.append("\n".join(listing))
        for j, c in enumerate(folded.categorical_columns):
            items = ", ".join(_c_string(str(v)) for v in folded.column_categories(c))
            wrapped = textwrap.wrap(f"{{{items}}}", 96, break_long_words=False, break_on_hyphens=False)
            lines.append(f"#define {macro}_CATEGORIES_{j} " + " \\\n    ".join(wrapped))
        return lines

    def banner(self) -> str:
        net, model, macro, name, folded = self.net, self.model, self.macro, self.name, self.folded
        real = "float" if self.dtype == np.float32 else "double"
        steps = textwrap.fill(
            "; ".join(_comment(s) for s in folded.steps) or "none",
            96,
            initial_indent="   ",
            subsequent_indent="   ",
        )
        api = []
        if self.n_codes:
            api.append(f"void {name}_quantize_input(const float *{self.raw}, {name}_code_t *codes);")
        if self.n_states:
            api.append(f"void {name}_states({self.params}, int32_t *states);")
        states = "const int32_t *states, " if self.n_states else ""
        api += [
            f"void {name}_logits_from_codes(const {name}_code_t *codes, {states}int32_t *out);",
            f"void {name}_logits({self.params}, int32_t *out); -- {macro}_N_OUTPUTS int32 logits",
            self.predict_line(self.params),
        ]
        if self.n_categorical:
            arrays = (
                f" numeric holds the {macro}_N_NUMERIC numeric columns (NaN for missing); category the\n"
                f" {macro}_N_CATEGORICAL categorical columns' indices into {macro}_CATEGORIES_j\n"
                " (-1: a value not among them, -2: missing). Columns are listed with the macros.\n"
            )
        else:
            arrays = (
                f" x holds the {macro}_N_NUMERIC numeric columns (NaN for missing), listed with the macros.\n"
            )
        convert = "rounded to float (clamped to +-FLT_MAX first) and " if self.dtype == np.float32 else ""
        return (
            f"/* {name}.h: a scikit-learn pipeline ending in a quantized MLP {_KIND_TEXT[model.head.kind]},\n"
            " generated by skqat (integer-only inference from raw columns).\n"
            "\n"
            " Folded steps:\n" + steps + "\n"
            f" Network: {net.n_features} inputs ({self.n_codes} numeric, {len(folded.state_features)} from "
            f"{self.n_states} state column(s) as stored\n"
            f" accumulator rows) -> {net.n_outputs} output(s); hidden activation {net.activation}.\n"
            f" Input grid: {self.grid_text()}.\n" + "\n".join(self.summary) + "\n"
            f" Tables: {self.table_bytes} bytes of static const data (flash).\n"
            "\n"
            " API (every function is static inline; call any of them):\n"
            + "".join(f"   {line}\n" for line in api)
            + arrays
            + f" Real logits are int32 logits * {macro}_LOGIT_SCALE.\n"
            "\n"
            ' Bit-identical to skqat\'s IntegerPipeline (requantize="fixed_point"): the codes and states\n'
            " equal model.quantize_input(X) on float values, the logits\n"
            " model.integer_logits(codes, states). Each numeric column goes through the pipeline's\n"
            " operations in double, as scikit-learn computes them in float64 (imputation, then\n"
            " subtractions, divisions, multiplications, additions and clips in order, constants as exact\n"
            " hexadecimal literals, each product stored through a volatile so no FMA fuses it), then\n"
            f" {convert}quantized in {real} as the network's inputs are.\n"
            " A NaN nothing imputes (the pipeline refuses it) quantizes to the zero point; a bin is the\n"
            " number of bin edges <= the value. Rows the pipeline refuses (see the column list) still give\n"
            " logits here: check them before calling. Everything after is integer arithmetic"
            + (" but the Poisson exp (libm: link with -lm)" if self.log_link else "")
            + ".\n"
            " No heap. Needs a 64-bit IEEE double (avr-gcc: -mdouble=64) and FLT_EVAL_METHOD 0; compile as\n"
            " C99 or later without -ffast-math (it may fold the rounding trick away). */\n"
        )

    def source(self) -> str:
        self.check()
        self.layers()
        inputs = [
            f"/* The pipeline's arithmetic needs binary64 doubles. */\n"
            f"typedef char {self.name}_double_is_64_bit[sizeof(double) == 8 ? 1 : -1];\n"
        ]
        if self.n_states:
            inputs.append(self.state_helpers())
            inputs.append(self.states_function())
        if self.n_codes:
            inputs.append(self.quantize_value_function())
            inputs.append(self.quantize_input_function())
        api = self.api()
        macros = self.macros(self.input_macros())
        note = ";\n   the numeric operations' constants, bin edges and the state columns' accumulator rows"
        return self.assemble(self.banner(), macros, "\n".join(inputs), api, note)


def pipeline_header_source(model, name: str = "skqat_model") -> str:
    """The text of the C99 header that :func:`write_pipeline_header` writes.

    Parameters
    ----------
    model : IntegerPipeline
        With ``requantize="fixed_point"``.
    name : str, default="skqat_model"
        Prefix of every function, type and table and, upper-cased, of every
        macro; a C identifier.

    Returns
    -------
    str
        The header, ASCII.

    Raises
    ------
    ValueError
        If ``name`` is not a C identifier, the model requantizes in float32,
        or the pipeline holds what the header cannot compute exactly (a
        non-finite constant, unsorted bin edges).
    """
    name = _c_identifier(name)
    check_model(model)
    return _PipelineWriter(model, name).source()


def write_pipeline_header(model, path, name: str = "skqat_model") -> Path:
    """Write a folded pipeline as one self-contained C99 header, from raw columns (module docstring).

    Parameters
    ----------
    model : IntegerPipeline
        With ``requantize="fixed_point"``.
    path : str or path-like
        File to write; an existing directory gets ``<name>.h``.
    name : str, default="skqat_model"
        Prefix of the header's identifiers; a C identifier.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        As :func:`pipeline_header_source`; nothing is written then.

    Examples
    --------
    >>> import tempfile, warnings
    >>> import numpy as np, pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler, OrdinalEncoder
    >>> from skqat import QuantizedMLPClassifier, export_integer
    >>> X = pd.DataFrame({"length": np.arange(40) / 4.0, "kind": ["a", "b", "c", "d"] * 10})
    >>> steps = make_column_transformer((MinMaxScaler(), ["length"]), (OrdinalEncoder(), ["kind"]))
    >>> net = QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=10, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     pipe = make_pipeline(steps, net).fit(X, np.arange(40) % 2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     text = export_integer(pipe).to_c(tmp, name="parts").read_text()
    >>> "int  parts_predict(const float *numeric, const int32_t *category)" in text
    True
    >>> '#define PARTS_CATEGORIES_0 {"a", "b", "c", "d"}' in text
    True
    """
    return save_header(pipeline_header_source(model, name), path, name)
