"""The ``.npz`` file of an :class:`~skqat.export.IntegerMLP`: written by ``save``, checked by ``load``.

The file is the deployment artifact that travels between machines, so
:func:`read_network` trusts nothing in it. ``meta`` records a SHA-256 of
every array (type, shape and bytes), so an array damaged or edited after
``save`` is named as such. Before anything is built :func:`read_network`
checks the format and version, that the file holds exactly the arrays
``meta`` lists, each array's digest, type and shape, that no array claims
more data than its compressed member can hold (so nothing allocates more
than the file implies), packed weight lengths against shapes and bit
widths, and then the whole record with
:func:`skqat._record_checks.check_network` (bit widths, code ranges, finite
positive scales, zero points on their grids, chained shapes, the head).
Every problem raises one ``ValueError`` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._frozen import FrozenGrid, FrozenLayer, FrozenNetwork, Requantization, weight_from_codes
from .._head import HEAD_KINDS, LabelHead
from .._integer_codes import pack_codes, unpack_codes
from .._record_checks import check_network, fail

__all__ = ["FORMAT", "FORMAT_VERSION", "network_arrays", "read_network"]

FORMAT = "skqat.IntegerMLP"
FORMAT_VERSION = 3

#: Deflate expands at most about 1032:1; a member claiming more is forged.
_MAX_EXPANSION = 1100

_REQUANT_FIELDS = ("fixed_multiplier", "shift", "float32_multiplier")


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------
def _grid_arrays(grid: FrozenGrid, prefix: str) -> dict:
    return {
        f"{prefix}_grid": np.array(
            [grid.bits, grid.qmin, grid.qmax, grid.symmetric, grid.calibrated, grid.axis], dtype=np.int64
        ),
        f"{prefix}_scale": np.asarray(grid.scale),
        f"{prefix}_zero_point": np.asarray(grid.zero_point, np.int32),
        # Learned input widths: (low, step, levels) per feature; a reader that predates them
        # refuses the file (an array it does not write) rather than compute other codes.
        **({} if grid.window is None else {f"{prefix}_window": np.asarray(grid.window, np.int32)}),
    }


def _layer_arrays(layer: FrozenLayer, prefix: str) -> dict:
    grid = layer.weight_grid
    assert grid is not None and layer.weight_codes is not None, "IntegerMLP holds integer layers only"
    arrays = {
        f"{prefix}_weight_packed": pack_codes(layer.weight_codes, grid.bits, grid.qmin),
        f"{prefix}_weight_shape": np.array(layer.shape, dtype=np.int64),
        f"{prefix}_bias_codes": layer.bias_codes,
        f"{prefix}_bias": layer.bias,
        f"{prefix}_bias_bits": np.array(layer.bias_bits or 0),
        **_grid_arrays(grid, f"{prefix}_weight"),
    }
    requant = layer.requantization
    if requant is not None:
        arrays.update({f"{prefix}_{key}": getattr(requant, key) for key in _REQUANT_FIELDS})
        if requant.thresholds is not None:
            arrays[f"{prefix}_thresholds"] = requant.thresholds
    return arrays


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's type, shape and bytes: what ``meta`` records for each array."""
    array = np.ascontiguousarray(array)
    header = f"{array.dtype.str}|{array.shape}|".encode()
    return hashlib.sha256(header + array.tobytes()).hexdigest()


