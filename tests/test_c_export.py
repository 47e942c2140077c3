"""The C header (``IntegerMLP.to_c``): compiled with gcc, bit-identical to ``IntegerMLP.integer_logits``.

Every configuration is fitted once, written once and compiled once (C99,
``-Wall -Wextra -Werror -pedantic`` and UBSan, so an overflow or a bad shift
fails the run); a driver program reads float32 rows (or int32 codes) from a
file and writes the codes, logits and predictions the header computes.
"""

import platform
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor
from skqat._frozen import quantize_codes
from skqat._integer_codes import accumulator_bits
from skqat.export import IntegerMLP
from skqat.export._c import c_header_source

GCC = shutil.which("gcc")
STRICT = [
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-fsanitize=undefined",
    "-fno-sanitize-recover=all",
]
#: Further warnings the header is kept clean of (for projects that build with them).
PICKY = [
    "-Wconversion",
    "-Wsign-conversion",
    "-Wshadow",
    "-Wdouble-promotion",
    "-Wfloat-equal",
    "-Wcast-qual",
    "-Wundef",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wvla",
    "-Wdeclaration-after-statement",
]

ROWS = 1200


@pytest.fixture(scope="module")
def gcc():
    if GCC is None:
        pytest.skip("gcc is not installed: the C header tests compile it")
    return GCC


def _compile(gcc, source, out, flags=STRICT, link=True):
    # -lm: a Poisson regressor's header calls exp.
    cmd = [gcc, *flags, str(source), "-o", str(out)] + (["-lm"] if link else ["-c"])
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"
    assert result.stderr == "", result.stderr
    return out


# ----------------------------------------------------------------------
# Configurations: each listed setting is covered by at least one.
# ----------------------------------------------------------------------
def _data(kind, iris, digits_split, counts):
    if kind == "counts":
        return counts
    if kind == "iris":
        return iris
    if kind == "iris32":
        return iris[0].astype(np.float32), iris[1]
    if kind in ("ranges", "ranges32"):
        # Raw columns whose ranges differ by 1e9: a per-feature input grid's case.
        X = iris[0] * np.array([1e-3, 1.0, 1e3, 1e6])
        return (X.astype(np.float32) if kind == "ranges32" else X), iris[1]
    if kind == "digits":
        return digits_split[0], digits_split[2]
    if kind == "binary":
        return make_classification(n_samples=300, n_features=6, n_informative=4, random_state=0)
    if kind == "multilabel":
        X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
        return X / 4.0, Y
    X, y = make_regression(
        n_samples=300, n_features=5, n_targets=2 if kind == "regression2" else 1, random_state=0
    )
    return X, y / 100.0


CASES = {
    # id: (data, estimator parameters)
    "w1_relu_multiclass": ("iris", dict(weight_bits=1, hidden_layer_sizes=(16,))),
    "w2_per_channel_tanh": ("iris", dict(weight_bits=2, granularity="per_channel", activation="tanh")),
    "w4_asymmetric_logistic": ("digits", dict(weight_bits=4, symmetric=False, activation="logistic")),
    "w8_per_channel_asymmetric_identity_binary": (
        "binary",
        dict(weight_bits=8, granularity="per_channel", symmetric=False, activation="identity"),
    ),
    "w4_per_channel_multilabel": ("multilabel", dict(weight_bits=4, granularity="per_channel")),
    "w8_tanh_regressor": ("regression", dict(weight_bits=8, activation="tanh", hidden_layer_sizes=(16,))),
    "w3_identity_two_target_regressor": ("regression2", dict(weight_bits=3, activation="identity")),
    "w4_input8_poisson_regressor": ("counts", dict(loss="poisson", weight_bits=4, input_bits=8)),
    "input8_bias16": ("iris", dict(weight_bits=4, input_bits=8, bias_bits=16)),
    "learned_bits": ("digits", dict(weight_bits="learned", target_bits=2.5, hidden_layer_sizes=(16,))),
    "float32_mixed_bits_asymmetric_tanh": (
        "iris32",
        dict(weight_bits=(2, 16, 5), granularity="per_channel", symmetric=False, activation="tanh"),
    ),
    "int64_accumulators": (
        "iris",
        dict(weight_bits=16, input_bits=16, bias_bits=32, activation_bits=16, hidden_layer_sizes=(16,)),
    ),
    "w1_asymmetric_no_hidden_layer": ("digits", dict(weight_bits=1, symmetric=False, hidden_layer_sizes=())),
    "per_feature_input8_raw_ranges": (
        "ranges",
        dict(weight_bits=4, input_bits=8, input_granularity="per_feature", symmetric=False, bias_bits=32),
    ),
    "float32_per_feature_input6_tanh": (
        "ranges32",
        dict(weight_bits=8, input_bits=6, input_granularity="per_feature", activation="tanh"),
    ),
}


