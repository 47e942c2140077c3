"""Write an adapted copy of the installed scikit-learn's ``test_mlp.py`` that tests skqat.

Every adaptation is one exact text edit listed in :data:`EDITS`, with its
reason. Each edit's ``old`` text must occur exactly once in scikit-learn's
file; if a newer scikit-learn changes the file so that an edit no longer
applies, generation stops with an error that names the edit, instead of
silently testing something else.

The copy imports ``MLPClassifier`` and ``MLPRegressor`` from
``suite_estimators``, which picks scikit-learn's estimators or skqat's by
``SKQAT_SUITE_MODE`` (see ``run.py``).

Usage::

    python tests/sklearn_suite/generate.py OUT_DIR
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import sklearn

SOURCE = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"

#: The only reasons a test may be skipped.
SKIP_LBFGS = "uses solver='lbfgs', which skqat does not offer"
SKIP_PRIVATE = "sets private scikit-learn attributes to drive the solver by hand"


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (which must occur exactly once) by ``new``, because ``reason``."""

    reason: str
    old: str
    new: str


def _skip(test: str, reason_name: str) -> Edit:
    """Skip ``test`` with the reason named (a module constant of the copy)."""
    reason = {"SKIP_LBFGS": SKIP_LBFGS, "SKIP_PRIVATE": SKIP_PRIVATE}[reason_name]
    return Edit(reason, f"\ndef {test}(", f"\n@pytest.mark.skip(reason={reason_name})\ndef {test}(")


def _xfail_8bit(test: str, reason: str) -> Edit:
    """Expect ``test`` to fail in 8-bit mode only, for a measured reason that quantization causes."""
    return Edit(
        f"8-bit only: {reason}",
        f"\ndef {test}(",
        f'\n@pytest.mark.xfail(MODE == "8bit", reason={reason!r}, strict=True)\ndef {test}(',
    )


#: Measured in 8-bit mode (scikit-learn 1.9.1); strict, so a test that starts passing is noticed.
XFAILS_8BIT = {
    "test_mlp_classifier_dtypes_casting": (
        "float32 and float64 training round a few latent weights to different 8-bit codes; 3 of 120 "
        "probabilities then differ by up to 4.8% against the test's rtol of 1%"
    ),
    "test_mlp_regressor_dtypes_casting": (
        "float32 and float64 training round latent weights to different 8-bit codes; predictions "
        "differ by up to 0.07 against the test's rtol of 5e-4"
    ),
    "test_mlp_loading_from_joblib_partial_fit": (
        "the output moves in steps of the 8-bit weight and activation grids as codes flip; after "
        "200 partial_fit calls it is 1.3e-4 from the target against the test's rtol of 1e-4"
    ),
    "test_mlp_diverging_loss": (
        "8-bit weight grids clip the weights, so learning_rate_init=1 leaves a poor finite model "
        "(validation R^2 -9.1) instead of NaN validation scores"
    ),
}

EDITS: list[Edit] = [
    Edit(
        "test skqat (or, in control mode, scikit-learn) through suite_estimators",
        "from sklearn.neural_network import MLPClassifier, MLPRegressor\n",
        "from suite_estimators import MODE, MLPClassifier, MLPRegressor, no_improvement_count\n\n"
        f"SKIP_LBFGS = {SKIP_LBFGS!r}\nSKIP_PRIVATE = {SKIP_PRIVATE!r}\n",
    ),
    _skip("test_fit", "SKIP_PRIVATE"),
    _skip("test_gradient", "SKIP_LBFGS"),
    _skip("test_lbfgs_classification", "SKIP_LBFGS"),
    _skip("test_lbfgs_regression", "SKIP_LBFGS"),
    _skip("test_lbfgs_classification_maxfun", "SKIP_LBFGS"),
    _skip("test_lbfgs_regression_maxfun", "SKIP_LBFGS"),
    _skip("test_multioutput_regression", "SKIP_LBFGS"),
    _skip("test_predict_proba_multilabel", "SKIP_LBFGS"),
    _skip("test_sparse_matrices", "SKIP_LBFGS"),
    _skip("test_warm_start", "SKIP_LBFGS"),
    _skip("test_mlp_vs_poisson_glm_equivalent", "SKIP_LBFGS"),
    Edit(
        "lbfgs: the lbfgs half of the test is dropped; its SGD partial_fit half still runs",
        """    mlp = MLPClassifier(
        solver="lbfgs",
        hidden_layer_sizes=50,
        alpha=1e-5,
        max_iter=150,
        random_state=0,
        activation="logistic",
        learning_rate_init=0.2,
    )
    mlp.fit(X, y)
    assert mlp.score(X, y) > 0.97
""",
        "",
    ),
    Edit(
        "lbfgs: skqat has no lbfgs solver to lack partial_fit",
        """    # lbfgs doesn't support partial_fit
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
""",
        "",
    ),
    Edit(
        "lbfgs: the lbfgs case of the solver parametrization is skipped",
        '@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])\n',
        '@pytest.mark.parametrize(\n    "solver",\n    ["sgd", "adam", '
        'pytest.param("lbfgs", marks=pytest.mark.skip(reason=SKIP_LBFGS))],\n)\n',
    ),
    Edit(
        "read the no-improvement counter through a helper (skqat keeps it in its monitor)",
        "assert clf._no_improvement_count == n_iter_no_change + 1",
        "assert no_improvement_count(clf) == n_iter_no_change + 1",
    ),
    Edit(
        "read the no-improvement counter through a helper (skqat keeps it in its monitor)",
        "assert clf._no_improvement_count == clf.n_iter_ - 1",
        "assert no_improvement_count(clf) == clf.n_iter_ - 1",
    ),
    *(_xfail_8bit(test, reason) for test, reason in XFAILS_8BIT.items()),
]


class EditDoesNotApply(RuntimeError):
    """An edit's text is not in scikit-learn's file exactly once."""


def adapt(text: str, edits: list[Edit] = EDITS) -> str:
    """Apply every edit to ``text``; raise :class:`EditDoesNotApply` naming the first that fails."""
    for number, edit in enumerate(edits, 1):
        count = text.count(edit.old)
        if count != 1:
            first_line = edit.old.strip().splitlines()[0]
            raise EditDoesNotApply(
                f"edit {number} ({edit.reason}) expects its text once in {SOURCE} "
                f"(scikit-learn {sklearn.__version__}) but finds it {count} times: {first_line!r}. "
                "Update tests/sklearn_suite/generate.py for this scikit-learn."
            )
        text = text.replace(edit.old, edit.new)
    return text


def generate(out_dir: Path) -> Path:
    """Write the adapted copy into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Generated by tests/sklearn_suite/generate.py from scikit-learn {sklearn.__version__}'s\n"
        f"# {SOURCE.name}; do not edit. {len(EDITS)} listed edits.\n"
    )
    path = out_dir / "test_mlp_adapted.py"
    path.write_text(header + adapt(SOURCE.read_text()))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        print(generate(args.out_dir))
    except EditDoesNotApply as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
