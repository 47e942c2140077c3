"""A pandas DataFrame with mixed columns through a ColumnTransformer into a quantized MLP
======================================================================================

UCI Adult (income above or below 50K): categorical columns are imputed and
one-hot encoded, numeric columns standardized, and a 4-bit
``QuantizedMLPClassifier`` learns from string labels. Prints the
classification report on the official test file and the model's size.

Run it with::

    python examples/adult_pipeline.py [--data-dir ../shared/data]

``--data-dir`` is the folder holding ``adult/adult.data`` and
``adult/adult.test`` (default: ``../shared/data`` from the repository root).
"""

# %%
# Options
# -------
# The data files are read from ``--data-dir``.

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import classification_report
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skqat import QuantizedMLPClassifier

# sys.argv[0] is this file, under python and under sphinx-gallery (which defines no __file__).
ROOT = Path(sys.argv[0]).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--data-dir", default=str(ROOT / ".." / "shared" / "data"))
args = parser.parse_args()

# %%
# Load the data
# -------------
# Two CSV files without a header row. Missing values are written ``?``; the
# test file has an extra first line and labels ending in ``.``.

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
read = {"header": None, "names": COLUMNS, "skipinitialspace": True, "na_values": "?"}
train = pd.read_csv(Path(args.data_dir) / "adult" / "adult.data", **read)
test = pd.read_csv(Path(args.data_dir) / "adult" / "adult.test", skiprows=1, **read)
test["income"] = test["income"].str.rstrip(".")
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
