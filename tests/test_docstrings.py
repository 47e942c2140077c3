"""numpydoc validation of the public API, with scikit-learn's conventions."""

import pytest

import skqat
import skqat.plot

numpydoc_validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc is not installed (the test extra has it)"
)

# Checks scikit-learn's own docstring test also leaves out: a See Also section,
# an extended summary and examples on every method, and "self : object" on the
# first Returns line.
IGNORED = {"SA01", "ES01", "EX01", "RT02"}

ESTIMATOR_METHODS = [
    "fit",
    "partial_fit",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "score",
    "export_integer",
    "quantization_report",
    "input_grid_report",
]


def _public_names():
    names = [f"skqat.{n}" for n in skqat.__all__ if n not in ("__version__", "SKOPS_TRUSTED_TYPES")]
    names += [f"skqat.plot.{n}" for n in skqat.plot.__all__]
    for estimator in ("QuantizedMLPClassifier", "QuantizedMLPRegressor"):
        cls = getattr(skqat, estimator)
        names += [f"skqat.{estimator}.{m}" for m in ESTIMATOR_METHODS if hasattr(cls, m)]
    return names


@pytest.mark.parametrize("name", _public_names())
def test_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code not in IGNORED]
    assert not errors, "\n".join(errors)


def test_class_docstring_renders_every_parameter_at_one_indent():
    # The shared parameter text is spliced in: each name at the section's
    # indentation, its description one level in, as help() shows them.
    import inspect
    import re

    for cls in (skqat.QuantizedMLPClassifier, skqat.QuantizedMLPRegressor):
        doc = inspect.getdoc(cls)
        for name in inspect.signature(cls).parameters:
            # "name : type", or a shared entry such as "beta_1, beta_2 : float".
            entry = re.search(rf"^(\w+, )*{name}(, \w+)* : .*\n    \S", doc, re.MULTILINE)
            assert entry, f"{cls.__name__}: {name} is not documented at column 0 with an indented description"
