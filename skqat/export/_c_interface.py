"""The C header's interface: the predict functions by head kind, the macros and the banner.

A mixin of :class:`skqat.export._c._Writer`: it reads the writer's model,
network, name and summary, and writes the parts of the header a user calls
and reads. The label rules follow the network's head (:mod:`skqat._head`).
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from ._c_text import _c_string, _comment, _int

__all__: list[str] = []  # private to skqat.export._c

#: The header banner's name of each head kind (:mod:`skqat._head`).
_KIND_TEXT = {
    "softmax": "multiclass classifier",
    "binary": "binary classifier",
    "multilabel": "multilabel classifier",
    "single_class": "single-class classifier",
    "identity": "regressor",
    "exp": "Poisson regressor",
}


class InterfaceParts:
    """``api``, ``macros`` and ``banner`` of the header (mixed into the writer)."""

    # Set by the writer's __init__.
    model: Any
    net: Any
    name: str
    macro: str
    dtype: np.dtype
    n_hidden: int
    buffer_width: int
    log_link: bool
    input_window: tuple | None
    input_feature_bits: np.ndarray | None
    summary: list[str]
    table_bytes: int
    #: The numpy model the header restates, for its comments.
    reference = "IntegerMLP"

    def layer_calls(self, first: str = "codes") -> tuple[str, str]:
        """The hidden-code buffers' declaration and the layer calls, the first layer reading ``first``."""
        name, n_layers = self.name, len(self.net.layers)
        calls = []
        buffers = ["a", "b"]
        source = first
        for i in range(n_layers):
            target = "out" if i == n_layers - 1 else buffers[i % 2]
            calls.append(f"    {name}_l{i}({source}, {target});\n")
            source = target
        decl = ""
        if self.n_hidden:
            names = ", ".join(f"{b}[{self.buffer_width}]" for b in buffers[: min(2, self.n_hidden)])
            decl = f"    {name}_act_t {names};\n"
        return decl, "".join(calls)

    def api(self) -> str:
        name, macro = self.name, self.macro
        decl, calls = self.layer_calls()
        parts = [
            "/* int32 logits of one row of input codes (each in [NAME_INPUT_QMIN, NAME_INPUT_QMAX]);\n"
            "   integer arithmetic only. */\n".replace("NAME", macro)
            + f"static inline void {name}_logits_from_codes(const {name}_code_t *codes, int32_t *out)\n"
            "{\n" + decl + calls + "}\n",
            f"/* int32 logits of one row of features; one unit is {macro}_LOGIT_SCALE. */\n"
            f"static inline void {name}_logits(const float *x, int32_t *out)\n"
            "{\n"
            f"    {name}_code_t codes[{macro}_N_FEATURES];\n"
            f"    {name}_quantize_input(x, codes);\n"
            f"    {name}_logits_from_codes(codes, out);\n"
            "}\n",
            self.predict_function(),
        ]
        return "\n".join(parts)

    def predict_function(self, params: str = "const float *x", args: str = "x") -> str:
        """``NAME_predict`` by head kind: the row comes as ``params``, goes to ``NAME_logits`` as ``args``."""
        name, macro, model = self.name, self.macro, self.model
        kind = model.head.kind
        if not model.head.is_classifier:
            value = f"(double)logits[o] * {float(model.logit_scale).hex()}"
            what = "logits * logit scale"
            if self.log_link:
                value, what = f"exp({value})", "exp(logits * logit scale), the Poisson mean,"
            text = (
                f"/* The {self.net.n_outputs} regression value(s) of one row: {what} computed in double\n"
                f"   and rounded once to float (float32 of {self.reference}.predict). */\n"
                f"static inline void {name}_predict({params}, float *out)\n"
                "{\n"
                f"    int32_t logits[{macro}_N_OUTPUTS];\n"
                "    uint32_t o;\n"
                f"    {name}_logits({args}, logits);\n"
                f"    for (o = 0; o < {macro}_N_OUTPUTS; ++o) {{\n"
                f"        out[o] = (float)({value});\n"
                "    }\n"
                "}\n"
            )
        elif kind == "multilabel":
            text = (
                "/* Multilabel: labels[j] = 1 where label j is predicted (logit > 0), else 0, for the\n"
                f"   {macro}_N_OUTPUTS labels; returns how many are predicted. */\n"
                f"static inline int {name}_predict({params}, int *labels)\n"
                "{\n"
                f"    int32_t logits[{macro}_N_OUTPUTS];\n"
                "    uint32_t o;\n"
                "    int count = 0;\n"
                f"    {name}_logits({args}, logits);\n"
                f"    for (o = 0; o < {macro}_N_OUTPUTS; ++o) {{\n"
                "        labels[o] = logits[o] > 0;\n"
                "        count += labels[o];\n"
                "    }\n"
                "    return count;\n"
                "}\n"
            )
        elif kind == "single_class":
            text = (
                f"/* One class seen in training ({_comment(model.classes_[0])}): always index 0. */\n"
                f"static inline int {name}_predict({params})\n"
                "{\n" + "".join(f"    (void){a};\n" for a in args.split(", ")) + "    return 0;\n"
                "}\n"
            )
        elif kind == "binary":
            text = (
                f"/* Binary: index 1 ({_comment(model.classes_[1])}) where the logit is > 0, else 0. */\n"
                f"static inline int {name}_predict({params})\n"
                "{\n"
                "    int32_t logit;\n"
                f"    {name}_logits({args}, &logit);\n"
                "    return logit > 0;\n"
                "}\n"
            )
        else:
            text = (
                f"/* Class index in [0, {macro}_N_CLASSES): the largest logit, the first one on ties. */\n"
                f"static inline int {name}_predict({params})\n"
                "{\n"
                f"    int32_t logits[{macro}_N_OUTPUTS];\n"
                "    uint32_t o;\n"
                "    int best = 0;\n"
                f"    {name}_logits({args}, logits);\n"
                f"    for (o = 1; o < {macro}_N_OUTPUTS; ++o) {{\n"
                "        if (logits[o] > logits[best]) {\n"
                "            best = (int)o;\n"
                "        }\n"
                "    }\n"
                "    return best;\n"
                "}\n"
            )
        return text

    def macros(self, inputs: list[str] | None = None) -> str:
        """The macros; ``inputs`` (lines) replace ``NAME_N_FEATURES``."""
        macro, model, grid = self.macro, self.model, self.net.input_grid
        scale = float(model.logit_scale)
        if inputs is None:
            inputs = [f"#define {macro}_N_FEATURES {self.net.n_features}"]
        lines = [*inputs, f"#define {macro}_N_OUTPUTS {self.net.n_outputs}"]
        classes = model.classes_
        if classes is not None:
            lines.append(f"#define {macro}_N_CLASSES {len(classes)}")
        lines += [
            f"/* Real value of one logit unit. */\n#define {macro}_LOGIT_SCALE {scale!r}f",
            f"#define {macro}_LOGIT_SCALE_DOUBLE {scale!r}",
            "/* Input grid: code = clamp(round_half_even(x * (1/scale) + zero_point), qmin, qmax). */",
        ]
        if grid.per_feature:
            lines.append(
                f"/* Per feature: 1/scale in {self.name}_input_inverse[i] and the zero point in\n"
                f"   {self.name}_input_zero[i] (the scales live in the first layer's weights). */"
            )
        else:
            lines += [
                f"#define {macro}_INPUT_SCALE {float(grid.scale)!r}",
                f"#define {macro}_INPUT_ZERO_POINT {int(grid.zero_point)}",
            ]
        if self.input_feature_bits is not None:
            name = self.name
            listed = ", ".join(str(int(b)) for b in self.input_feature_bits)
            bits = textwrap.wrap("{" + listed + "}", 96, break_long_words=False)
            lines += [
                "/* Learned input widths replace the rounding and clamp: with u = x * (1/scale) +\n"
                "   zero_point, feature i's code is low + step * k, with\n"
                "   k = clamp(round_half_even((u - low) / step), 0, levels - 1) and levels = 2**bits\n"
                "   (0 bits: a dropped feature, whose code is always low, whatever its x[i]). low, step\n"
                f"   and levels - 1 are in {name}_input_low[i], {name}_input_step[i] and\n"
                f"   {name}_input_top[i] (constants where every feature shares them). The bits of each\n"
                "   feature: */",
                f"#define {macro}_INPUT_FEATURE_BITS " + " \\\n    ".join(bits),
            ]
        lines += [
            f"#define {macro}_INPUT_QMIN {grid.qmin}",
            f"#define {macro}_INPUT_QMAX {grid.qmax}",
        ]
        if classes is not None:
            what = "label index" if model.head.kind == "multilabel" else "class index"
            listing = "\n".join(f"   {j:>4} -> {_comment(c)}" for j, c in enumerate(classes))
            lines.append(f"/* Classes ({what} -> label):\n{listing} */")
            lines.append(f"#define {macro}_CLASS_NAMES {{{', '.join(_c_string(c) for c in classes)}}}")
            integral = [_as_int(c) for c in classes]
            if all(v is not None for v in integral):
                lines.append(f"#define {macro}_CLASS_LABELS {{{', '.join(_int(v) for v in integral)}}}")
        return "\n".join(lines) + "\n"

    def predict_line(self, params: str = "const float *x") -> str:
        """The banner's line declaring ``NAME_predict``."""
        name, macro, head = self.name, self.macro, self.model.head
        if not head.is_classifier:
            predict = f"void {name}_predict({params}, float *out);  -- {macro}_N_OUTPUTS values"
            if self.log_link:
                predict += ", exp of the real logits (Poisson)"
        elif head.kind == "multilabel":
            predict = f"int  {name}_predict({params}, int *labels); -- 0/1 per label, returns the count"
        else:
            predict = f"int  {name}_predict({params});" + " " * max(1, 28 - len(params)) + "-- class index"
        return predict

    def grid_text(self) -> str:
        """The banner's description of the input grid."""
        grid = self.net.input_grid
        if grid.per_feature:
            where = f"scales {float(np.min(grid.scale))!r} to {float(np.max(grid.scale))!r}, one per feature"
        else:
            where = f"scale {float(grid.scale)!r}, zero point {int(grid.zero_point)}"
        grid_text = f"{grid.bits}-bit, codes [{grid.qmin}, {grid.qmax}], {where}"
        bits = self.input_feature_bits
        if bits is not None:
            grid_text += (
                f";\n learned widths, {float(np.mean(bits)):.3g} bits per feature on average, "
                f"{int(np.sum(bits == 0))} feature(s) dropped"
            )
        return grid_text + (", calibrated" if grid.calibrated else "")

    def banner(self) -> str:
        net, model, macro, name = self.net, self.model, self.macro, self.name
        kind = _KIND_TEXT[model.head.kind]
        real = "float" if self.dtype == np.float32 else "double"
        predict = self.predict_line()
        features = ""
        if model.feature_names is not None:
            wrapped = textwrap.fill(
                ", ".join(_comment(f) for f in model.feature_names),
                96,
                initial_indent="   ",
                subsequent_indent="   ",
            )
            features = f"\n Features, in order:\n{wrapped}\n"
        return (
            f"/* {name}.h: a quantized MLP {kind}, generated by skqat (integer-only inference).\n"
            "\n"
            f" {net.n_features} features -> {net.n_outputs} output(s); hidden activation {net.activation}.\n"
            f" Input grid: {self.grid_text()}.\n" + "\n".join(self.summary) + "\n"
            f" Tables: {self.table_bytes} bytes of static const data (flash).\n" + features + "\n"
            " API (every function is static inline; call any of them):\n"
            f"   void {name}_quantize_input(const float *x, {name}_code_t *codes);\n"
            f"   void {name}_logits_from_codes(const {name}_code_t *codes, int32_t *out);\n"
            f"   void {name}_logits(const float *x, int32_t *out); -- {macro}_N_OUTPUTS int32 logits\n"
            f"   {predict}\n"
            f" x holds {macro}_N_FEATURES floats; real logits are int32 logits * {macro}_LOGIT_SCALE.\n"
            "\n"
            ' Bit-identical to skqat\'s IntegerMLP (requantize="fixed_point"): the codes equal\n'
            " quantize_input(np.float32(X)) and the logits integer_logits(codes). Input quantization\n"
            f" is computed in {real} (the model's training dtype); +-inf and out-of-range values clamp to\n"
            " the code range, and NaN (which IntegerMLP rejects) quantizes as 0.0 does, to the zero\n"
            " point. Everything after it is integer arithmetic"
            + (" but the Poisson exp (libm: link with -lm)" if self.log_link else "")
            + ". No heap; the stack holds the\n"
            f" input codes and {min(2, self.n_hidden)} buffer(s) of {self.buffer_width} hidden codes.\n"
            " Compile as C99 or later without -ffast-math (it may fold the rounding trick away). */\n"
        )


def _as_int(value):
    """``int(value)`` when the label is an integer (bool included), else None."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and abs(value) < 2**31:
        return int(value)
    return None
