"""The pipeline C header (``IntegerPipeline.to_c``): compiled with gcc, bit-identical from raw values.

Each pipeline (Adult: numeric and categorical columns; Mushroom: categorical
only, infrequent categories, ``drop="if_binary"``; Letter: numeric only,
fitted on an array; small synthetic ones with ``KBinsDiscretizer`` bins,
an ``OrdinalEncoder``, a float32 regressor and a multilabel classifier) is
written once and compiled once (C99, ``-Wall -Wextra -Werror -pedantic`` and
UBSan). A driver reads rows of raw values (numeric columns as float32,
category indices as int32) and writes the codes, states, logits and
predictions the header computes; every one must equal the numpy model's
(``model.quantize_input``, ``model.integer_logits``) and ``pipeline.predict``,
on fuzzed rows: held-out data, NaN, unknown categories, extremes, and the
float32 values on both sides of every code step and bin edge.
"""

import re
import subprocess
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from _pipelines import adult_pipeline, fuzz_rows, letter_pipeline, mushroom_pipeline
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from test_c_export import _PREDICT, PICKY, STRICT, _compile, _fill, _has_fma
from test_c_export import gcc as gcc  # noqa: F401  (the fixture)

import skqat
from skqat import IntegerPipeline, QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat.export._c_pipeline import pipeline_header_source


# ----------------------------------------------------------------------
# Pipelines
# ----------------------------------------------------------------------
def _synthetic_frame(n, seed=0, float32=False):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(10.0, 3.0, n),
            "b": rng.uniform(-5.0, 5.0, n),
            "c": rng.exponential(2.0, n),
            "d": np.where(rng.random(n) < 0.1, -1.0, rng.normal(0.0, 1.0, n)),
            "color": rng.choice(
                np.array(["red", "green", "blue", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1]
            ),
            "size": rng.choice([1.0, 2.0, 3.0], n),
        }
    )
    if float32:
        X = X.astype({c: np.float32 for c in "abcd"})
    return X


def bins_pipeline():
    """Bins (ordinal after an imputer, one-hot without one), MinMaxScaler with clip, a numeric missing marker,
    an OrdinalEncoder of strings and numbers followed by a scaler; two hidden layers, three classes."""
    X = _synthetic_frame(900)
    y = (X.a + 2 * X.b + 3 * (X.color == "red") > 12).astype(int) + (X.c > 2)
    ct = ColumnTransformer(
        [
            (
                "bins_ord",
                make_pipeline(SimpleImputer(strategy="median"), KBinsDiscretizer(4, encode="ordinal")),
                ["a"],
            ),
            ("bins_oh", KBinsDiscretizer(n_bins=3, encode="onehot", strategy="uniform"), ["b"]),
            ("num", make_pipeline(SimpleImputer(), MinMaxScaler(clip=True)), ["a", "c"]),
            (
                "marker",
                make_pipeline(SimpleImputer(missing_values=-1.0, strategy="median"), RobustScaler()),
                ["d"],
            ),
            (
                "ord",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                    StandardScaler(),
                ),
                ["color", "size"],
            ),
        ]
    )
    est = QuantizedMLPClassifier(hidden_layer_sizes=(8, 6), weight_bits=3, max_iter=30, random_state=0)
    pipe = make_pipeline(ct, est).fit(X[:600], y[:600])
    return pipe, X[:600], X[600:]


def float32_regressor_pipeline():
    """Float32 columns and one-hot codes: a float32 network, per-tensor asymmetric input grid, a regressor."""
    X = _synthetic_frame(700, seed=1, float32=True)
    y = 0.1 * X.a + X.b - (X.color == "blue")
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b", "c"]),
            ("oh", OneHotEncoder(handle_unknown="ignore", dtype=np.float32), ["color"]),
        ]
    )
    est = QuantizedMLPRegressor(
        hidden_layer_sizes=(8,),
        weight_bits=4,
        max_iter=30,
        random_state=0,
        input_granularity="per_tensor",
        symmetric=False,
    )
    pipe = make_pipeline(ct, est).fit(X[:500], y[:500])
    return pipe, X[:500], X[500:]


