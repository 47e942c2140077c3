"""C export: one self-contained C99 header for microcontrollers (numpy only).

:meth:`IntegerMLP.to_c <skqat.export.IntegerMLP.to_c>` calls
:func:`write_c_header`. The header computes exactly what
:meth:`IntegerMLP.integer_logits` computes with ``requantize="fixed_point"``:
the same input codes and the same int32 logits, bit for bit. A folded
pipeline's header (:mod:`skqat.export._c_pipeline`) is written by a subclass
of the same writer, with the pipeline's input stage in front of the layers.

Header layout
-------------
1. A comment: the model (layers, bit widths, grids, accumulator widths), the
   bytes of its tables, the API and the floating-point notes below.
2. The include guard and ``<stdint.h>``, the only include (and ``<math.h>``
   for a Poisson regressor, whose ``NAME_predict`` calls ``exp``).
3. Macros, upper-case ``NAME``: ``NAME_N_FEATURES``, ``NAME_N_OUTPUTS``,
   ``NAME_N_CLASSES`` (classifiers), ``NAME_LOGIT_SCALE`` (float) and
   ``NAME_LOGIT_SCALE_DOUBLE``, the input grid (``NAME_INPUT_SCALE``,
   ``NAME_INPUT_ZERO_POINT``, ``NAME_INPUT_QMIN``, ``NAME_INPUT_QMAX``) and the
   class labels as initializer lists (``NAME_CLASS_NAMES``, strings, and
   ``NAME_CLASS_LABELS`` when every label is an integer).
4. ``typedef ... NAME_code_t``: the input code type, the smallest integer
   type of the input grid.
5. The tables, ``static const`` so they stay in flash: per layer the weight
   codes bit-packed at their width (``code - q_min`` in ``bits`` bits,
   LSB first, as :func:`~skqat.export._integer.pack_codes` stores them),
   the bias codes, the requantization multipliers and shifts (one constant
   when every output unit shares them) and the activation thresholds (tanh,
   logistic), each in the smallest integer type that holds it.
6. The functions, all ``static inline`` so a program may call any one of them
   and nothing unused is emitted or warned about: fixed-point helpers, one
   function per layer, then the API::

       void NAME_quantize_input(const float *x, NAME_code_t *codes);
       void NAME_logits_from_codes(const NAME_code_t *codes, int32_t *out);
       void NAME_logits(const float *x, int32_t *out);
       int  NAME_predict(const float *x);              /* classifier: class index */
       int  NAME_predict(const float *x, int *labels); /* multilabel: 0/1 per label, returns the count */
       void NAME_predict(const float *x, float *out);  /* regressor: logits * logit scale,
                                                          or exp of it for loss="poisson" */

No heap and no libm (but a Poisson regressor's ``exp``: link with ``-lm``):
scratch buffers live on the stack (the input codes and up to two buffers of
the widest hidden layer). The macros are plain ``int``
constants, so user loops with ``int`` counters compare without sign warnings.

Floating point
--------------
Input quantization is the only floating-point step, computed in ``double``
for a float64 model and ``float`` for a float32 one, so the codes equal the
numpy reference's bit for bit (``x`` is a ``float``: the reference is
``quantize_input(np.float32(X))``). ``1/s`` is a hexadecimal literal, exact.
The value is clamped to ``[q_min, q_max]`` first (``+-inf`` and ``+-1e30``
clamp; NaN, which the reference rejects, takes the zero point's code, as
``0.0`` would), then rounded half to even by adding and subtracting
``1.5 * 2**52`` (``1.5 * 2**23`` for float), exact for codes within ``+-2**51``
(``+-2**22`` for float).
With learned input widths (``input_bits="learned"``) the clamped ``u`` then
goes through its feature's window, :func:`skqat._frozen.window_codes`:
``k = (u - low) / step`` (a true division in the same type), clamped to
``[0, levels - 1]``, rounded by the same trick, and the code
``low + step * k``; ``low``, ``step`` and ``levels - 1`` are small integer
tables. A dropped feature (one level) stays a parameter, and its code is
``low`` whatever its value.
The product ``x * (1/s)`` goes through a ``volatile`` local: GNU C contracts
``x * (1/s) + zp`` into one fused multiply-add by default where the target
has one (Cortex-M4F/M7, x86 with ``-mfma``), which rounds once and moves
about 4% of near-half-way codes. The header must not be compiled with
``-ffast-math`` (which may fold the rounding trick away).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._activations import get_activation
from .._frozen import FrozenGrid
from .._integer_codes import accumulator_bits, output_bounds, pack_codes
from ._c_interface import InterfaceParts
from ._c_text import _c_identifier, _ctype, _float_literal, _int, _offset, _table, _uniform, _unpack_expr

__all__ = ["c_header_source", "write_c_header"]


class _Writer(InterfaceParts):
    """Builds the header text of one model."""

    def __init__(self, model, name: str):
        self.model = model
        self.net = model.network
        self.name = name
        self.macro = name.upper()
        self.dtype = np.dtype(self.net.dtype)
        self.grids = self.net.grids()
        self.n_hidden = len(self.net.layers) - 1
        self.table_bytes = 0
        self.tables: list[str] = []
        self.functions: list[str] = []
        self.summary: list[str] = []
        self.generic_unpack = False
        hidden_grids = self.grids[1:]
        self.act_type = None
        if hidden_grids:
            low = min(g.qmin for g in hidden_grids)
            high = max(g.qmax for g in hidden_grids)
            self.act_type = _ctype(low, high)
        self.buffer_width = max((layer.shape[0] for layer in self.net.layers[:-1]), default=0)
        # A Poisson regressor predicts exp of its real logits.
        self.log_link = self.net.out_activation == "exp"
        # The quantized inputs' 1/s (rounded once in the model's float type, as numpy's quantize_codes
        # computes it) and zero points: every feature here, the numeric features in a pipeline header.
        grid = self.net.input_grid
        self.input_inverse = np.reciprocal(np.asarray(grid.scale, self.dtype))
        self.input_zero_points = np.asarray(grid.zero_point)
        # Learned input widths: (low, step, levels) per feature, int64, or None.
        self.input_window: tuple | None = None
        self.input_feature_bits: np.ndarray | None = None
        if grid.window is not None:
            self.input_window = tuple(np.asarray(w, np.int64) for w in grid.window)
            self.input_feature_bits = grid.feature_bits

    # -- tables --------------------------------------------------------
    def add_table(self, ctype: str, table: str, values, **kwargs) -> str:
        values = np.asarray(values)
        self.tables.append(_table(ctype, table, values, **kwargs))
        self.table_bytes += values.size * np.dtype(ctype.replace("_t", "")).itemsize
        return table

    def per_unit(self, table: str, ctype: str, values, index: str = "o") -> str:
        """A constant when every output unit shares the value, else a table indexed by ``index``."""
        values = np.asarray(values).ravel()
        if _uniform(values):
            return _int(values[0]) if values.size else "0"
        self.add_table(ctype, table, values)
        return f"{table}[{index}]"

    def input_zero(self) -> str:
        """The per-feature input zero point of feature ``i``: a constant, or a table written once."""
        if not hasattr(self, "_input_zero"):
            zeros = self.input_zero_points
            ctype = _ctype(min(zeros.min(), 0), max(zeros.max(), 0))
            self._input_zero = self.per_unit(f"{self.name}_input_zero", ctype, zeros, "i")
        return self._input_zero

    # -- layers --------------------------------------------------------
    def layer(self, i: int, columns=None, gathers: tuple = ()) -> None:
        """Layer ``i``'s function; ``columns`` (first layer of a pipeline header) are the inputs it reads
        from ``x`` (None: all), and ``gathers`` the tables whose rows (offsets in ``rows``) it adds."""
        name = self.name
        layer = self.net.layers[i]
        grid_in = self.grids[i]
        wgrid = layer.weight_grid
        n_out, n_in = layer.shape
        last = i == self.n_hidden
        acc_bits = accumulator_bits(layer, grid_in)
        acc_t = f"int{acc_bits}_t"
        prefix = f"{name}_l{i}"
        weight_codes = layer.weight_codes if columns is None else layer.weight_codes[:, columns]
        n_read = weight_codes.shape[1]
        if n_read:
            weight = self.weight_expression(prefix, weight_codes, wgrid, n_out)
        # Summed term by term, every partial sum is bounded as the whole sum (accumulator_bits).
        adds = "".join(f"        acc += {table}[rows[{k}] + o];\n" for k, table in enumerate(gathers))

        bias = layer.bias_codes.astype(np.int64)
        self.add_table(_ctype(min(bias.min(), 0), max(bias.max(), 0)), f"{prefix}_bias", bias)

        requant = layer.requantization
        if requant is not None:
            shifts = np.asarray(requant.shift)
            mult = self.per_unit(f"{prefix}_multiplier", "int32_t", requant.fixed_multiplier)
            shift = self.per_unit(f"{prefix}_shift", _ctype(shifts.min(), shifts.max()), shifts)
        if not n_read:
            x_level = ""
        elif grid_in.per_feature:
            x_level = f"(int32_t)x[i] - (int32_t){self.input_zero()}"
        else:
            x_level = f"(int32_t)x[i]{_offset(-int(grid_in.zero_point))}"
        term = f"(int64_t)({x_level}) * w" if acc_bits == 64 else f"({x_level}) * w"

        in_t = f"{name}_code_t" if i == 0 else f"{name}_act_t"
        lines = []
        if last:
            out_decl, what = "int32_t *out", "the int32 logits"
            if requant is not None:
                lines.append(f"out[o] = {name}_sat32({name}_mulq(acc, {mult}, {shift}));")
            elif acc_bits == 64:
                lines.append(f"out[o] = {name}_sat32(acc);")
            else:
                lines.append("out[o] = acc;")
        else:
            grid_out = self.grids[i + 1]
            out_decl, what = f"{name}_act_t *out", "the next layer's codes"
            lines.append(f"const int64_t y = {name}_mulq(acc, {mult}, {shift});")
            if requant.thresholds is not None:
                table = self.add_table("int32_t", f"{prefix}_thresholds", requant.thresholds)
                count = f"{name}_count_le({table}, {len(requant.thresholds)}u, y)"
                lines.append(f"out[o] = ({name}_act_t)({count}{_offset(grid_out.qmin)});")
            else:
                low, high = output_bounds(self.net.activation, grid_out)
                value = f"y{_offset(int(grid_out.zero_point))}"
                lines.append(f"out[o] = ({name}_act_t){name}_clamp({value}, {_int(low)}, {_int(high)});")
        if len(lines) > 1:
            # A block, so y is declared at its start (C90-style declarations compile everywhere).
            lines = ["{", *(f"    {line}" for line in lines), "}"]
        store = "".join(f"        {line}\n" for line in lines)
        params = ([f"const {in_t} *x"] if n_read else []) + (["const uint32_t *rows"] if gathers else [])
        reads = (
            f"{n_in} -> {n_out}"
            if columns is None
            else f"{n_read} numeric inputs, {len(gathers)} tables -> {n_out}"
        )
        loop = (
            f"        for (i = 0; i < {n_read}u; ++i, ++k) {{\n"
            f"            const int32_t w = {weight};\n"
            f"            acc += {term};\n"
            "        }\n"
            if n_read
            else ""
        )
        self.functions.append(
            f"/* Layer {i}: {reads}, writes {what}. */\n"
            f"static inline void {prefix}({', '.join([*params, out_decl])})\n"
            "{\n"
            f"    uint32_t o{', i, k = 0' if n_read else ''};\n"
            f"    for (o = 0; o < {n_out}u; ++o) {{\n"
            f"        {acc_t} acc = {prefix}_bias[o];\n" + loop + adds + store + "    }\n"
            "}\n"
        )
        granularity = "per channel" if wgrid.per_channel else "per tensor"
        kind = "binary" if wgrid.binary else f"{wgrid.bits}-bit"
        zero = "symmetric" if wgrid.symmetric else "asymmetric"
        act = "logits" if last else self.net.activation
        if last and requant is not None:
            act += " (requantized to one logit scale)"
        self.summary.append(
            f"  layer {i}: {n_in:>5} -> {n_out:<5} {kind} weights, {granularity}, {zero}; "
            f"{acc_bits}-bit accumulator; {act}"
        )

    def weight_expression(self, prefix: str, weight_codes, wgrid, n_out: int) -> str:
        """Pack ``weight_codes`` ``(n_out, n_in)`` into a table; the C expression of weight level ``k``."""
        name = self.name
        packed = pack_codes(weight_codes, wgrid.bits, wgrid.qmin)
        if _unpack_expr(name, "", wgrid.bits, "k").startswith(f"{name}_unpack"):
            self.generic_unpack = True
            # The generic unpacker reads three bytes from the code's first byte.
            packed = np.concatenate([packed, np.zeros(2, np.uint8)])
        self.add_table("uint8_t", f"{prefix}_weights", packed, hexadecimal=True)
        code = _unpack_expr(name, f"{prefix}_weights", wgrid.bits, "k")
        zero_w = np.broadcast_to(np.asarray(wgrid.zero_point, np.int64), (n_out,))
        if wgrid.binary:
            # Binary codes are stored as (code > 0): level = 2 * bit - 1.
            weight = f"2 * (int32_t){code} - 1"
        else:
            offsets = wgrid.qmin - zero_w
            if _uniform(offsets):
                weight = f"(int32_t){code}{_offset(offsets[0])}"
            else:
                table = self.per_unit(
                    f"{prefix}_weight_offset", _ctype(offsets.min(), offsets.max()), offsets
                )
                weight = f"(int32_t){code} + {table}"
        return weight

    # -- whole header ----------------------------------------------------
    def input_function(self) -> str:
        name, macro, grid = self.name, self.macro, self.net.input_grid
        head = (
            "/* Input codes of one row of NAME_N_FEATURES features (the only floating-point step). */\n"
            f"static inline void {name}_quantize_input(const float *x, {name}_code_t *codes)\n"
            "{\n"
            "    uint32_t i;\n"
            f"    for (i = 0; i < {macro}_N_FEATURES; ++i) {{\n"
        ).replace("NAME", macro)
        if grid.binary:
            return head + "        codes[i] = (x[i] >= 0.0f) ? 1 : -1; /* NaN: -1 */\n    }\n}\n"
        cast = "" if self.dtype == np.float32 else "(double)"
        body = self.quantize_statements(f"{cast}x[i]")
        return (
            head
            + "".join(f"        {line}\n" for line in body)
            + (f"        codes[i] = ({name}_code_t)(int32_t)u;\n    }}\n}}\n")
        )

    def quantize_statements(self, value: str) -> list[str]:
        """C lines leaving in ``u`` the input code of ``value`` (of the model's float type), as a float.

        Per feature, the tables (written by this call, once per header) are indexed by ``i``.
        """
        name, grid = self.name, self.net.input_grid
        real, suffix, magic = (
            ("float", "f", "0x1.8p+23f") if self.dtype == np.float32 else ("double", "", "0x1.8p+52")
        )
        inverse = self.input_inverse
        low, high = (f"{v}.0{suffix}" for v in (grid.qmin, grid.qmax))
        if grid.per_feature:
            # One scale and zero point per feature: tables indexed by the feature.
            literals = ", ".join(_float_literal(float(v), self.dtype) for v in inverse)
            self.tables.append(
                f"static const {real} {name}_input_inverse[{inverse.size}] = {{\n    {literals}\n}};\n"
            )
            self.table_bytes += inverse.nbytes
            zeros = self.input_zero_points
            zero_table = self.input_zero()
            product = f"{value} * {name}_input_inverse[i]"
            zp = f"({real}){zero_table}"
            add_zero = f" + {zp}" if np.any(zeros) else ""
            at_qmin = bool(np.all(zeros == grid.qmin))
        else:
            product = f"{value} * {_float_literal(float(inverse), self.dtype)}"
            zero = int(grid.zero_point)
            zp = f"{zero}.0{suffix}"
            add_zero = f" + {zp}" if zero else ""
            at_qmin = zero == grid.qmin
        # NaN fails every comparison and lands in the second branch.
        below = f"u = {low};" if at_qmin else f"u = (u < {low}) ? {low} : {zp}; /* NaN: zero point */"
        lines = [
            "/* volatile: the product is rounded and stored on its own, so no compiler fuses",
            "   x * (1/s) + zp into one FMA (rounded once, it could move a half-way code). */",
            f"volatile {real} product = {product};",
            f"{real} u = product{add_zero};",
            "/* Clamp first (NaN becomes the zero point): then |u| is small enough for the",
            "   magic number to round it half to even, exactly. */",
            f"if (u > {high}) {{",
            f"    u = {high};",
            f"}} else if (!(u >= {low})) {{",
            f"    {below}",
            "}",
        ]
        if self.input_window is not None:
            return lines + self.window_statements(real, suffix, magic)
        return lines + [
            f"u = u + {magic}; /* two statements: each sum is rounded to {real} */",
            f"u = u - {magic};",
        ]

    def window_statements(self, real: str, suffix: str, magic: str) -> list[str]:
        """C lines turning ``u`` (clamped to the container) into feature ``i``'s learned-width code.

        :func:`skqat._frozen.window_codes`: ``k = clamp(round((u - low) / step), 0, levels - 1)``, the
        code ``low + step * k``. The container's clamp before it changes no ``k`` (the window lies
        within the container), and clamping ``k`` before rounding it gives the same integer as after
        (the bounds are integers), while keeping it small for the rounding trick.
        """
        name = self.name
        assert self.input_window is not None, "learned input widths"
        low, step, levels = self.input_window
        constants = []
        for role, values in (("low", low), ("step", step), ("top", levels - 1)):
            ctype = _ctype(min(values.min(), 0), max(values.max(), 0))
            constants.append(f"({real}){self.per_unit(f'{name}_input_{role}', ctype, values, 'i')}")
        first, stride, top = constants
        zero = f"0.0{suffix}"
        return [
            "/* Learned width: the code is low + step * k, k = round_half_even((u - low) / step)",
            "   clamped to [0, levels - 1] (a dropped feature has one level: its code is low). */",
            f"u = (u - {first}) / {stride};",
            f"if (u > {top}) {{",
            f"    u = {top};",
            f"}} else if (u < {zero}) {{",
            f"    u = {zero};",
            "}",
            f"u = u + {magic};",
            f"u = u - {magic};",
            f"u = {first} + {stride} * u; /* small integers: exact */",
        ]

    def assemble(self, banner: str, macros: str, inputs: str, api: str, tables_note: str = "") -> str:
        """The header: ``banner``, guard and includes, ``macros``, typedefs, the tables (``tables_note``
        added to their comment), helpers, layers, ``inputs`` (the input functions) and ``api``."""
        name, guard, grid = self.name, f"{self.macro}_H", self.net.input_grid
        typedefs = f"/* Input codes, in [{self.macro}_INPUT_QMIN, {self.macro}_INPUT_QMAX]. */\n"
        typedefs += f"typedef {_ctype(grid.qmin, grid.qmax)} {name}_code_t;\n"
        if self.act_type is not None:
            typedefs += f"/* Hidden-layer codes. */\ntypedef {self.act_type} {name}_act_t;\n"
        sections = [
            banner,
            f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n"
            + ("#include <math.h>\n" if self.log_link else ""),
            macros,
            typedefs,
            "/* Tables: weight codes packed LSB first at their bit width (code - qmin), bias codes on\n"
            f"   s_in * s_w, requantization multipliers and shifts, activation thresholds{tables_note}. */\n"
            + "\n".join(self.tables),
            self.helpers(),
            "\n".join(self.functions),
            inputs,
            api,
            f"#endif /* {guard} */\n",
        ]
        return "\n".join(sections)

    def helpers(self) -> str:
        name = self.name
        parts = [
            "/* Saturate to int32. */\n"
            f"static inline int32_t {name}_sat32(int64_t v)\n"
            "{\n"
            "    return (int32_t)(v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : v));\n"
            "}\n",
            "/* x * m0 * 2^(shift - 31), rounded as TFLite's MultiplyByQuantizedMultiplier (with a\n"
            "   saturating left shift); skqat._fixed_point restates it in numpy. */\n"
            f"static inline int64_t {name}_mulq(int64_t x, int32_t m0, int32_t shift)\n"
            "{\n"
            "    const int32_t left = shift > 0 ? shift : 0;\n"
            "    const int32_t right = shift > 0 ? 0 : -shift;\n"
            "    const int64_t mask = ((int64_t)1 << right) - 1;\n"
            "    int32_t xs;\n"
            "    int64_t product, high, rem, down;\n"
            "    /* Multiply rather than shift: a left shift of a negative value is undefined in C. */\n"
            "    if (x > (int64_t)(INT32_MAX >> left)) {\n"
            "        xs = INT32_MAX;\n"
            "    } else if (x < -((int64_t)1 << (31 - left))) {\n"
            "        xs = INT32_MIN;\n"
            "    } else {\n"
            "        xs = (int32_t)(x * ((int64_t)1 << left));\n"
            "    }\n"
            "    /* SaturatingRoundingDoublingHighMul: m0 > 0, so it never saturates. */\n"
            "    product = (int64_t)xs * m0;\n"
            "    high = (product + (product >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30)))\n"
            "           / ((int64_t)1 << 31); /* C division truncates toward zero */\n"
            "    /* RoundingDivideByPOT: floor shift written without right-shifting a negative value. */\n"
            "    rem = high & mask;\n"
            "    down = high >= 0 ? (high >> right) : -((-high - 1) >> right) - 1;\n"
            "    return down + ((rem > (mask >> 1) + (high < 0 ? 1 : 0)) ? 1 : 0);\n"
            "}\n",
        ]
        table = get_activation(self.net.activation).integer == "table"
        if self.act_type is not None and not table:
            parts.append(
                "/* Clamp to [low, high]. */\n"
                f"static inline int64_t {name}_clamp(int64_t v, int64_t low, int64_t high)\n"
                "{\n"
                "    return v < low ? low : (v > high ? high : v);\n"
                "}\n"
            )
        if self.act_type is not None and table:
            parts.append(
                "/* Count of thresholds <= y (sorted table; y clamped to (INT32_MIN, INT32_MAX) first, so\n"
                "   the table's INT32_MAX entries, steps never reached, are never counted). */\n"
                f"static inline int32_t {name}_count_le(const int32_t *t, uint32_t n, int64_t y)\n"
                "{\n"
                "    const int32_t v = (int32_t)(y < INT32_MIN + 1 ? INT32_MIN + 1 "
                ": (y > INT32_MAX - 1 ? INT32_MAX - 1 : y));\n"
                "    uint32_t lo = 0, hi = n;\n"
                "    while (lo < hi) {\n"
                "        const uint32_t mid = lo + (hi - lo) / 2u;\n"
                "        if (t[mid] <= v) {\n"
                "            lo = mid + 1u;\n"
                "        } else {\n"
                "            hi = mid;\n"
                "        }\n"
                "    }\n"
                "    return (int32_t)lo;\n"
                "}\n"
            )
        if self.generic_unpack:
            parts.append(
                "/* Code k of a table packed at `bits` bits, LSB first (tables end with 2 spare bytes). */\n"
                f"static inline uint32_t {name}_unpack(const uint8_t *p, uint32_t k, uint32_t bits)\n"
                "{\n"
                "    const uint32_t bit = k * bits;\n"
                "    const uint8_t *q = p + (bit >> 3);\n"
                "    const uint32_t word = (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16);\n"
                "    return (word >> (bit & 7u)) & (((uint32_t)1 << bits) - 1u);\n"
                "}\n"
            )
        return "\n".join(parts)


def c_header_source(model, name: str = "skqat_model") -> str:
    """The text of the C99 header that :func:`write_c_header` writes.

    Parameters
    ----------
    model : IntegerMLP
        With ``requantize="fixed_point"``.
    name : str, default="skqat_model"
        Prefix of every function, type and table (``name_predict``) and,
        upper-cased, of every macro (``NAME_N_FEATURES``); a C identifier.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``name`` is not a C identifier, or the model requantizes in float32.
    """
    name = _c_identifier(name)
    check_model(model)
    writer = _Writer(model, name)
    for i in range(len(model.network.layers)):
        writer.layer(i)
    # Before the tables are joined: a per-feature input grid adds its own.
    input_source = writer.input_function()
    return writer.assemble(writer.banner(), writer.macros(), input_source, writer.api())


def check_model(model) -> None:
    """Raise ValueError where the header cannot compute ``model`` (an IntegerMLP or IntegerPipeline)."""
    if model.requantize != "fixed_point":
        raise ValueError(
            f"This {type(model).__name__} requantizes with requantize={model.requantize!r}; the C header "
            "computes the fixed-point form (int32 multipliers and shifts). Export with "
            "export_integer(requantize='fixed_point') to write a C header that matches it."
        )
    dtype = np.dtype(model.network.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"The C header quantizes inputs in float32 or float64; this model's dtype is {dtype}."
        )
    grid: FrozenGrid = model.network.input_grid
    if dtype == np.float32 and max(abs(grid.qmin), abs(grid.qmax)) >= 2**22:
        raise ValueError("The float32 rounding trick needs input codes within +-2**22.")


def write_c_header(model, path, name: str = "skqat_model") -> Path:
    """Write ``model`` as one self-contained C99 header (see the module docstring for its layout).

    Parameters
    ----------
    model : IntegerMLP
        With ``requantize="fixed_point"`` (the header computes the fixed-point
        requantization, bit for bit).
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
        If ``name`` is not a C identifier, or ``model.requantize`` is
        ``"float32"``.

    Examples
    --------
    >>> import tempfile, warnings
    >>> from sklearn.datasets import load_iris
    >>> from skqat import QuantizedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clf = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=20,
    ...                                  random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     header = clf.export_integer().to_c(tmp, name="iris")
    ...     text = header.read_text()
    >>> header.name, "int iris_predict(const float *x)" in text
    ('iris.h', True)
    """
    return save_header(c_header_source(model, name), path, name)


def save_header(text: str, path, name: str) -> Path:
    """Write ``text`` to ``path`` (a directory: to ``<name>.h`` in it); the file written."""
    path = Path(path)
    if path.is_dir():
        path = path / f"{name}.h"
    path.write_text(text, encoding="ascii", newline="\n")
    return path
