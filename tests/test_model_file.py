"""Loading an IntegerMLP file trusts nothing: every mutation gives one ValueError naming file and field.

Valid files of five models (multiclass relu, multiclass per-channel asymmetric
tanh, multilabel logistic, Poisson regressor, per-feature input grid) are mutated one array at a
time: dropped, truncated, cast to another type, set to extreme and
non-finite values, given a huge shape. ``IntegerMLP.load`` must raise a
``ValueError`` that names the file and the array, or give a model identical
to the original (same arrays, same logits). Further tests write files whose
digests match the mutation (as a deliberate forgery would) and require the
record checks to name the field, and forge an array header that claims more
data than the file holds.
"""

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat.export import IntegerMLP
from skqat.export._model_file import digest

CONFIGS = {
    "relu": ("multiclass", dict(weight_bits=4)),
    # Multiclass and per channel: the last layer requantizes to one logit scale, with no table.
    "tanh": (
        "multiclass",
        dict(weight_bits=8, granularity="per_channel", symmetric=False, activation="tanh"),
    ),
    "logistic": ("multilabel", dict(weight_bits=2, activation="logistic", hidden_layer_sizes=(6, 5))),
    "poisson": ("poisson", dict(loss="poisson", weight_bits=4)),
    # One input scale and zero point per feature (input_granularity="per_feature").
    "per_feature": ("multiclass", dict(weight_bits=4, input_granularity="per_feature", symmetric=False)),
    # Learned input widths: the input grid's window (low, step, levels per feature) is stored too.
    "learned_inputs": (
        "multiclass",
        dict(weight_bits=4, input_bits="learned", input_target_bits=2, symmetric=False),
    ),
}


def _model(task, params):
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0)
    if task == "binary":
        y = y % 2
    elif task == "multilabel":
        X, y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    elif task == "poisson":
        y = np.random.default_rng(0).poisson(1.0 + (X[:, 0] > 0), len(X)).astype(float)
    params = {"hidden_layer_sizes": (6,), "input_bits": 8, "max_iter": 5, "random_state": 0, **params}
    estimator = QuantizedMLPRegressor if task == "poisson" else QuantizedMLPClassifier
    return estimator(**params).fit(X, y).export_integer(), X


@pytest.fixture(scope="module", params=list(CONFIGS))
def saved(request, tmp_path_factory):
    model, X = _model(*CONFIGS[request.param])
    path = tmp_path_factory.mktemp(request.param) / "model.npz"
    model.save(path)
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return model, X, path, arrays


