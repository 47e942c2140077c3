"""Text helpers of the C header writer: identifiers, C types, literals, comments and tables."""

from __future__ import annotations

import re
import textwrap

import numpy as np

from .._fixed_point import INT32_MIN
from .._frozen import smallest_int_dtype

__all__: list[str] = []  # private to skqat.export._c and _c_interface

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int "
    "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert "
    "_Thread_local bool true false asm".split()
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_C_TYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.uint16): "uint16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.uint32): "uint32_t",
    np.dtype(np.int64): "int64_t",
}


def _c_identifier(name) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"name must be a C identifier (letters, digits and underscores, not starting with a digit), "
            f"got {name!r}."
        )
    if name in _C_KEYWORDS or name.startswith("__") or (name[0] == "_" and name[1:2].isupper()):
        raise ValueError(f"name {name!r} is a C keyword or a reserved identifier; choose another.")
    return name


def _ctype(low: int, high: int) -> str:
    return _C_TYPES[smallest_int_dtype(int(low), int(high))]


def _int(value: int) -> str:
    # -2147483648 is not an int32 literal in C (it is minus a wider literal); spell it the portable way.
    value = int(value)
    return "INT32_MIN" if value == INT32_MIN else str(value)


def _offset(value: int) -> str:
    """`` + v`` / `` - v`` / ``""`` to append to an expression."""
    value = int(value)
    if value == 0:
        return ""
    return f" + {value}" if value > 0 else f" - {-value}"


def _float_literal(value: float, dtype: np.dtype) -> str:
    """An exact C literal of ``value`` in ``dtype`` (hexadecimal, so no decimal rounding is involved)."""
    if dtype == np.float32:
        return float(np.float32(value)).hex() + "f"
    return float(value).hex()


def _c_string(text: str) -> str:
    """A C string literal of ``text`` (UTF-8, non-ASCII and ``?`` escaped so no trigraph can form)."""
    out = []
    for byte in str(text).encode("utf-8"):
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """``text`` made safe inside a ``/* */`` comment."""
    return _c_string(text)[1:-1].replace("*/", "* /")


def _table(ctype: str, name: str, values, hexadecimal: bool = False) -> str:
    values = [int(v) for v in np.asarray(values).ravel()]
    items = [f"0x{v:02x}" if hexadecimal else _int(v) for v in values]
    body = textwrap.fill(", ".join(items), 100, initial_indent="    ", subsequent_indent="    ")
    return f"static const {ctype} {name}[{len(values)}] = {{\n{body}\n}};\n"


def _uniform(values) -> bool:
    values = np.asarray(values).ravel()
    return values.size == 0 or bool(np.all(values == values[0]))


def _unpack_expr(name: str, table: str, bits: int, k: str) -> str:
    """C expression (``uint32_t``) of the ``k``-th packed code, ``code - q_min``, of ``table``."""
    if bits == 8:
        return f"(uint32_t){table}[{k}]"
    if bits == 16:
        return f"((uint32_t){table}[2u * {k}] | ((uint32_t){table}[2u * {k} + 1u] << 8))"
    if bits in (1, 2, 4):
        per_byte = 8 // bits
        log = per_byte.bit_length() - 1
        position = f"({k} & {per_byte - 1}u)" if bits == 1 else f"(({k} & {per_byte - 1}u) * {bits}u)"
        return f"(((uint32_t){table}[{k} >> {log}u] >> {position}) & {2**bits - 1}u)"
    return f"{name}_unpack({table}, {k}, {bits}u)"