def network_arrays(network: FrozenNetwork, requantize: str, extra: dict | None = None) -> dict:
    """The arrays ``IntegerMLP.save`` writes (no pickled objects), ``meta`` recording each one's digest.

    ``extra``: further arrays (an ``IntegerPipeline``'s folded input stage), digested with the rest.
    """
    head = network.head
    meta = {
        "activation": network.activation,
        "head": head.kind,
        "logit_scale": network.logit_scale,
        "n_layers": len(network.layers),
        "requantize": requantize,
        "feature_names": None if head.feature_names is None else list(head.feature_names),
        "dtype": network.dtype.name,
    }
    arrays = {"format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION)}
    if head.classes is not None:
        classes = head.classes
        arrays["classes"] = classes.astype(str) if classes.dtype == object else classes
    for i, layer in enumerate(network.layers):
        arrays.update(_layer_arrays(layer, f"layer{i}"))
    assert network.input_grid is not None, "an integer network has an input grid"
    arrays.update(_grid_arrays(network.input_grid, "input"))
    for i, grid in enumerate(network.activation_grids):
        arrays.update(_grid_arrays(grid, f"act{i}"))
    arrays.update(extra or {})
    meta["sha256"] = {name: digest(np.asarray(value)) for name, value in arrays.items() if name != "format"}
    return {**arrays, "meta": np.array(json.dumps(meta))}


# ----------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------
class _Archive:
    """The arrays of one ``.npz`` file, each checked for presence, size, type and shape as it is read."""

    def __init__(self, npz, source):
        self.npz, self.source = npz, source
        self.members = {info.filename: info for info in npz.zip.infolist()}
        self.digests: dict | None = None  # from meta, once read

    def expect_digests(self, digests) -> None:
        """Check every array read from now on against ``digests``, and that they name exactly the file's."""
        if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
            fail(self.source, "meta 'sha256'", "is missing or not a map of array names to digests")
        stored = {name[: -len(".npy")] for name in self.members} - {"format", "meta"}
        for name in sorted(stored ^ set(digests)):
            fail(self.source, name, "is missing" if name in digests else "is not an array skqat writes")
        self.digests = digests

    def _declared_bytes(self, field: str) -> int:
        """The bytes the array's header claims, read without reading the data."""
        info = self.members[f"{field}.npy"]
        with self.npz.zip.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(stream)
        return int(np.prod(shape, dtype=object)) * dtype.itemsize

    def has(self, field: str) -> bool:
        return f"{field}.npy" in self.members

    def array(self, field: str, kinds: str, ndim: int | None = None, shape=None) -> np.ndarray:
        """The array ``field``: its dtype kind in ``kinds``, and ``ndim`` dimensions or exactly ``shape``."""
        if not self.has(field):
            fail(self.source, field, "is missing")
        info = self.members[f"{field}.npy"]
        try:
            claimed = self._declared_bytes(field)
            value = None if claimed > info.file_size else self.npz[field]
        except Exception as exc:  # zipfile, zlib, numpy and OS errors: a damaged member
            fail(self.source, field, f"cannot be read ({type(exc).__name__}: {exc})")
        if value is None or info.file_size > _MAX_EXPANSION * max(info.compress_size, 1) + 4096:
            fail(self.source, field, "claims more data than the file holds")
        if self.digests is not None and field != "format" and digest(value) != self.digests.get(field):
            fail(self.source, field, "does not match its SHA-256 in meta: the array was damaged or edited")
        if value.dtype.kind not in kinds:
            fail(self.source, field, f"has type {value.dtype}")
        if ndim is not None and value.ndim != ndim:
            fail(self.source, field, f"has {value.ndim} dimensions; expected {ndim}")
        if shape is not None and value.shape != tuple(shape):
            fail(self.source, field, f"has shape {value.shape}; expected {tuple(shape)}")
        return value

    def scalar(self, field: str, kinds: str):
        return self.array(field, kinds, shape=()).item()

    def grid(self, prefix: str, dtype) -> FrozenGrid:
        bits, qmin, qmax, symmetric, calibrated, axis = (
            int(v) for v in self.array(f"{prefix}_grid", "i", shape=(6,))
        )
        if symmetric not in (0, 1) or calibrated not in (0, 1) or axis not in (0, -1):
            fail(
                self.source, f"{prefix}_grid", "holds flags other than 0 and 1 or an axis other than 0 and -1"
            )
        scale = self.array(f"{prefix}_scale", "f")
        if scale.dtype != dtype:
            fail(self.source, f"{prefix}_scale", f"has type {scale.dtype}; expected {dtype}")
        zero = self.array(f"{prefix}_zero_point", "iu", shape=scale.shape)
        window = None
        if self.has(f"{prefix}_window"):
            window = tuple(self.array(f"{prefix}_window", "i", shape=(3, *scale.shape)))
        return FrozenGrid(
            bits,
            qmin,
            qmax,
            scale,
            zero,
            symmetric=bool(symmetric),
            calibrated=bool(calibrated),
            axis=axis,
            window=window,
        )

    def layer(self, prefix: str, dtype, folded_input: FrozenGrid | None = None) -> FrozenLayer:
        """Layer ``prefix``; ``folded_input``: the per-feature input grid the first layer's codes fold."""
        grid = self.grid(f"{prefix}_weight", dtype)
        if not 1 <= grid.bits <= 16:
            fail(self.source, f"{prefix}_weight_grid", f"has {grid.bits} bits, outside [1, 16]")
        shape = tuple(int(v) for v in self.array(f"{prefix}_weight_shape", "i", shape=(2,)))
        if min(shape) < 1:
            fail(self.source, f"{prefix}_weight_shape", f"is {shape}")
        packed = self.array(f"{prefix}_weight_packed", "u", ndim=1)
        count = shape[0] * shape[1]
        if packed.dtype != np.uint8 or packed.size != -(-count * grid.bits // 8):
            fail(
                self.source,
                f"{prefix}_weight_packed",
                f"holds {packed.size} {packed.dtype} values; {shape} weights of {grid.bits} bits pack into "
                f"{-(-count * grid.bits // 8)} bytes",
            )
        codes = unpack_codes(packed, count, grid.bits, grid.qmin).reshape(shape)
        if folded_input is not None and np.shape(folded_input.scale) != (shape[1],):
            fail(
                self.source,
                "input_scale",
                f"has shape {np.shape(folded_input.scale)} for {shape[1]} features",
            )
        requant = None
        if self.has(f"{prefix}_fixed_multiplier"):
            requant = Requantization(
                fixed_multiplier=self.array(f"{prefix}_fixed_multiplier", "i"),
                shift=self.array(f"{prefix}_shift", "i"),
                float32_multiplier=self.array(f"{prefix}_float32_multiplier", "f"),
                thresholds=self.array(f"{prefix}_thresholds", "i", ndim=1)
                if self.has(f"{prefix}_thresholds")
                else None,
            )
        return FrozenLayer(
            weight_from_codes(codes, grid, dtype, folded_input),
            self.array(f"{prefix}_bias", "f", shape=(shape[0],)),
            grid,
            codes,
            self.array(f"{prefix}_bias_codes", "i", shape=(shape[0],)),
            int(self.scalar(f"{prefix}_bias_bits", "iu")) or None,
            requant,
        )


def _meta(archive: _Archive) -> dict:
    try:
        meta = json.loads(str(archive.array("meta", "U", shape=())))
    except json.JSONDecodeError as exc:
        fail(archive.source, "meta", f"is not JSON ({exc})")
    expected = {
        "activation": str,
        "head": str,
        "logit_scale": float,
        "n_layers": int,
        "requantize": str,
        "dtype": str,
    }
    if not isinstance(meta, dict):
        fail(archive.source, "meta", "is not a JSON object")
    for key, kind in expected.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            fail(archive.source, f"meta {key!r}", f"is {value!r}")
    if meta["dtype"] not in ("float32", "float64"):
        fail(archive.source, "meta 'dtype'", f"is {meta['dtype']!r}")
    if meta["head"] not in HEAD_KINDS:
        fail(archive.source, "meta 'head'", f"is {meta['head']!r}")
    names = meta.get("feature_names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        fail(archive.source, "meta 'feature_names'", "is not a list of strings")
    # Each layer stores at least its packed weights: more layers than members is a forged count.
    if not 1 <= meta["n_layers"] <= len(archive.members):
        fail(archive.source, "meta 'n_layers'", f"is {meta['n_layers']}")
    return meta


def read_network(path, extra: tuple = ()) -> tuple:
    """The frozen network and requantization mode a file written by ``save`` holds, checked.

    With ``extra`` (names of further arrays the file must hold, checked
    against their digests), a third item: those arrays by name.

    Raises
    ------
    ValueError
        If the file is not an skqat integer model, has another format
        version, or any field is damaged; the message names the file and
        the field.
    """
    source = Path(path)
    try:
        npz = np.load(source, allow_pickle=False)
    except Exception as exc:  # OSError, EOFError, zipfile.BadZipFile, ValueError: not a readable archive
        raise ValueError(
            f"{source} is not a readable skqat IntegerMLP file ({type(exc).__name__}: {exc})."
        ) from exc
    if not hasattr(npz, "zip"):
        raise ValueError(f"{source} is a single numpy array, not an skqat IntegerMLP file (.npz).")
    with npz:
        archive = _Archive(npz, source)
        if not archive.has("format") or str(archive.array("format", "U", shape=())) != FORMAT:
            raise ValueError(f"{source} is not an skqat IntegerMLP file.")
        version = archive.scalar("format_version", "iu")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{source} has format_version {version}; this skqat reads IntegerMLP format version "
                f"{FORMAT_VERSION}. Export the model again with this skqat."
            )
        meta = _meta(archive)
        archive.expect_digests(meta.get("sha256"))
        archive.scalar("format_version", "iu")  # now against its digest
        dtype = np.dtype(meta["dtype"])
        input_grid = archive.grid("input", dtype)
        folded = input_grid if input_grid.per_feature else None
        layers = tuple(
            archive.layer(f"layer{i}", dtype, folded if i == 0 else None) for i in range(meta["n_layers"])
        )
        classes = archive.array("classes", "iufbU", ndim=1) if archive.has("classes") else None
        try:
            head = LabelHead(meta["head"], classes, meta.get("feature_names"))
        except ValueError as exc:
            fail(source, "classes", f"do not fit the head ({exc})")
        network = FrozenNetwork(
            layers,
            meta["activation"],
            head,
            input_grid,
            tuple(archive.grid(f"act{i}", dtype) for i in range(meta["n_layers"] - 1)),
            meta["logit_scale"],
        )
        found = {}
        for name in extra:
            if not archive.has(name):
                fail(source, name, "is missing: this file holds a network, not a folded pipeline")
            found[name] = archive.array(name, "U", shape=())
    network = check_network(network, source)
    return (network, meta["requantize"], found) if extra else (network, meta["requantize"])