def multilabel_pipeline():
    """Numeric columns only, fitted on an array, one binned (states without categorical columns); 3 labels;
    asymmetric grids (a zero point per input feature)."""
    rng = np.random.default_rng(2)
    X = rng.normal(0.0, 2.0, (600, 5))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 1, np.abs(X[:, 4]) > 2]).astype(int)
    ct = ColumnTransformer(
        [
            ("bins", KBinsDiscretizer(n_bins=5, encode="onehot-dense", strategy="quantile"), [0]),
            ("std", StandardScaler(), [1, 2, 3]),
            ("maxabs", MaxAbsScaler(), [4]),
        ]
    )
    est = QuantizedMLPClassifier(
        hidden_layer_sizes=(8,), weight_bits=4, symmetric=False, max_iter=30, random_state=0
    )
    pipe = make_pipeline(ct, est).fit(X[:400], Y[:400])
    return pipe, X[:400], X[400:]


PIPELINES = {
    "adult": adult_pipeline,
    "mushroom": mushroom_pipeline,
    "letter": letter_pipeline,
    "bins": bins_pipeline,
    "float32_regressor": float32_regressor_pipeline,
    "multilabel": multilabel_pipeline,
}
REAL = {"adult", "mushroom", "letter"}


@pytest.fixture(scope="module")
def fitted(request):
    """``fitted(case)``: the pipeline, its integer model and its train and test rows, built once."""
    cache = {}

    def get(case):
        if case in REAL:
            request.getfixturevalue("shared_data")  # skips where the data sets are absent
        if case not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence; folding Mushroom's unknown category
                pipe, X_train, X_test = PIPELINES[case]()
                cache[case] = (pipe, skqat.export_integer(pipe), X_train, X_test)
        return cache[case]

    return get


# ----------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------
def _float32_key(values):
    """An int64 key per float32 value, ordered as the values (both zeros at 0)."""
    bits = np.asarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits >= 0, bits, -(bits & 0x7FFFFFFF))


def _from_key(keys):
    keys = np.asarray(keys, dtype=np.int64)
    magnitude = np.abs(keys).astype(np.uint32).view(np.float32).astype(np.float64)
    return np.where(keys >= 0, magnitude, -magnitude)


def _with_column(base, column, values):
    """``base`` (one raw row, a DataFrame or an array) repeated, raw column ``column`` set to ``values``."""
    if isinstance(base, pd.DataFrame):
        block = pd.concat([base] * len(values), ignore_index=True)
        block[block.columns[column]] = np.asarray(values, dtype=float)
        return block
    block = np.repeat(np.asarray(base, dtype=float), len(values), axis=0)
    block[:, column] = values
    return block


def float32_ties(model, base, per_step=24) -> dict:
    """Float32 raw values on both sides of numeric code steps and bin edges, by raw column position.

    For each numeric network input and each bin source, a bisection over the
    float32 values (``model.quantize_input`` on ``base`` with one column
    changed) finds the first one at which the code (or bin) reaches a target;
    the value and its float32 predecessor are both kept.
    """
    folded = model.folded
    outputs = [(f.column, 0, k) for k, f in enumerate(folded.numeric)]
    outputs += [(s.column, 1, k) for k, s in enumerate(folded.sources) if s.categories is None]
    out: dict = {}
    top = int(_float32_key(np.finfo(np.float32).max))
    for column, which, k in outputs:

        def level(keys, column=column, which=which, k=k):
            with np.errstate(over="ignore"):  # float32 networks: FLT_MAX / s overflows to inf, as predict
                return model.quantize_input(_with_column(base, column, _from_key(keys)))[which][:, k].astype(
                    np.int64
                )

        low, high = level(np.array([-top, top]))
        targets = np.unique(np.linspace(low + 1, high, min(per_step, max(high - low, 0))).astype(np.int64))
        if not len(targets):  # a dropped feature (learned input widths): its code never steps
            continue
        a = np.full(len(targets), -top)  # level(a) < target <= level(b)
        b = np.full(len(targets), top)
        while np.any(b - a > 1):
            mid = a + (b - a) // 2
            up = level(mid) >= targets
            b, a = np.where(up, mid, b), np.where(up, a, mid)
        out.setdefault(column, []).extend(_from_key(np.concatenate([a, b])).tolist())
    return out


