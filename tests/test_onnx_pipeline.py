"""``skqat.to_onnx(pipeline, X_sample)``: a folded pipeline as one ONNX graph of raw columns, in onnxruntime.

Every fuzzed block of raw rows (``tests/_pipelines.py``) that ``pipeline.predict``
accepts, as the graph's inputs hold it (a missing string is ``""``), goes
through both graphs: the default graph's labels must equal ``pipeline.predict``'s
and ``export_integer(pipeline)``'s, the integer graph's int32 logits those of
``export_integer(pipeline, requantize="float32")``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

import skqat
from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnx", reason="the onnx extra is not installed")

from _pipelines import adult_pipeline, fuzz_rows, letter_pipeline, mushroom_pipeline  # noqa: E402

#: ai.onnx.ml's float preprocessing, which the folded graph never uses.
FLOAT_PREPROCESSING = {"Scaler", "OneHotEncoder", "Imputer", "Normalizer", "Binarizer"}


def _session(onx):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _number(value):
    """``value`` as a float (NaN for missing), or None when it is not a number."""
    if _missing(value):
        return np.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def _column_view(values: np.ndarray, onnx_type: str):
    """``(feed, reference, keep)``: a raw column as the graph's input holds it, and as pipeline.predict
    should then see it (a missing string, or ``""``, as NaN); rows the input cannot hold are not kept."""
    n = len(values)
    if onnx_type == "tensor(string)":
        missing = np.array([_missing(v) or v == "" for v in values], dtype=bool)
        feed = np.array(["" if m else str(v) for v, m in zip(values, missing)], dtype=object)
        reference = np.array([np.nan if m else v for v, m in zip(values, missing)], dtype=object)
        return feed, reference, np.ones(n, dtype=bool)
    numbers = [_number(v) for v in values]
    keep = np.array([x is not None for x in numbers])
    floats = np.array([np.nan if x is None else x for x in numbers], dtype=np.float64)
    if onnx_type == "tensor(int64)":
        keep &= np.isfinite(floats) & (floats == np.round(floats))
        ints = np.where(keep, floats, 0).astype(np.int64)
        return ints, ints, keep
    dtype = np.float32 if onnx_type == "tensor(float)" else np.float64
    return floats.astype(dtype), floats.astype(dtype), keep


def _graph_rows(session, blocks: list, pipeline):
    """The rows of the accepted blocks as the graph's inputs hold them: ``(feeds, reference, n_blocks)``.

    A block counts when ``pipeline.predict`` accepts its reference rows.
    """
    inputs = session.get_inputs()
    feeds, references = [], []
    for block in blocks:
        if isinstance(block, pd.DataFrame):
            keep = np.ones(len(block), dtype=bool)
            feed, reference = {}, block.copy()
            for i in inputs:
                f, r, k = _column_view(block[i.name].to_numpy(dtype=object), i.type)
                feed[i.name], keep = f, keep & k
                reference[i.name] = r
            feed = {name: values[keep].reshape(-1, 1) for name, values in feed.items()}
            reference = reference[keep].reset_index(drop=True)
        else:
            (i,) = inputs
            dtype = np.float32 if i.type == "tensor(float)" else np.float64
            feed, reference = {i.name: block.astype(dtype)}, block.astype(dtype)
        if not len(reference):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipeline.predict(reference)
        except (ValueError, TypeError):
            continue  # refused by the pipeline: the graph's output is unspecified
        feeds.append(feed)
        references.append(reference)
    feed = {name: np.concatenate([f[name] for f in feeds]) for name in feeds[0]}
    if isinstance(references[0], pd.DataFrame):
        reference = pd.concat(references, ignore_index=True)
    else:
        reference = np.concatenate(references)
    return feed, reference, len(references)


def _check_graphs(pipeline, X_sample, blocks) -> int:
    """Run both graphs on the accepted blocks and compare them with the numpy models; returns the rows."""
    reference = None
    for integer_ops in (False, True):
        onx = skqat.to_onnx(pipeline, X_sample, integer_ops=integer_ops)
        ops = {node.op_type for node in onx.graph.node}
        assert not ops & FLOAT_PREPROCESSING, ops
        assert ("QGemm" in ops) == integer_ops
        session = _session(onx)
        if reference is None:
            feeds, reference, n_blocks = _graph_rows(session, blocks, pipeline)
            assert n_blocks >= len(blocks) // 3, (n_blocks, len(blocks))
        outputs = session.run(None, feeds)
        model = skqat.export_integer(pipeline, requantize="float32" if integer_ops else "fixed_point")
        expected = model.predict(reference)
        if model.head.is_classifier:
            np.testing.assert_array_equal(outputs[0], expected)
        else:
            np.testing.assert_array_equal(outputs[0].ravel(), expected.ravel())
        if integer_ops:
            codes, states = model.quantize_input(reference)
            np.testing.assert_array_equal(outputs[-1], model.integer_logits(codes, states))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                np.testing.assert_array_equal(
                    outputs[0].reshape(np.shape(expected)), pipeline.predict(reference)
                )
            if model.head.is_classifier:
                proba = model.predict_proba(reference)  # onnxruntime's exp is not numpy's: a few ulps
                assert np.abs(outputs[1] - proba).max() <= 4 * np.finfo(proba.dtype).eps
    return len(reference)


def _float_sample(X):
    """``X`` with its integer columns as float64 (the fuzzed rows hold NaN and huge values there)."""
    return X.astype({c: np.float64 for c in X.columns if pd.api.types.is_integer_dtype(X[c].dtype)})


# ----------------------------------------------------------------------
# Real data sets, every accepted fuzzed row
# ----------------------------------------------------------------------
def test_adult_numeric_and_categorical(shared_data):
    pipe, X_train, X_test = adult_pipeline()
    model = skqat.export_integer(pipe)
    sample = _float_sample(X_train)
    onx = skqat.to_onnx(pipe, sample)
    inputs = {i.name: i.type.tensor_type.elem_type for i in onx.graph.input}
    assert list(inputs) == list(X_train.columns)  # named by the columns, as they are ("education-num")
    assert inputs["age"] == 11 and inputs["workclass"] == 8  # double, string
    assert {i.type.tensor_type.shape.dim[1].dim_value for i in onx.graph.input} == {1}
    assert "LabelEncoder" in {node.op_type for node in onx.graph.node}
    blocks = fuzz_rows(model, X_train, X_test, np.random.default_rng(0))
    assert _check_graphs(pipe, sample, blocks) > len(X_test)
    # Integer columns: tensor(int64) inputs, the held-out rows as read (missing categories as "").
    onx = skqat.to_onnx(pipe, X_train)
    assert {i.name: i.type.tensor_type.elem_type for i in onx.graph.input}["age"] == 7
    assert _check_graphs(pipe, X_train, [X_test]) == len(X_test)


def test_mushroom_categorical_only(shared_data):
    pipe, X_train, X_test = mushroom_pipeline()
    model = skqat.export_integer(pipe)
    assert not model.folded.numeric
    blocks = fuzz_rows(model, X_train, X_test, np.random.default_rng(1))
    assert _check_graphs(pipe, X_train, blocks) > len(X_test)


def test_letter_numeric_only_fitted_on_arrays(shared_data):
    pipe, X_train, X_test = letter_pipeline()
    model = skqat.export_integer(pipe)
    onx = skqat.to_onnx(pipe, X_train)
    (x,) = onx.graph.input
    assert x.name == "X" and [d.dim_value for d in x.type.tensor_type.shape.dim] == [0, 16]
    blocks = fuzz_rows(model, X_train, X_test, np.random.default_rng(2))
    assert _check_graphs(pipe, X_train, blocks) > len(X_test)
    # A float32 sample: a float input, cast to double exactly before the scaler's operations.
    onx = skqat.to_onnx(pipe, X_train.astype(np.float32))
    assert onx.graph.input[0].type.tensor_type.elem_type == 1
    X32 = X_test.astype(np.float32)
    (labels, _) = _session(onx).run(None, {"X": X32})
    np.testing.assert_array_equal(labels, model.predict(X32))


# ----------------------------------------------------------------------
# Bins, ordinal codes, integer and float categories, on synthetic data
# ----------------------------------------------------------------------
def _synthetic_pipeline(estimator, seed=0, n=1600):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    a[rng.random(n) < 0.05] = np.nan
    X = pd.DataFrame(
        {
            "a": a,
            "b": rng.uniform(0, 10, n),
            "c": rng.normal(3, 2, n),
            "d": rng.exponential(2, n),
            "color": rng.choice(["red", "green", "blue", "teal"], n),
            "n": rng.integers(0, 5, n),
            "g": rng.choice([1.0, 2.5, 4.0, np.nan], n),
            "unused": rng.normal(size=n),
        }
    )
    score = (
        np.nan_to_num(a) + 0.3 * X.b - (X.color == "red") + 0.5 * X.n + (X.g == 2.5) + rng.normal(0, 0.5, n)
    )
    y = score if isinstance(estimator, QuantizedMLPRegressor) else (score > 2).astype(int)
    ct = ColumnTransformer(
        [
            (
                "a",
                make_pipeline(SimpleImputer(strategy="median"), KBinsDiscretizer(n_bins=5, encode="ordinal")),
                ["a"],
            ),
            ("b", KBinsDiscretizer(n_bins=4, encode="onehot", strategy="uniform"), ["b"]),
            ("c", MinMaxScaler(clip=True), ["c"]),
            ("d", MinMaxScaler(feature_range=(-1, 1), clip=True), ["d"]),  # per-column clip bounds
            ("dc", RobustScaler(), ["d", "c"]),  # c and d read twice
            ("color", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["color"]),
            ("n", OneHotEncoder(handle_unknown="ignore"), ["n"]),  # integer categories: int64 input
            ("g", OneHotEncoder(handle_unknown="ignore"), ["g"]),  # float categories with NaN: double input
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(ct, estimator).fit(X[:1000], y[:1000])
    return pipe, X[:1000], X[1000:]


ESTIMATORS = {
    "classifier": lambda: QuantizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0),
    "regressor": lambda: QuantizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=30, random_state=0),
    "one_layer_per_feature": lambda: QuantizedMLPClassifier(
        hidden_layer_sizes=(), input_bits=8, input_granularity="per_feature", symmetric=False, max_iter=30
    ),
    "tanh_two_layers": lambda: QuantizedMLPClassifier(
        hidden_layer_sizes=(12, 8), activation="tanh", max_iter=30, random_state=0
    ),
}


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_bins_ordinal_and_typed_categories(kind):
    pipe, X_train, X_test = _synthetic_pipeline(ESTIMATORS[kind]())
    model = skqat.export_integer(pipe)
    assert sum(s.categories is None for s in model.folded.sources) == 2  # both KBinsDiscretizers
    onx = skqat.to_onnx(pipe, X_train)
    types = {i.name: i.type.tensor_type.elem_type for i in onx.graph.input}
    assert types == {"a": 11, "b": 11, "c": 11, "d": 11, "color": 8, "n": 7, "g": 11}  # not "unused"
    blocks = fuzz_rows(model, X_train, X_test, np.random.default_rng(3))
    assert _check_graphs(pipe, X_train, blocks) > len(X_test)
    # Without a sample: numeric columns double, categorical ones of their categories' type.
    types_default = {i.name: i.type.tensor_type.elem_type for i in skqat.to_onnx(pipe).graph.input}
    assert types_default == types


def test_float32_columns_and_network():
    """float32 columns (tensor(float) inputs) into a network trained in float32."""
    rng = np.random.default_rng(4)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=800).astype(np.float32),
            "y": rng.normal(size=800).astype(np.float32),
            "k": rng.choice(["a", "b", "c"], 800),
        }
    )
    labels = (X["x"] + (X["k"] == "b") > 0.3).astype(int)
    ct = ColumnTransformer(
        [
            ("xy", StandardScaler(), ["x", "y"]),
            ("k", OneHotEncoder(handle_unknown="ignore", dtype=np.float32, sparse_output=False), ["k"]),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(ct, QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0))
        pipe.fit(X, labels)
    assert pipe[-1]._frozen.dtype == np.float32
    X.loc[:99, "x"] *= np.float32(1e6)  # far outside the grid
    X.loc[100:119, "x"] = np.float32(3e38)
    blocks = [X, X.assign(k=[None, "", "zz", "a"] * 200)]
    assert _check_graphs(pipe, X, blocks) == 1600


# ----------------------------------------------------------------------
# Missing categorical values: the empty string
# ----------------------------------------------------------------------
def _kind_pipeline(kind_steps):
    rng = np.random.default_rng(0)
    kind = rng.choice(["x", "y", "z"], 600).astype(object)
    kind[rng.random(600) < 0.1] = np.nan
    X = pd.DataFrame({"size": rng.normal(size=600), "kind": kind})
    y = (X["size"] + (X["kind"] == "y") > 0.5).astype(int)
    ct = ColumnTransformer(
        [("size", StandardScaler(), ["size"]), ("kind", make_pipeline(*kind_steps), ["kind"])]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_pipeline(
            ct, QuantizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
        ).fit(X, y)


def _run_kinds(pipe, kinds):
    sizes = np.linspace(-2, 2, 41)
    frame = pd.DataFrame(
        {"size": np.repeat(sizes, len(kinds)), "kind": np.tile(np.array(kinds, object), len(sizes))}
    )
    feeds = {"size": frame[["size"]].to_numpy(), "kind": frame[["kind"]].to_numpy(object)}
    labels, _ = _session(skqat.to_onnx(pipe, frame)).run(None, feeds)
    return frame, labels


def test_empty_string_is_the_missing_category_value():
    pipe = _kind_pipeline([SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")])
    frame, labels = _run_kinds(pipe, ["x", "y", "", "unseen"])
    as_missing = frame.replace({"kind": {"": np.nan}})
    np.testing.assert_array_equal(labels, pipe.predict(as_missing))
    # "" reads as missing (imputed), not as the unknown value scikit-learn would take it for.
    empty = (frame["kind"] == "").to_numpy()
    imputed = frame[empty].assign(kind=pipe[0].named_transformers_["kind"][0].statistics_[0])
    np.testing.assert_array_equal(labels[empty], pipe.predict(imputed))


def test_empty_string_fitted_as_a_category_is_that_category():
    pipe = _kind_pipeline(
        [SimpleImputer(strategy="constant", fill_value=""), OneHotEncoder(handle_unknown="ignore")]
    )
    assert "" in list(pipe[0].named_transformers_["kind"][1].categories_[0])
    frame, labels = _run_kinds(pipe, ["x", "", "z", "unseen"])
    np.testing.assert_array_equal(labels, pipe.predict(frame))


# ----------------------------------------------------------------------
# Arguments and messages
# ----------------------------------------------------------------------
def test_pipeline_arguments_are_checked():
    pipe = _kind_pipeline([SimpleImputer(strategy="most_frequent"), OneHotEncoder()])
    X = pd.DataFrame({"size": [0.5], "kind": ["x"]})
    with pytest.raises(ValueError, match="must be a DataFrame"):
        skqat.to_onnx(pipe, X.to_numpy())
    with pytest.raises(ValueError, match=r"lacks the columns \['kind'\]"):
        skqat.to_onnx(pipe, X[["size"]])
    with pytest.raises(ValueError, match="holds strings"):
        skqat.to_onnx(pipe, X.astype({"size": str}))
    with pytest.raises(ValueError, match="dtype applies to a bare estimator"):
        skqat.to_onnx(pipe, X, dtype=np.float32)
    clash = pd.DataFrame({"label": np.arange(8.0)})
    network = QuantizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        named = make_pipeline(StandardScaler(), network).fit(clash, [0, 1] * 4)
    with pytest.raises(ValueError, match="names of the graph's outputs"):
        skqat.to_onnx(named, clash)


def test_qonnx_message_points_to_the_pipeline_exports():
    from skqat.export._fitted import fitted_network

    pipe = _kind_pipeline([SimpleImputer(strategy="most_frequent"), OneHotEncoder()])
    pattern = (
        r"not a Pipeline.*to_qonnx\(pipeline\[-1\].*skqat\.to_onnx\(pipeline, X_sample\)"
        r".*skqat\.export_integer\(pipeline\)"
    )
    with pytest.raises(TypeError, match=pattern):
        fitted_network(pipe, "to_qonnx")