def _fit(case, iris, digits_split, counts):
    data, params = CASES[case]
    X, y = _data(data, iris, digits_split, counts)
    params = {"hidden_layer_sizes": (12, 8), "max_iter": 40, "random_state": 0, **params}
    cls = QuantizedMLPRegressor if data.startswith(("regression", "counts")) else QuantizedMLPClassifier
    if cls is QuantizedMLPClassifier:
        params["learning_rate_init"] = 0.01
    est = cls(**params).fit(X, y)
    return est, X


@pytest.fixture(scope="module")
def fitted(iris, digits_split, counts):
    """``fitted(case)``: the estimator and its training features, fitted once per module."""
    cache = {}

    def get(case):
        if case not in cache:
            cache[case] = _fit(case, iris, digits_split, counts)
        return cache[case]

    return get


def _kind(model):
    if model.classes_ is None:
        return "regressor"
    return "multilabel" if model.multilabel else "classifier"


_DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "@HEADER@"

/* Reads float32 rows ("x" mode) or int32 code rows ("codes" mode) from argv[2], writes to argv[3]. */
int main(int argc, char **argv)
{
    FILE *in, *out;
    if (argc != 4) {
        return 2;
    }
    in = fopen(argv[2], "rb");
    out = fopen(argv[3], "wb");
    if (in == NULL || out == NULL) {
        return 3;
    }
    if (strcmp(argv[1], "x") == 0) {
        float x[@M@_N_FEATURES];
        @N@_code_t codes[@M@_N_FEATURES];
        int32_t codes32[@M@_N_FEATURES], logits[@M@_N_OUTPUTS], again[@M@_N_OUTPUTS];
        while (fread(x, sizeof x, 1, in) == 1) {
            unsigned j;
            @N@_quantize_input(x, codes);
            for (j = 0; j < @M@_N_FEATURES; ++j) {
                codes32[j] = codes[j];
            }
            @N@_logits(x, logits);
            @N@_logits_from_codes(codes, again);
            fwrite(codes32, sizeof codes32, 1, out);
            fwrite(logits, sizeof logits, 1, out);
            fwrite(again, sizeof again, 1, out);
            {
@PREDICT@
            }
        }
    } else {
        int32_t codes32[@M@_N_FEATURES], logits[@M@_N_OUTPUTS];
        @N@_code_t codes[@M@_N_FEATURES];
        while (fread(codes32, sizeof codes32, 1, in) == 1) {
            unsigned j;
            for (j = 0; j < @M@_N_FEATURES; ++j) {
                codes[j] = (@N@_code_t)codes32[j];
            }
            @N@_logits_from_codes(codes, logits);
            fwrite(logits, sizeof logits, 1, out);
        }
    }
    return fclose(in) != 0 || fclose(out) != 0;
}
"""

_PREDICT = {
    "classifier": """
                int32_t label = @N@_predict(x);
                fwrite(&label, sizeof label, 1, out);""",
    "multilabel": """
                int labels[@M@_N_OUTPUTS];
                int32_t labels32[@M@_N_OUTPUTS], count;
                unsigned j;
                count = @N@_predict(x, labels);
                for (j = 0; j < @M@_N_OUTPUTS; ++j) {
                    labels32[j] = labels[j];
                }
                fwrite(labels32, sizeof labels32, 1, out);
                fwrite(&count, sizeof count, 1, out);""",
    "regressor": """
                float values[@M@_N_OUTPUTS];
                @N@_predict(x, values);
                fwrite(values, sizeof values, 1, out);""",
}


def _fill(template, name, **extra):
    text = template.replace("@N@", name).replace("@M@", name.upper())
    for key, value in extra.items():
        text = text.replace(f"@{key}@", value)
    return text


class Built:
    """A model, its header and the compiled driver."""

    def __init__(self, model, X, directory, gcc, name):
        self.model, self.X, self.dir, self.name = model, X, directory, name
        self.header = model.to_c(directory, name=name)
        self.kind = _kind(model)
        driver = directory / "driver.c"
        predict = _fill(_PREDICT[self.kind], name)
        driver.write_text(_fill(_DRIVER, name, HEADER=self.header.name, PREDICT=predict))
        self.exe = _compile(gcc, driver, directory / "driver")

    def run(self, mode, rows):
        inp, out = self.dir / f"{mode}.bin", self.dir / f"{mode}.out"
        np.ascontiguousarray(rows).tofile(inp)
        subprocess.run([str(self.exe), mode, str(inp), str(out)], check=True, capture_output=True)
        return out.read_bytes()


@pytest.fixture(scope="module", params=list(CASES))
def built(request, fitted, gcc, tmp_path_factory):
    est, X = fitted(request.param)
    directory = tmp_path_factory.mktemp(request.param)
    return Built(est.export_integer(), X, directory, gcc, f"m_{request.param}")


# ----------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------
def _at(values, j):
    """Feature ``j``'s value of a per-feature array, or the one value of a per-tensor one."""
    values = np.asarray(values).reshape(-1)
    return values[j if values.size > 1 else 0]