def _as_float32(block, model):
    """``block`` with every numeric raw value made float32-representable (the C reads floats), and its
    categorical columns of object dtype (scikit-learn's encoders fail on an all-NaN float column)."""
    with np.errstate(over="ignore"):
        if isinstance(block, pd.DataFrame):
            block = block.astype({c: object for c in model.categorical_columns})
            for c in model.numeric_columns:
                block[c] = block[c].astype(float).astype(np.float32).astype(float)
            return block
        block = np.array(block, dtype=float)
        columns = list(model.folded.numeric_columns)
        block[:, columns] = block[:, columns].astype(np.float32).astype(float)
        return block


def accepted_rows(pipe, model, X_train, X_test):
    """Fuzzed rows (float32 numeric values) that ``pipeline.predict`` accepts, its predictions, and the
    number of blocks it refused."""
    blocks = fuzz_rows(model, X_train, X_test, np.random.default_rng(0))
    base = X_test.iloc[:1] if isinstance(X_test, pd.DataFrame) else X_test[:1]
    for column, values in float32_ties(model, base).items():
        blocks.append(_with_column(base, column, values))
    categorical = model.categorical_columns
    if categorical:
        # Every category of every column, cycled.
        n = max(len(model.categories(c)) for c in categorical)
        block = pd.concat([base] * n, ignore_index=True).astype(dict.fromkeys(categorical, object))
        for c in categorical:
            values = model.categories(c)
            block[c] = [values[i % len(values)] for i in range(n)]
        blocks.append(block)
    rows, predicted, refused = [], [], 0
    for block in blocks:
        block = _as_float32(block, model)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                predicted.append(pipe.predict(block))
        except ValueError:
            refused += 1
            continue
        rows.append(block)
    if isinstance(rows[0], pd.DataFrame):
        X = pd.concat(rows, ignore_index=True)
    else:
        X = np.vstack(rows)
    return X, np.concatenate(predicted), refused


# ----------------------------------------------------------------------
# The compiled driver
# ----------------------------------------------------------------------
_DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "@HEADER@"

/* Reads records of @M@_N_NUMERIC float32 and @M@_N_CATEGORICAL int32 from argv[1]; writes the codes,
   states, logits, logits from the codes and the prediction of each to argv[2]. */
int main(int argc, char **argv)
{
    FILE *in, *out;
    unsigned char record[4 * (@M@_N_NUMERIC + @M@_N_CATEGORICAL)];
    float numeric[@M@_N_NUMERIC + 1];
    int32_t category[@M@_N_CATEGORICAL + 1];
    @N@_code_t codes[@M@_N_NUMERIC_FEATURES + 1] = {0};
    int32_t codes32[@M@_N_NUMERIC_FEATURES + 1] = {0}, states[@M@_N_STATES + 1] = {0};
    int32_t logits[@M@_N_OUTPUTS], again[@M@_N_OUTPUTS];
    if (argc != 3) {
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        return 3;
    }
    while (fread(record, sizeof record, 1, in) == 1) {
        memcpy(numeric, record, 4 * @M@_N_NUMERIC);
        memcpy(category, record + 4 * @M@_N_NUMERIC, 4 * @M@_N_CATEGORICAL);
@INPUTS@
        @N@_logits(@ROW@, logits);
        @N@_logits_from_codes(codes, @STATES@again);
        fwrite(codes32, 4, @M@_N_NUMERIC_FEATURES, out);
        fwrite(states, 4, @M@_N_STATES, out);
        fwrite(logits, sizeof logits, 1, out);
        fwrite(again, sizeof again, 1, out);
        {
@PREDICT@
        }
    }
    return fclose(in) != 0 || fclose(out) != 0;
}
"""

_CODES = """        {
            unsigned j;
            @N@_quantize_input(numeric, codes);
            for (j = 0; j < @M@_N_NUMERIC_FEATURES; ++j) {
                codes32[j] = codes[j];
            }
        }
