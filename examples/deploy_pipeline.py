"""Deploy a whole pipeline: raw Adult rows to a C program, with the pipeline's answers
====================================================================================

UCI Adult from its raw columns: a ``ColumnTransformer`` imputes and
standardizes the 6 numeric columns, imputes and one-hot encodes the 8
categorical ones, and a 4-bit ``QuantizedMLPClassifier`` learns the income
class. ``skqat.export_integer(pipeline)`` folds the whole pipeline into one
integer model: the scalers run scikit-learn's own operations on the raw
numbers, and each categorical column adds one stored row of first-layer
accumulators (no one-hot vector). ``to_c`` writes it as one C99 header.

A small C program then reads the official test file **as it is on disk**
(comma-separated text, ``?`` for missing), turns each category string into
its index with the header's ``ADULT_CATEGORIES_<j>`` lists, and prints a class
per row. The script checks that these are the classes ``pipeline.predict``
gives, and prints the flash size of the compiled model.

Run it with::

    python examples/deploy_pipeline.py [--data-dir DIR]

It needs ``gcc`` and ``size`` on the ``PATH``. The data are the files
``adult/adult.data`` and ``adult/adult.test`` in ``--data-dir``, else in
``$SKQAT_DATA_DIR``, else in ``../shared/data`` from the repository root.
Without them, as in a fresh clone, the script says so and writes random rows
in the same raw format instead, so that the documentation still builds; its
numbers are then not Adult's. Everything it writes goes to a temporary folder.
"""

# %%
# Fit the pipeline on raw columns
# -------------------------------
# The DataFrame holds the columns as the file stores them (``?`` read as
# NaN); the pipeline does everything else.

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skqat

# sys.argv[0] is this file, under python and under sphinx-gallery (which defines no __file__).
ROOT = Path(sys.argv[0]).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument(
    "--data-dir", help="folder holding adult/ (default: $SKQAT_DATA_DIR, else ../shared/data)"
)
args = parser.parse_args()
given = args.data_dir or os.environ.get("SKQAT_DATA_DIR")
data_dir = Path(given) if given else ROOT / ".." / "shared" / "data"
train_file, test_file = data_dir / "adult" / "adult.data", data_dir / "adult" / "adult.test"
if shutil.which("gcc") is None or shutil.which("size") is None:
    raise SystemExit("this example needs gcc and size on the PATH")
if args.data_dir and not (train_file.is_file() and test_file.is_file()):
    parser.error(f"--data-dir {data_dir}: no adult/adult.data and adult/adult.test there")

COLUMNS = (
    "age workclass fnlwgt education education-num marital-status occupation relationship race sex "
    "capital-gain capital-loss hours-per-week native-country income"
).split()
tmpdir = tempfile.TemporaryDirectory()
tmp = Path(tmpdir.name)
if not (train_file.is_file() and test_file.is_file()):
    print(f"No Adult files in {data_dir}: random rows in Adult's raw format instead (not Adult's numbers).")
    rng = np.random.default_rng(0)

    def fake(path, n, first_line=""):
        words = [[f"{c}-{k}" for k in range(5)] + ["?"] for c in COLUMNS]
        rows = [
            ", ".join(
                str(rng.integers(0, 100)) if j in (0, 2, 4, 10, 11, 12) else str(rng.choice(words[j]))
                for j in range(14)
            )
            + (", >50K" if rng.random() < 0.3 else ", <=50K")
            for _ in range(n)
        ]
        path.write_text(first_line + "\n".join(rows) + "\n")

    train_file, test_file = tmp / "adult.data", tmp / "adult.test"
    fake(train_file, 2000)
    fake(test_file, 1000, "|1x3 Cross validator\n")
read = {"header": None, "names": COLUMNS, "skipinitialspace": True, "na_values": "?"}
train = pd.read_csv(train_file, **read)
test = pd.read_csv(test_file, skiprows=1, **read)
y_train = train.pop("income")
y_test = test.pop("income").str.rstrip(".")

