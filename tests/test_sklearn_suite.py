"""The generator of scikit-learn's adapted MLP suite (tests/sklearn_suite/): edits apply, or fail loudly."""

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "sklearn_suite"))
from generate import SKIP_LBFGS, SKIP_PRIVATE, SOURCE, Edit, EditDoesNotApply, adapt, generate  # noqa: E402


def test_every_edit_applies_to_the_installed_scikit_learn(tmp_path):
    text = generate(tmp_path).read_text()
    assert "from sklearn.neural_network import" not in text
    assert "from suite_estimators import" in text
    # Every skip carries one of the two written reasons.
    for line in text.splitlines():
        if "pytest.mark.skip(" in line:
            assert "reason=SKIP_LBFGS" in line or "reason=SKIP_PRIVATE" in line, line
    # The copy defines the two reasons it uses.
    assert f"SKIP_LBFGS = {SKIP_LBFGS!r}" in text and f"SKIP_PRIVATE = {SKIP_PRIVATE!r}" in text


@pytest.mark.parametrize(
    "test",
    [
        "test_multioutput_regression",
        "test_predict_proba_multilabel",
        "test_sparse_matrices",
        "test_warm_start",
    ],
)
def test_incidental_lbfgs_tests_run_with_adam(tmp_path, test):
    # These four use lbfgs only incidentally: the copy runs them, unskipped, with Adam.
    text = generate(tmp_path).read_text()
    (function,) = [node for node in ast.parse(text).body if getattr(node, "name", None) == test]
    assert not any("skip" in ast.unparse(decorator) for decorator in function.decorator_list)
    source = ast.get_source_segment(text, function)
    assert 'solver="adam"' in source and "lbfgs" not in source


@pytest.mark.parametrize("times", [0, 2])
def test_an_edit_that_does_not_match_exactly_once_fails_loudly(times):
    source = SOURCE.read_text()
    edit = Edit("example", "def test_alpha(", "def test_alpha_renamed(")
    text = source.replace("def test_alpha(", "def test_alpha_in_a_newer_release(") if times == 0 else source
    if times == 2:
        text = text + "\n\ndef test_alpha():\n    pass\n"
    with pytest.raises(EditDoesNotApply, match=f"finds it {times} times.*Update tests/sklearn_suite"):
        adapt(text, [edit])
