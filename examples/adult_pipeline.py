"""A pandas DataFrame with mixed columns through a ColumnTransformer into a quantized MLP
======================================================================================

UCI Adult (income above or below 50K): categorical columns are imputed and
one-hot encoded, numeric columns standardized, and a 4-bit
``QuantizedMLPClassifier`` learns from string labels. Prints the
classification report on the official test file and the model's size.

Run it with::

    python examples/adult_pipeline.py [--data-dir DIR]

The data are the files ``adult/adult.data`` and ``adult/adult.test`` in
``--data-dir``, else in the folder named by the ``SKQAT_DATA_DIR``
environment variable, else in ``../shared/data`` from the repository root
(the README says where that folder comes from). Without them, as in a fresh
clone, the script says so and runs on a synthetic table with the same
columns instead, so that the documentation still builds; its numbers are then
not Adult's. A ``--data-dir`` without the files is an error.
"""

# %%
# Options
# -------
# Where the data files are: ``--data-dir``, else ``$SKQAT_DATA_DIR``, else
# ``../shared/data``.

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.impute import SimpleImputer
from sklearn.metrics import classification_report
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skqat import QuantizedMLPClassifier

# sys.argv[0] is this file, under python and under sphinx-gallery (which defines no __file__).
ROOT = Path(sys.argv[0]).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument(
    "--data-dir", help="folder holding adult/ (default: $SKQAT_DATA_DIR, else ../shared/data)"
)
args = parser.parse_args()
given = args.data_dir or os.environ.get("SKQAT_DATA_DIR")
data_dir = Path(given) if given else ROOT / ".." / "shared" / "data"
files = [data_dir / "adult" / "adult.data", data_dir / "adult" / "adult.test"]
found = all(f.is_file() for f in files)
if args.data_dir and not found:
    parser.error(f"--data-dir {data_dir}: no adult/adult.data and adult/adult.test there")

# %%
# Load the data
# -------------
# Two CSV files without a header row. Missing values are written ``?``; the
# test file has an extra first line and labels ending in ``.``. Without the
# files, a synthetic stand-in with the same columns: numeric ones, string
# ones with a few missing values, and the two income labels.

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


def synthetic_adult(n_rows, random_state=0):
    """A table with Adult's columns and types, drawn from ``make_classification``.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    random_state : int, default=0
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        Six numeric columns, eight string columns (about 2% missing) and the
        ``income`` label, ``"<=50K"`` or ``">50K"``.
    """
    # Well separated classes: early stopping ends the 30 epochs, as it does on Adult.
    X, y = make_classification(
        n_samples=n_rows, n_features=14, n_informative=8, class_sep=2.0, random_state=random_state
    )
    rng = np.random.default_rng(random_state)
    table = {}
    for j, name in enumerate(COLUMNS[:-1]):
        if name in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
            table[name] = X[:, j]
        else:  # a string column: the feature cut into five categories
            codes = np.digitize(X[:, j], [-1.0, -0.3, 0.3, 1.0])
            values = np.array([f"{name}-{code}" for code in codes], dtype=object)
            values[rng.random(n_rows) < 0.02] = np.nan
            table[name] = values
    table["income"] = np.where(y == 1, ">50K", "<=50K")
    return pd.DataFrame(table)


if found:
    read = {"header": None, "names": COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(files[0], **read)
    test = pd.read_csv(files[1], skiprows=1, **read)
    test["income"] = test["income"].str.rstrip(".")
else:
    print(
        f"UCI Adult is not in {given or '../shared/data'} "
        "(set SKQAT_DATA_DIR or --data-dir to the folder holding adult/):\n"
        "running on a synthetic stand-in with the same columns; the numbers below are not Adult's.\n"
    )
    table = synthetic_adult(6_000)
    train, test = table.iloc[:4_000], table.iloc[4_000:]
X_train, y_train = train.drop(columns="income"), train["income"]
X_test, y_test = test.drop(columns="income"), test["income"]

# %%
# The pipeline
# ------------
# The numeric columns are standardized and every other (string) column is
# imputed with its most frequent value and one-hot encoded. The classifier
# takes the ``">50K"`` / ``"<=50K"`` strings as they are, holds out 10% of
# the rows for early stopping and trains for at most 30 epochs.

numeric = list(X_train.select_dtypes(include="number").columns)
categorical = [c for c in X_train.columns if c not in numeric]
model = Pipeline(
    [
        (
            "prep",
            ColumnTransformer(
                [
                    (
                        "cat",
                        make_pipeline(
                            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                        ),
                        categorical,
                    ),
                    ("num", StandardScaler(), numeric),
                ]
            ),
        ),
        (
            "clf",
            QuantizedMLPClassifier(
                hidden_layer_sizes=(64,),
                weight_bits=4,
                activation_bits=8,
                early_stopping=True,
                max_iter=30,
                random_state=0,
            ),
        ),
    ]
)

# %%
# Fit and evaluate
# ----------------
# scikit-learn's classification report on the official test file; the
# predicted labels are the original strings.

start = time.perf_counter()
model.fit(X_train, y_train)
print(
    f"fit on {len(X_train):,} rows in {time.perf_counter() - start:.1f} s "
    f"({model.named_steps['clf'].n_iter_} epochs)\n"
)
print(classification_report(y_test, model.predict(X_test), digits=3))

# %%
# Model size
# ----------
# The per-tensor storage report of the fitted classifier, and the size of
# its packed integer export against the same network in float32.

clf = model.named_steps["clf"]
report = clf.quantization_report()
print(
    report[["layer", "tensor", "shape", "bits", "levels_used", "bytes", "compression"]].to_string(index=False)
)
integer = clf.export_integer()
print(
    f"\npacked integer model: {integer.nbytes:,} bytes "
    f"({integer.nbytes / integer.float32_nbytes:.3f} of the float32 network's {integer.float32_nbytes:,})"
)

# sphinx_gallery_thumbnail_path = "thumbnails/adult_pipeline.png"