preprocess = ColumnTransformer(
    [
        (
            "num",
            make_pipeline(SimpleImputer(), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
        (
            "cat",
            make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
            make_column_selector(dtype_exclude="number"),
        ),
    ]
)
pipeline = make_pipeline(
    preprocess,
    skqat.QuantizedMLPClassifier(hidden_layer_sizes=(32,), weight_bits=4, max_iter=20, random_state=0),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # convergence warnings of the short fit
    pipeline.fit(train, y_train)
print(f"pipeline.predict accuracy on adult.test: {np.mean(pipeline.predict(test) == y_test):.4f}")

# %%
# Fold it into one integer model
# ------------------------------
# The numpy model predicts from the same raw DataFrame; it is what the C
# header computes.

model = skqat.export_integer(pipeline)
print(model)
print(f"numeric columns: {model.numeric_columns}")
print(f"categorical columns: {model.categorical_columns}")
same = np.mean(model.predict(test) == pipeline.predict(test))
print(f"IntegerPipeline.predict equals pipeline.predict on {same:.2%} of the test rows")

# %%
# The C program
# -------------
# It reads a line of the raw file, splits it at commas, and fills the two
# arrays the header takes: ``numeric`` (the numeric columns, NaN for ``?``)
# and ``category`` (per categorical column, the index of the string among
# ``ADULT_CATEGORIES_<j>``, -1 when absent, -2 for ``?``). Which file column
# goes where is written from ``model.numeric_columns`` and
# ``model.categorical_columns``.

roles = []
for column in COLUMNS[:-1]:
    if column in model.numeric_columns:
        roles.append(model.numeric_columns.index(column))
    elif column in model.categorical_columns:
        roles.append(-1 - model.categorical_columns.index(column))
    else:
        roles.append(-1000)  # not read by the pipeline
lists = ",\n    ".join(
    f"{{ADULT_CATEGORIES_{j}_COUNT, adult_categories_{j}}}" for j in range(len(model.categorical_columns))
)
declarations = "\n".join(
    f"static const char *const adult_categories_{j}[] = ADULT_CATEGORIES_{j};\n"
    f"#define ADULT_CATEGORIES_{j}_COUNT ((int)(sizeof adult_categories_{j} / sizeof *adult_categories_{j}))"
    for j in range(len(model.categorical_columns))
)
PROGRAM = f"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adult_model.h"

{declarations}
struct list {{ int count; const char *const *names; }};
static const struct list categories[ADULT_N_CATEGORICAL] = {{
    {lists}
}};
/* Per file column: >= 0 its place in numeric[], < 0 -(1 + its place in category[]). */
static const int roles[{len(roles)}] = {{{", ".join(map(str, roles))}}};

static char *trim(char *s) {{
    char *end;
    while (*s == ' ') ++s;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\\n' || end[-1] == '\\r')) *--end = 0;
    return s;
}}

int main(void) {{
    char line[4096];
    float numeric[ADULT_N_NUMERIC];
    int32_t category[ADULT_N_CATEGORICAL];
    while (fgets(line, sizeof line, stdin)) {{
        char *field = line;
        int column;
        if (strchr(line, ',') == NULL) continue; /* the header line and blank lines */
        for (column = 0; column < {len(roles)}; ++column) {{
            char *comma = strchr(field, ',');
            char *value;
            int role = roles[column];
            if (comma) *comma = 0;
            value = trim(field);
            if (role >= 0) {{
                const char *number = strcmp(value, "?") == 0 ? "nan" : value;
                numeric[role] = (float)strtod(number, NULL);
            }} else if (role > -1000) {{
                const struct list *names = &categories[-1 - role];
                int k;
                category[-1 - role] = strcmp(value, "?") == 0 ? -2 : -1;
                for (k = 0; k < names->count && category[-1 - role] == -1; ++k)
                    if (strcmp(value, names->names[k]) == 0) category[-1 - role] = k;
            }}
            field = comma ? comma + 1 : field + strlen(field);
        }}
        printf("%d\\n", adult_predict(numeric, category));
    }}
    return 0;
}}
"""

# %%
# Write, compile, run on the raw file
# -----------------------------------

header = model.to_c(tmp / "adult_model.h", name="adult")
(tmp / "main.c").write_text(PROGRAM)
flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
subprocess.run(["gcc", *flags, "-o", str(tmp / "adult"), str(tmp / "main.c")], check=True)
with open(test_file, "rb") as raw:
    run = subprocess.run([str(tmp / "adult")], stdin=raw, capture_output=True, check=True)
c_classes = pipeline.classes_[np.array(run.stdout.decode().split(), dtype=int)]

# %%
# Compare, and the flash footprint
# --------------------------------
# The C classes against ``pipeline.predict`` on the same rows. (Adult's
# numeric columns are integers, so the C program's ``float`` holds them
# exactly.) Then the model compiled for size (``gcc -Os``) with one caller of
# ``adult_predict``.

expected = pipeline.predict(test)
print(f"C program rows: {len(c_classes)}; equal to pipeline.predict: {np.mean(c_classes == expected):.2%}")
(tmp / "flash.c").write_text(
    '#include "adult_model.h"\nint f(const float *n, const int32_t *c) { return adult_predict(n, c); }\n'
)
subprocess.run(["gcc", "-std=c99", "-Os", "-c", "-o", str(tmp / "flash.o"), str(tmp / "flash.c")], check=True)
size = subprocess.run(["size", str(tmp / "flash.o")], capture_output=True, text=True, check=True).stdout
print(f"compiled model (gcc -Os, size):\n{size}")
print(f"model.nbytes: {model.nbytes} bytes")
tmpdir.cleanup()

# sphinx_gallery_thumbnail_path = "thumbnails/deploy_microcontroller.png"