"""


def _kind(model):
    if not model.head.is_classifier:
        return "regressor"
    return "multilabel" if model.head.kind == "multilabel" else "classifier"


class Built:
    """A pipeline's model, its header and the compiled driver."""

    def __init__(self, model, directory, gcc, name, flags=STRICT):
        self.model, self.dir, self.name = model, directory, name
        self.header = model.to_c(directory, name=name)
        self.kind = _kind(model)
        folded = model.folded
        row = "numeric, category" if folded.categorical_columns else "numeric"
        inputs = _CODES if folded.numeric else ""
        if folded.sources:
            inputs += f"        @N@_states({row}, states);\n"
        predict = _fill(_PREDICT[self.kind], name).replace("_predict(x", f"_predict({row}")
        text = _fill(_DRIVER, name, INPUTS=_fill(inputs, name), HEADER=self.header.name, PREDICT=predict)
        text = text.replace("@ROW@", row).replace("@STATES@", "states, " if folded.sources else "")
        driver = directory / "driver.c"
        driver.write_text(text)
        self.exe = _compile(gcc, driver, directory / "driver", flags)

    def record(self):
        model = self.model
        n_out = model.network.n_outputs
        fields = [
            ("codes", "<i4", (len(model.folded.numeric),)),
            ("states", "<i4", (len(model.folded.sources),)),
            ("logits", "<i4", (n_out,)),
            ("again", "<i4", (n_out,)),
        ]
        if self.kind == "classifier":
            fields.append(("predict", "<i4"))
        elif self.kind == "multilabel":
            fields += [("labels", "<i4", (n_out,)), ("count", "<i4")]
        else:
            fields.append(("values", "<f4", (n_out,)))
        return np.dtype(fields)

    def run(self, numeric, category):
        """The header's outputs on rows of numeric values (float32) and category indices (int32)."""
        n = len(numeric)
        record = np.dtype(
            [("numeric", "<f4", (numeric.shape[1],)), ("category", "<i4", (category.shape[1],))]
        )
        rows = np.empty(n, dtype=record)
        rows["numeric"], rows["category"] = numeric, category
        inp, out = self.dir / "rows.bin", self.dir / "rows.out"
        rows.tofile(inp)
        subprocess.run([str(self.exe), str(inp), str(out)], check=True, capture_output=True)
        result = np.frombuffer(out.read_bytes(), dtype=self.record())
        assert len(result) == n
        return result


def c_inputs(model, X, states):
    """The header's two arrays of raw ``X``: numeric columns as float32, category indices from ``states``."""
    folded = model.folded
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    numeric64 = frame.iloc[:, list(folded.numeric_columns)].to_numpy(dtype=np.float64, na_value=np.nan)
    numeric = numeric64.astype(np.float32)
    np.testing.assert_array_equal(numeric.astype(np.float64), numeric64)  # float32-representable
    category = np.empty((len(frame), len(folded.categorical_columns)), dtype=np.int32)
    for j, column in enumerate(folded.categorical_columns):
        k = next(k for k, s in enumerate(folded.sources) if s.column == column and s.categories is not None)
        category[:, j] = states[:, k]
    return numeric, category


@pytest.fixture(scope="module", params=list(PIPELINES))
def built(request, fitted, gcc, tmp_path_factory):
    pipe, model, X_train, X_test = fitted(request.param)
    directory = tmp_path_factory.mktemp(request.param)
    return request.param, pipe, Built(model, directory, gcc, f"p_{request.param}"), X_train, X_test


# ----------------------------------------------------------------------
# Bit-exactness
# ----------------------------------------------------------------------
#: Rows compared per pipeline (read by the report; each at least MIN_ROWS).
COMPARED: dict = {}
MIN_ROWS = 1000


