"""Private torch and scikit-learn APIs are used through skqat._compat only."""

import re
from pathlib import Path

import skqat._compat as compat

PACKAGE = Path(compat.__file__).parent
PRIVATE = re.compile(
    r"torch\._foreach_|torch\._fused_|torch\.ops\.aten|\bops\.aten\b|from torch import ops"
    r"|sklearn\.utils\._|import _check_"
    r"|from sklearn[\w.]* import .*\b_[a-z]"
)


def test_private_apis_live_in_compat_only():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_compat.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE.search(line) and not line.lstrip().startswith("#") and "``" not in line
    ]
    assert not offenders, "\n".join(offenders)


def test_compat_all_names_what_it_defines():
    # ``__all__`` is not checked at import: a name listed but not bound (or misspelled) fails here.
    assert [name for name in compat.__all__ if not hasattr(compat, name)] == []


def test_aten_operators_skqat_calls_exist_in_this_torch():
    # ``aten.<op>`` resolves on call, not at import: an operator that a torch release renames or
    # drops would fail only in the middle of a fit. Every one named in skqat's source exists here.
    called = {op for path in PACKAGE.rglob("*.py") for op in re.findall(r"\baten\.(\w+)\(", path.read_text())}
    assert {"threshold_backward", "nll_loss_forward", "nll_loss_backward"} <= called  # the scan finds them
    missing = sorted(op for op in called if not hasattr(compat.aten, op))
    assert not missing, missing
