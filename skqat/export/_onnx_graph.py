"""ONNX graph building shared by the float and integer graphs and QONNX (extra ``skqat[onnx]``).

Builders that add constants and nodes to a standalone graph or to skl2onnx's
container, type helpers, and the grid's codes as operators
(:func:`grid_codes`, :func:`skqat._frozen.codes_from_inverse` restated).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .._frozen import FrozenGrid

__all__ = [
    "DEFAULT_OPSET",
    "DOMAIN_OPSETS",
    "ML_DOMAIN",
    "MS_DOMAIN",
    "GraphBuilder",
    "StandaloneGraph",
    "cast",
    "grid_codes",
    "onnx_type",
    "window_ops",
    "require_onnx",
]

#: Opset of the standalone graphs' main domain.
DEFAULT_OPSET = 17

#: Domain of onnxruntime's contrib operators (``QGemm``).
MS_DOMAIN = "com.microsoft"

#: Domain of ONNX-ML's operators (``LabelEncoder``).
ML_DOMAIN = "ai.onnx.ml"

#: Opset of each extra domain a standalone graph imports (ONNX-ML 2: ``LabelEncoder`` with int64 keys).
DOMAIN_OPSETS = {MS_DOMAIN: 1, ML_DOMAIN: 2}


def require_onnx(extra: str = "onnx"):
    """Import ``onnx`` or explain how to install it (``pip install 'skqat[extra]'``)."""
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"{'QONNX' if extra == 'qonnx' else 'ONNX'} export needs the onnx package; install it with: "
            f"pip install 'skqat[{extra}]'"
        ) from exc
    return onnx


def onnx_type(dtype) -> int:
    """The ONNX element type of a numpy dtype (object: strings)."""
    from onnx import TensorProto, helper

    dtype = np.dtype(dtype)
    return TensorProto.STRING if dtype.kind == "O" else helper.np_dtype_to_tensor_dtype(dtype)


class GraphBuilder(ABC):
    """Adds constants and nodes to some ONNX graph; subclasses say where."""

    @abstractmethod
    def constant(self, hint: str, array: np.ndarray) -> str:
        """Add an initializer holding ``array``; return its name."""

    @abstractmethod
    def node(
        self, op_type: str, inputs: list[str], hint: str, output: str | None = None, domain: str = "", **attrs
    ) -> str:
        """Add a node with one output (named ``output``, or a fresh name); return that name."""


class StandaloneGraph(GraphBuilder):
    """Collects nodes and initializers for :func:`onnx.helper.make_graph`."""

    def __init__(self):
        self.nodes, self.initializers, self.domains, self._count = [], [], set(), 0

    def _name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, array):
        from onnx import numpy_helper

        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type, inputs, hint, output=None, domain="", **attrs):
        from onnx import helper

        output = output or self._name(hint)
        if domain:
            self.domains.add(domain)
        self.nodes.append(
            helper.make_node(op_type, inputs, [output], name=self._name(op_type), domain=domain, **attrs)
        )
        return output


def cast(g: GraphBuilder, x: str, from_dtype, to_dtype, hint: str, output: str | None = None) -> str:
    """``x`` in ``to_dtype`` (a Cast, or an Identity when it already is and ``output`` is named)."""
    if np.dtype(from_dtype) != np.dtype(to_dtype):
        return g.node("Cast", [x], hint, output=output, to=onnx_type(to_dtype))
    return x if output is None else g.node("Identity", [x], hint, output=output)


def grid_codes(g: GraphBuilder, x: str, grid: FrozenGrid, hint: str, dtype, clip: bool = True) -> str:
    """:func:`skqat._frozen.codes_from_inverse` as operators, in ``dtype``.

    ``Clip(Round(Add(Mul(x, 1/s), zp)), q_min, q_max)``, no ``Add`` when
    ``zp = 0``, no ``Clip`` when ``clip`` is False (``x`` clipped already).
    A grid with learned input widths (``grid.window``) replaces the rounding
    and clipping by :func:`window_ops`.
    """
    # Input and activation grids have 2 bits or more (input_bits, activation_bits >= 2).
    assert not grid.binary, "only weight grids are binary"
    inverse = np.reciprocal(np.asarray(grid.scale, dtype))
    u = g.node("Mul", [x, g.constant(f"{hint}_inv", inverse)], f"{hint}_u")
    if grid.nonzero_zero_point:
        # Added before rounding, as training does (QuantizeLinear adds it after).
        u = g.node("Add", [u, g.constant(f"{hint}_zp", np.asarray(grid.zero_point, dtype))], f"{hint}_shift")
    if grid.window is not None:
        return window_ops(g, u, grid.window, hint, dtype)
    u = g.node("Round", [u], f"{hint}_round")
    if not clip:
        return u
    low = g.constant(f"{hint}_qmin", np.asarray(grid.qmin, dtype))
    high = g.constant(f"{hint}_qmax", np.asarray(grid.qmax, dtype))
    return g.node("Clip", [u, low, high], f"{hint}_codes")


def window_ops(g: GraphBuilder, u: str, window: tuple, hint: str, dtype, offset: int = 0) -> str:
    """:func:`skqat._frozen.window_codes` as operators, in ``dtype``: the container codes of ``u``.

    ``Add(Mul(Min(Max(Round(Div(Sub(u, low), step)), 0), levels - 1), step), low)``
    with per-feature constants along the last axis, in :func:`window_codes`'s
    order (a true ``Div``, ``Round`` half to even; ``Max``/``Min`` because
    ``Clip`` takes scalar bounds). ``offset`` is added to ``low`` (exact: the
    codes are small integers), for a graph that shifts the codes.
    """
    low, step, levels = (np.asarray(w, np.int64) for w in window)
    v = g.node("Sub", [u, g.constant(f"{hint}_low", low.astype(dtype))], f"{hint}_from_low")
    v = g.node("Div", [v, g.constant(f"{hint}_step", step.astype(dtype))], f"{hint}_v")
    k = g.node("Round", [v], f"{hint}_round")
    k = g.node("Max", [k, g.constant(f"{hint}_k0", np.zeros((), dtype))], f"{hint}_k_low")
    k = g.node("Min", [k, g.constant(f"{hint}_top", (levels - 1).astype(dtype))], f"{hint}_k")
    codes = g.node("Mul", [k, g.constant(f"{hint}_stride", step.astype(dtype))], f"{hint}_steps")
    return g.node("Add", [codes, g.constant(f"{hint}_base", (low + offset).astype(dtype))], f"{hint}_codes")


def count_at_most(g: GraphBuilder, y: str, values: np.ndarray, hint: str) -> str:
    """int32 ``count(values <= y)`` per element of ``y``, for sorted ``values`` of ``y``'s float type.

    A branch-free binary search: one ``Gather`` and ``GreaterOrEqual`` per
    bit of ``len(values)``, the table padded with ``+inf``.
    """
    values = np.asarray(values)
    steps = 1 << int(np.ceil(np.log2(values.size + 1)))
    padded = np.concatenate([values, np.full(steps - 1 - values.size, np.inf, values.dtype)])
    pos = g.constant(f"{hint}_0", np.int32(0))
    step = steps // 2
    while step:
        probe = g.node("Gather", [g.constant(f"{hint}_t", padded[step - 1 :]), pos], f"{hint}_probe")
        above = g.node("GreaterOrEqual", [y, probe], f"{hint}_ge")
        moved = g.node("Add", [pos, g.constant(f"{hint}_k", np.int32(step))], f"{hint}_next")
        pos = g.node("Where", [above, moved, pos], f"{hint}_pos")
        step //= 2
    return pos