def _grid_values(grid, j=0):
    """Float32 values probing feature ``j``'s input grid: ends, just past them, grid and half-way points."""
    rng = np.random.default_rng(1)
    s, zp = float(_at(grid.scale, j)), int(_at(grid.zero_point, j))
    low, high = s * (grid.qmin - zp), s * (grid.qmax - zp)
    levels = rng.integers(grid.qmin, grid.qmax + 1, 64)
    points = np.concatenate(
        [
            [low, high, low - s / 2, high + s / 2, low - s, high + s, low - 1e-3 * s, high + 1e-3 * s],
            s * (levels - zp),
            s * (levels - zp + 0.5),
            s * (levels - zp - 0.5),
        ]
    ).astype(np.float32)
    # Float32 neighbours of each point, so some land exactly on a half-way product.
    up, down = np.nextafter(points, np.float32(np.inf)), np.nextafter(points, np.float32(-np.inf))
    specials = np.array([0.0, -0.0, 1e30, -1e30, np.inf, -np.inf, 3.4e38, -3.4e38, 1e-30], np.float32)
    return np.concatenate([points, up, down, np.nextafter(up, np.float32(np.inf)), specials])


def feature_rows(model, X):
    """``ROWS`` float32 rows: real rows, then rows mixing real values, grid probes, +-1e30, +-inf and NaN."""
    rng = np.random.default_rng(0)
    X = np.asarray(X, dtype=np.float32)
    real = X[rng.permutation(len(X))[:200]]
    n = ROWS - len(real)
    mixed = X[rng.integers(0, len(X), n)].copy()
    pick = rng.random(mixed.shape) < 0.7
    for j in range(X.shape[1]):  # each feature's own grid (one grid for all, per tensor)
        mixed[pick[:, j], j] = rng.choice(_grid_values(model.input_grid, j), int(pick[:, j].sum()))
    mixed[-20:, rng.integers(0, X.shape[1])] = np.nan
    return np.vstack([real, mixed])


def reference_codes(model, rows):
    """The numpy reference's codes; NaN quantizes as 0.0 (what the header documents)."""
    values = np.where(np.isnan(rows), 0.0, rows).astype(model.network.dtype)
    with np.errstate(over="ignore"):  # 1e30 / s overflows float32 to inf, which clamps
        return quantize_codes(values, model.input_grid)


def exact_ties(model, rows):
    """How many values of ``rows`` land exactly half-way between two codes (in the model's dtype)."""
    grid, dtype = model.input_grid, model.network.dtype
    with np.errstate(invalid="ignore", over="ignore"):
        # Per feature, scales and zero points broadcast along the columns.
        u = rows.astype(dtype) * np.reciprocal(np.asarray(grid.scale, dtype)) + np.asarray(
            grid.zero_point, dtype
        )
        inside = np.isfinite(u) & (u > grid.qmin) & (u < grid.qmax)
        return int(np.sum(inside & (u - np.floor(u) == 0.5)))