def check_rows(built, pipe, X, predicted):
    """Run ``X`` through the header; every output must equal the numpy model's and ``pipeline.predict``."""
    model = built.model
    with np.errstate(over="ignore"):  # float32 networks: 3e38 / s overflows to inf, as predict
        codes, states = model.quantize_input(X)
    numeric, category = c_inputs(model, X, states)
    out = built.run(numeric, category)
    logits = model.integer_logits(codes, states)
    np.testing.assert_array_equal(out["codes"], codes)
    np.testing.assert_array_equal(out["states"], states)
    np.testing.assert_array_equal(out["logits"], logits)
    np.testing.assert_array_equal(out["again"], logits)
    if built.kind == "classifier":
        index = logits.argmax(axis=1) if logits.shape[1] > 1 else (logits[:, 0] > 0).astype(int)
        np.testing.assert_array_equal(out["predict"], index)
        np.testing.assert_array_equal(model.classes_[out["predict"]], predicted)
    elif built.kind == "multilabel":
        np.testing.assert_array_equal(out["labels"], logits > 0)
        np.testing.assert_array_equal(out["count"], (logits > 0).sum(axis=1))
        np.testing.assert_array_equal(out["labels"], predicted)
    else:
        values = (logits * model.logit_scale).astype(np.float32)
        np.testing.assert_array_equal(out["values"].view(np.int32), values.view(np.int32))
        np.testing.assert_array_equal(
            out["values"], np.asarray(predicted, dtype=np.float32).reshape(values.shape)
        )
    return codes, states


def test_raw_rows_bit_identical(built):
    case, pipe, built, X_train, X_test = built
    model = built.model
    X, predicted, refused = accepted_rows(pipe, model, X_train, X_test)
    codes, states = check_rows(built, pipe, X, predicted)
    COMPARED[case] = len(X)
    assert len(X) >= MIN_ROWS
    # The rows reach what matters: both ends of the numeric grid, every state kind and NaN.
    grid = model.network.input_grid
    if model.folded.numeric:
        assert (codes == grid.qmin).any() and (codes == grid.qmax).any()
    for k, source in enumerate(model.folded.sources):
        reached = set(np.unique(states[:, k]).tolist())
        # A NaN category (an encoder fitted on missing values) is reached as -2, "missing".
        values = source.categories if source.categories is not None else np.zeros(source.n_values)
        assert {i for i, v in enumerate(values) if not pd.isna(v)} <= reached, source.step
        if not source.errors[-1]:
            assert -2 in reached, source.step
        if source.categories is not None and not source.errors[-2]:
            assert -1 in reached, source.step
    if case in ("adult", "mushroom"):
        assert refused == 0  # every column imputed, unknown categories ignored


def test_out_of_range_indices_read_as_unknown(built):
    """An index past the categories (or below -2) takes the unknown row, as -1 does."""
    case, pipe, built, X_train, X_test = built
    model = built.model
    if not model.folded.categorical_columns:
        pytest.skip("no categorical column")
    X = X_test.iloc[:50] if isinstance(X_test, pd.DataFrame) else X_test[:50]
    codes, states = model.quantize_input(_as_float32(X, model))
    numeric, category = c_inputs(model, _as_float32(X, model), states)
    expected_states = states.copy()
    folded = model.folded
    for j, column in enumerate(folded.categorical_columns):
        category[j::7, j] = [999, -3, 1 << 30][j % 3]
        for k, source in enumerate(folded.sources):
            if source.column == column:
                expected_states[j::7, k] = -1
    out = built.run(numeric, category)
    np.testing.assert_array_equal(out["logits"], model.integer_logits(codes, expected_states))