def _write(path, arrays):
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def _mutations(value):
    """(name, mutated array) pairs for one array: each kind the docstring lists that applies."""
    yield "truncate", value.ravel()[: value.size // 2] if value.ndim else value.reshape(1)[:0]
    if value.dtype.kind in "iu":
        yield "to float", value.astype(np.float64)
        info = np.iinfo(value.dtype)
        yield "max", np.full_like(value, info.max)
        yield "min", np.full_like(value, info.min)
        yield "huge shape", np.full(value.shape, 2**40, np.int64)
        yield "negative", np.full(value.shape, -3, np.int64)
    elif value.dtype.kind == "f":
        yield "to int", value.astype(np.int32)
        for special in (np.nan, np.inf, -np.inf, 0.0, 1e300, -1.0):
            yield f"{special}", np.full_like(value, special)
    else:
        yield "to int", np.zeros(value.shape, np.int64)
        yield "empty string", np.array("")


def _same_model(loaded, model, X):
    codes = model.quantize_input(X)
    return (
        np.array_equal(loaded.integer_logits(codes), model.integer_logits(codes))
        and loaded.head == model.head
    )


def test_every_array_mutated(saved, tmp_path):
    model, X, path, arrays = saved
    outcomes = {}
    for name, value in arrays.items():
        kinds = [("drop", None), *_mutations(value)]
        for kind, mutated in kinds:
            changed = {k: v for k, v in arrays.items() if k != name}
            if mutated is not None:
                changed[name] = mutated
            target = _write(tmp_path / "mutated.npz", changed)
            try:
                loaded = IntegerMLP.load(target)
            except ValueError as exc:
                message = str(exc)
                assert str(target) in message, message
                # The array named, or the format/meta itself (checked before any array).
                assert name in message or "IntegerMLP file" in message, message
                outcomes[name, kind] = "ValueError"
            else:
                assert _same_model(loaded, model, X), (name, kind)
                outcomes[name, kind] = "identical"
    assert len(outcomes) > 10 * len(arrays) / 2
    assert "ValueError" in outcomes.values()


def _forged(arrays, **changes):
    """``arrays`` with ``changes`` and digests rewritten to match, as a deliberate forgery would."""
    arrays = {**arrays, **changes}
    meta = json.loads(str(arrays["meta"]))
    meta["sha256"] = {k: digest(np.asarray(v)) for k, v in arrays.items() if k not in ("format", "meta")}
    return {**arrays, "meta": np.array(json.dumps(meta))}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("layer0_weight_shape", np.array([2**31, 2**31]), "layer0_weight_packed holds"),
        ("layer0_weight_shape", np.array([-5, 8]), "layer0_weight_shape is"),
        ("layer0_weight_packed", "truncate", "layer0_weight_packed holds"),
        ("layer0_weight_packed", "float", "layer0_weight_packed has type float64"),
        ("layer0_weight_grid", "zero bits", "layer0_weight_grid has 0 bits"),
        ("input_scale", "nan", "input grid scale is not finite and positive"),
        ("layer0_bias_codes", "short", "layer0_bias_codes has shape"),
        ("input_zero_point", "outside", "input grid zero point lies outside"),
    ],
)
def test_forged_files_name_the_field(saved, tmp_path, field, value, message):
    model, X, path, arrays = saved
    original = arrays[field]
    if isinstance(value, str):
        value = {
            "truncate": lambda: original[: len(original) // 2],
            "float": lambda: original.astype(np.float64),
            "zero bits": lambda: np.concatenate([[0], original[1:]]),
            "nan": lambda: np.full_like(original, np.nan),
            "short": lambda: original[:-1],
            "outside": lambda: np.full_like(original, 10_000),
        }[value]()
    target = _write(tmp_path / "forged.npz", _forged(arrays, **{field: value}))
    with pytest.raises(ValueError, match="forged.npz") as info:
        IntegerMLP.load(target)
    assert message in str(info.value)


def test_a_header_claiming_more_data_than_the_file_holds(saved, tmp_path):
    model, X, path, arrays = saved
    target = tmp_path / "huge.npz"
    _write(target, arrays)
    # Rewrite one member with a header that claims 2**40 float64 values over 16 bytes of data.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    members = {}
    with zipfile.ZipFile(target) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    members["input_scale.npy"] = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 16
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="input_scale claims more data than the file holds"):
        IntegerMLP.load(target)


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "flipped bytes"])
def test_damaged_files(saved, tmp_path, damage):
    model, X, path, arrays = saved
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "not a zip":
        data = bytearray(b"hello, not a model")
    else:
        rng = np.random.default_rng(0)
        for i in rng.integers(100, len(data) - 100, 20):
            data[i] ^= 0xFF
    target = tmp_path / "damaged.npz"
    target.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged.npz"):
        IntegerMLP.load(target)


def test_a_valid_file_loads_identical(saved):
    model, X, path, _ = saved
    loaded = IntegerMLP.load(path)
    assert _same_model(loaded, model, X)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_an_estimator_file_with_a_damaged_record_raises(tmp_path):
    """Pickle and skops restore an estimator through __setstate__, which checks its frozen record."""
    import dataclasses
    import pickle

    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(6,), weight_bits=4, max_iter=5, random_state=0).fit(X, y)
    assert np.array_equal(pickle.loads(pickle.dumps(clf)).predict(X), clf.predict(X))
    grid = clf._frozen.layers[0].weight_grid
    bad_grid = dataclasses.replace(grid, scale=np.full_like(grid.scale, np.nan))
    bad_layer = dataclasses.replace(clf._frozen.layers[0], weight_grid=bad_grid)
    clf._frozen = dataclasses.replace(clf._frozen, layers=(bad_layer, *clf._frozen.layers[1:]))
    with pytest.raises(
        ValueError, match="QuantizedMLPClassifier's file is not a valid skqat model: layer 0 weight"
    ):
        pickle.loads(pickle.dumps(clf))