def code_rows(model):
    """``ROWS`` rows of valid input codes: random, then all q_min, all q_max, alternating, all zero point."""
    grid, n = model.input_grid, model.n_features_in_
    rng = np.random.default_rng(2)
    rows = rng.integers(grid.qmin, grid.qmax + 1, (ROWS, n))
    rows[: ROWS // 4] = rng.choice([grid.qmin, grid.qmax], (ROWS // 4, n))
    rows[0], rows[1], rows[2] = grid.qmin, grid.qmax, np.broadcast_to(grid.zero_point, (n,))
    rows[3] = np.where(np.arange(n) % 2 == 0, grid.qmin, grid.qmax)
    rows[4] = np.where(np.arange(n) % 2 == 0, grid.qmax, grid.qmin)
    return rows.astype(np.int32)


def _record(model, kind):
    n_f, n_o = model.n_features_in_, model.network.n_outputs
    fields = [("codes", "<i4", n_f), ("logits", "<i4", n_o), ("again", "<i4", n_o)]
    if kind == "classifier":
        fields.append(("predict", "<i4"))
    elif kind == "multilabel":
        fields += [("labels", "<i4", n_o), ("count", "<i4")]
    else:
        fields.append(("values", "<f4", n_o))
    return np.dtype(fields)


# ----------------------------------------------------------------------
# Bit-exactness
# ----------------------------------------------------------------------
def check_features(built):
    """Run the feature rows through the header; compare with the numpy reference. Returns the rows."""
    model, kind = built.model, built.kind
    rows = feature_rows(model, built.X)
    out = np.frombuffer(built.run("x", rows), dtype=_record(model, kind))
    assert len(out) == ROWS

    codes = reference_codes(model, rows)
    np.testing.assert_array_equal(out["codes"], codes)
    finite = np.isfinite(rows).all(axis=1)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out["codes"][finite], model.quantize_input(rows[finite]))
        expected = model.predict(rows[finite])

    logits = model.integer_logits(codes)
    assert logits.dtype == np.int32
    np.testing.assert_array_equal(out["logits"], logits)
    np.testing.assert_array_equal(out["again"], logits)

    if kind == "classifier":
        index = logits.argmax(axis=1) if logits.shape[1] > 1 else (logits[:, 0] > 0).astype(int)
        np.testing.assert_array_equal(out["predict"], index)
        np.testing.assert_array_equal(model.classes_[out["predict"][finite]], expected)
    elif kind == "multilabel":
        np.testing.assert_array_equal(out["labels"], logits > 0)
        np.testing.assert_array_equal(out["count"], (logits > 0).sum(axis=1))
        np.testing.assert_array_equal(out["labels"][finite], expected)
    else:
        values = logits * model.logit_scale
        if model.out_activation == "exp":
            # glibc's exp against numpy's, both in float64, then rounded to float32: equal on
            # every row here; a float64 ulp apart would show only at a float32 rounding tie.
            values = np.exp(values)
        values = values.astype(np.float32)
        np.testing.assert_array_equal(out["values"].view(np.int32), values.view(np.int32))
        np.testing.assert_array_equal(
            out["values"][finite], expected.reshape(len(expected), -1).astype(np.float32)
        )
    return rows


def test_features_bit_identical(built):
    check_features(built)


def test_features_probe_the_grid(built):
    """The rows reach both ends of the code range (and, in float32, exact half-way products).

    A float32 input times a float64 ``1/s`` is almost never exactly half-way;
    ``test_half_way_codes_round_to_even`` covers ties in float64.
    """
    model = built.model
    rows = feature_rows(model, built.X)
    codes = reference_codes(model, rows)
    grid = model.input_grid
    assert (codes == grid.qmin).any() and (codes == grid.qmax).any()
    assert np.isinf(rows).any() and np.isnan(rows).any() and (np.abs(rows) == np.float32(1e30)).any()
    if model.network.dtype == np.float32:
        assert exact_ties(model, rows) > 0