@pytest.mark.parametrize("case", ["bins", "float32_regressor"])
def test_fma_contraction_cannot_move_values(case, fitted, gcc, tmp_path):
    """Compiled with FMA contraction on (GNU C's default on FMA targets), the outputs still match.

    MinMaxScaler's ``x * scale + min`` (bins) and the grid's ``x * (1/s) + zp`` (both) would fuse.
    """
    if not _has_fma():
        pytest.skip("needs an x86-64 CPU with FMA")
    pipe, model, X_train, X_test = fitted(case)
    fused = ["-std=gnu99", "-O2", "-mfma", "-ffp-contract=fast"]
    built = Built(model, tmp_path, gcc, "fused", fused)
    X, predicted, _ = accepted_rows(pipe, model, X_train, X_test)
    check_rows(built, pipe, X, predicted)
    # Float32 inputs seldom land within an ulp of a double tie, so look at the code itself: no fused
    # multiply-add anywhere (without the volatile products, gcc fuses them here).
    assembly = tmp_path / "driver.s"
    subprocess.run([gcc, *fused, "-S", str(tmp_path / "driver.c"), "-o", str(assembly)], check=True)
    assert not re.search(r"\bvfn?m(add|sub)", assembly.read_text())


# ----------------------------------------------------------------------
# Header contents
# ----------------------------------------------------------------------
_MACROS = r"""#include <stdio.h>
#include "@HEADER@"

int main(void)
{
@LISTS@
    printf("%d %d %d %d\n", @M@_N_NUMERIC, @M@_N_CATEGORICAL, @M@_N_NUMERIC_FEATURES, @M@_N_STATES);
@PRINTS@
    return 0;
}
"""


@pytest.mark.parametrize("case", ["adult", "bins", "mushroom", "letter"])
def test_macros_list_the_columns_and_categories(case, fitted, gcc, tmp_path):
    pipe, model, _, _ = fitted(case)
    name = "cols"
    header = model.to_c(tmp_path, name=name)
    text = header.read_text()
    folded = model.folded
    n_cat = len(model.categorical_columns)
    lists = "    unsigned i;\n" if n_cat else ""
    lists += "".join(f"    static const char *const c{j}[] = COLS_CATEGORIES_{j};\n" for j in range(n_cat))
    prints = "".join(
        f"    for (i = 0; i < sizeof c{j} / sizeof c{j}[0]; ++i) {{\n"
        f'        printf("{j}\\t%s\\n", c{j}[i]);\n'
        "    }\n"
        for j in range(n_cat)
    )
    program = tmp_path / "macros.c"
    program.write_text(_fill(_MACROS, name, HEADER=header.name, LISTS=lists, PRINTS=prints))
    exe = _compile(gcc, program, tmp_path / "macros")
    lines = subprocess.run([str(exe)], capture_output=True, check=True).stdout.decode("utf-8").splitlines()
    assert lines[0].split() == [
        str(len(model.numeric_columns)),
        str(n_cat),
        str(len(folded.numeric)),
        str(len(folded.sources)),
    ]
    listed = [line.split("\t", 1) for line in lines[1:]]
    for j, column in enumerate(model.categorical_columns):
        assert [v for k, v in listed if k == str(j)] == [str(c) for c in model.categories(column)]
    # The comment lists every column, numeric then categorical, each at its index.
    start = text.index("/* Numeric columns" if model.numeric_columns else "/* Categorical columns")
    comment = text[start : text.index("*/", start)]
    numeric, _, categorical = comment.partition("Categorical columns")
    for i, column in enumerate(model.numeric_columns):
        assert f"\n   {i:>4} {column}" in numeric
    for j, column in enumerate(model.categorical_columns):
        assert f"\n   {j:>4} {column} ({len(model.categories(column))} categories" in categorical