@pytest.mark.parametrize("case", ["w1_relu_multiclass", "float32_mixed_bits_asymmetric_tanh"])
@pytest.mark.parametrize("zero_point", [0, 3, 4])
def test_half_way_codes_round_to_even(case, zero_point, fitted, gcc, tmp_path):
    """A power-of-two input scale makes grid half-way points exact: they round half to even, as numpy."""
    est, X = fitted(case)
    model = est.export_integer()
    grid = model.input_grid
    net = replace(
        model.network,
        input_grid=replace(
            grid, scale=np.asarray(2.0**-4, grid.scale.dtype), zero_point=np.asarray(zero_point)
        ),
    )
    model = IntegerMLP(net)
    rows = check_features(Built(model, X, tmp_path, gcc, "ties"))
    assert exact_ties(model, rows) > 50


def _has_fma():
    try:
        return platform.machine() == "x86_64" and " fma " in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.parametrize(
    "case", ["w8_per_channel_asymmetric_identity_binary", "float32_mixed_bits_asymmetric_tanh"]
)
def test_fma_contraction_cannot_move_codes(case, fitted, gcc, tmp_path):
    """Compiled with FMA contraction on (GNU C's default on FMA targets), the codes still match.

    Fused, ``x * (1/s) + zp`` is rounded once and moves about 4% of near-half-way codes; the
    header's volatile product keeps the two roundings numpy does.
    """
    if not _has_fma():
        pytest.skip("needs an x86-64 CPU with FMA")
    est, X = fitted(case)
    model = est.export_integer()
    grid = model.input_grid
    assert np.any(np.asarray(grid.zero_point) != 0)
    header = model.to_c(tmp_path, name="fused")
    driver = tmp_path / "driver.c"
    predict = _fill(_PREDICT[_kind(model)], "fused")
    driver.write_text(_fill(_DRIVER, "fused", HEADER=header.name, PREDICT=predict))
    exe = _compile(gcc, driver, tmp_path / "driver", ["-std=gnu99", "-O2", "-mfma", "-ffp-contract=fast"])
    rng = np.random.default_rng(3)
    levels = rng.integers(grid.qmin, grid.qmax, (20_000, model.n_features_in_))
    # Half-way points of each feature's grid (per feature or per tensor).
    rows = (np.asarray(grid.scale) * (levels - np.asarray(grid.zero_point) + 0.5)).astype(np.float32)
    inp, out = tmp_path / "x.bin", tmp_path / "x.out"
    rows.tofile(inp)
    subprocess.run([str(exe), "x", str(inp), str(out)], check=True)
    codes = np.frombuffer(out.read_bytes(), dtype=_record(model, _kind(model)))["codes"]
    np.testing.assert_array_equal(codes, reference_codes(model, rows))


def test_codes_bit_identical(built):
    model = built.model
    rows = code_rows(model)
    out = np.frombuffer(built.run("codes", rows), dtype=np.int32).reshape(ROWS, -1)
    np.testing.assert_array_equal(out, model.integer_logits(rows))


def test_configurations_cover_the_arithmetic(fitted):
    """The configurations reach what the header must handle: int64 accumulators, 16-bit and packed codes."""
    acc, bits, requant_last = set(), set(), False
    for case in CASES:
        model = fitted(case)[0].export_integer()
        for layer, grid in zip(model.layers, model.network.grids()):
            acc.add(accumulator_bits(layer, grid))
            bits.add(layer.weight_grid.bits)
        requant_last |= model.layers[-1].requantization is not None
    assert acc == {32, 64}
    assert {1, 2, 3, 4, 8, 16} <= bits
    assert requant_last


# ----------------------------------------------------------------------
# Each function alone compiles warning-free
# ----------------------------------------------------------------------
_CALLS = {
    "quantize_input": "@N@_code_t codes[@M@_N_FEATURES];\n    @N@_quantize_input(x, codes);\n"
    "    return (int)codes[0];",
    "logits_from_codes": "@N@_code_t codes[@M@_N_FEATURES] = {0};\n    int32_t out[@M@_N_OUTPUTS];\n"
    "    (void)x;\n    @N@_logits_from_codes(codes, out);\n    return (int)out[0];",
    "logits": "int32_t out[@M@_N_OUTPUTS];\n    @N@_logits(x, out);\n    return (int)out[0];",
    "predict_classifier": "return @N@_predict(x);",
    "predict_multilabel": "int labels[@M@_N_OUTPUTS];\n    return @N@_predict(x, labels);",
    "predict_regressor": "float out[@M@_N_OUTPUTS];\n    @N@_predict(x, out);\n    return out[0] > 0.0f;",
}
_ONE_FUNCTION = r"""#include "@HEADER@"

int main(void)
{
    const float x[@M@_N_FEATURES] = {0.0f};
    @CALL@
}
"""