def test_signatures(fitted):
    """Numeric columns only: today's one-array signatures; categorical columns: two arrays."""
    letter = pipeline_header_source(fitted("letter")[1], "letter")
    assert "static inline void letter_logits(const float *x, int32_t *out)" in letter
    assert "static inline int letter_predict(const float *x)" in letter
    assert "static inline void letter_logits_from_codes(const letter_code_t *codes, int32_t *out)" in letter
    assert "LETTER_CATEGORIES" not in letter and "#define LETTER_N_CATEGORICAL 0" in letter
    adult = pipeline_header_source(fitted("adult")[1], "adult")
    assert (
        "static inline void adult_logits(const float *numeric, const int32_t *category, int32_t *out)"
        in adult
    )
    assert "static inline int adult_predict(const float *numeric, const int32_t *category)" in adult
    multilabel = pipeline_header_source(fitted("multilabel")[1], "ml")
    assert "static inline int ml_predict(const float *x, int *labels)" in multilabel
    assert "static inline void ml_states(const float *x, int32_t *states)" in multilabel
    regressor = pipeline_header_source(fitted("float32_regressor")[1], "reg")
    assert (
        "static inline void reg_predict(const float *numeric, const int32_t *category, float *out)"
        in regressor
    )
    mushroom = pipeline_header_source(fitted("mushroom")[1], "mush")
    assert "mush_quantize_input" not in mushroom and "(void)numeric;" in mushroom


@pytest.mark.parametrize("case", ["adult", "mushroom", "bins", "multilabel"])
def test_picky_warnings_and_optimized_builds(case, fitted, gcc, tmp_path):
    """Clean under the network header's picky warnings (but -Wfloat-equal: ``v != v`` is the NaN test)."""
    model = fitted(case)[1]
    header = model.to_c(tmp_path, name="pk")
    row = "numeric, category" if model.categorical_columns else "numeric"
    kind = _kind(model)
    call = {
        "classifier": f"(void)category;\n    return pk_predict({row});",
        "multilabel": f"int labels[PK_N_OUTPUTS];\n    (void)category;\n"
        f"    return pk_predict({row}, labels);",
        "regressor": f"float out[PK_N_OUTPUTS];\n    (void)category;\n    pk_predict({row}, out);\n"
        "    return out[0] > 0.0f;",
    }[kind]
    source = tmp_path / "one.c"
    source.write_text(
        f'#include "{header.name}"\n\nint main(void)\n{{\n'
        "    const float numeric[PK_N_NUMERIC + 1] = {0.0f};\n"
        "    const int32_t category[PK_N_CATEGORICAL + 1] = {0};\n"
        f"    {call}\n}}\n"
    )
    picky = [f for f in PICKY if f != "-Wfloat-equal"]
    _compile(gcc, source, tmp_path / "one", [*STRICT, *picky, "-O2"])
    _compile(gcc, source, tmp_path / "one.o", ["-std=c99", "-Os", "-Werror", "-Wall"], link=False)


# ----------------------------------------------------------------------
# Refusals
# ----------------------------------------------------------------------
def test_float32_requantization_is_refused(fitted, tmp_path):
    pipe = fitted("bins")[0]
    with pytest.raises(ValueError, match="requantize='fixed_point'"):
        skqat.export_integer(pipe, requantize="float32").to_c(tmp_path / "m.h")
    assert not (tmp_path / "m.h").exists()


def test_non_finite_constants_are_refused(fitted):
    model = fitted("bins")[1]
    folded = model.folded
    feature = folded.numeric[0]
    broken = replace(
        folded, numeric=(replace(feature, ops=(("sub", np.float64(np.inf)),)), *folded.numeric[1:])
    )
    with pytest.raises(ValueError, match="finite"):
        pipeline_header_source(IntegerPipeline(model.network, broken), "m")


@pytest.mark.parametrize("name", ["", "1model", "int", "my-model"])
def test_name_must_be_a_c_identifier(fitted, name):
    with pytest.raises(ValueError, match="name"):
        pipeline_header_source(fitted("bins")[1], name)


def test_header_is_deterministic_and_ascii(fitted, tmp_path):
    model = fitted("bins")[1]
    first = model.to_c(tmp_path / "a.h", name="det").read_bytes()
    assert first == model.to_c(tmp_path / "b.h", name="det").read_bytes()
    text = first.decode("ascii")
    assert "malloc" not in text and "math.h" not in text
    assert text.count("#include") == 1