@pytest.mark.parametrize(
    "case",
    [
        "w2_per_channel_tanh",
        "w4_per_channel_multilabel",
        "w3_identity_two_target_regressor",
        "w4_input8_poisson_regressor",
        "int64_accumulators",
    ],
)
def test_each_function_alone_compiles_warning_free(case, fitted, gcc, tmp_path):
    model = fitted(case)[0].export_integer()
    name = "one"
    header = model.to_c(tmp_path / "one.h", name=name)
    kind = _kind(model)
    for function in ["quantize_input", "logits_from_codes", "logits", f"predict_{kind}"]:
        source = tmp_path / f"{function}.c"
        source.write_text(_fill(_ONE_FUNCTION, name, HEADER=header.name, CALL=_fill(_CALLS[function], name)))
        _compile(gcc, source, tmp_path / function, [*STRICT, *PICKY, "-O2"])
        _compile(gcc, source, tmp_path / f"{function}.o", ["-std=c99", "-Os", "-Werror", "-Wall"], link=False)


# ----------------------------------------------------------------------
# Header contents and errors
# ----------------------------------------------------------------------
def test_header_macros_and_labels(gcc, tmp_path, iris):
    """Macros, the code typedef and escaped string labels, read back by a compiled program."""
    X, y = iris
    names = np.array(["plain", 'quo"te\\back', "tri??=graph */ x"])
    est = QuantizedMLPClassifier(hidden_layer_sizes=(8,), weight_bits=4, max_iter=20, random_state=0)
    est.fit(X, names[y])
    model = est.export_integer()
    header = model.to_c(tmp_path, name="labels")
    assert header == tmp_path / "labels.h"
    text = header.read_text()
    for macro in ["N_FEATURES 4\n", "N_OUTPUTS 3\n", "N_CLASSES 3\n", "LOGIT_SCALE ", "INPUT_QMAX "]:
        assert f"#define LABELS_{macro}" in text
    # The default input grid: 8-bit, symmetric, one scale per feature.
    assert "typedef int8_t labels_code_t;" in text
    assert "LABELS_CLASS_LABELS" not in text
    program = tmp_path / "names.c"
    program.write_text(
        '#include <stdio.h>\n#include "labels.h"\n'
        "int main(void)\n{\n    static const char *const names[] = LABELS_CLASS_NAMES;\n    unsigned i;\n"
        '    for (i = 0; i < LABELS_N_CLASSES; ++i) {\n        printf("%s\\n", names[i]);\n    }\n'
        '    printf("%.9g\\n", (double)LABELS_LOGIT_SCALE);\n    return 0;\n}\n'
    )
    exe = _compile(gcc, program, tmp_path / "names")
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[:3] == list(model.classes_)
    assert float(lines[3]) == pytest.approx(model.logit_scale, rel=1e-6)


def test_float32_requantization_is_refused(fitted, tmp_path):
    est = fitted("w1_relu_multiclass")[0]
    with pytest.raises(ValueError, match="requantize='fixed_point'"):
        est.export_integer(requantize="float32").to_c(tmp_path / "m.h")
    assert not (tmp_path / "m.h").exists()


@pytest.mark.parametrize("name", ["", "1model", "my-model", "int", "__x", "_Model", "model name", 3])
def test_name_must_be_a_c_identifier(fitted, name):
    model = fitted("w1_relu_multiclass")[0].export_integer()
    with pytest.raises(ValueError, match="name"):
        c_header_source(model, name)


def test_header_is_deterministic_and_ascii(fitted, tmp_path):
    model = fitted("w4_asymmetric_logistic")[0].export_integer()
    first = model.to_c(tmp_path / "a.h", name="digits").read_bytes()
    assert first == model.to_c(tmp_path / "b.h", name="digits").read_bytes()
    first.decode("ascii")
    text = first.decode()
    assert "malloc" not in text and "math.h" not in text
    assert text.count("#include") == 1
