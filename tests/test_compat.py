"""Private torch and scikit-learn APIs are used through skqat._compat only."""

import re
from pathlib import Path

import skqat._compat as compat

PACKAGE = Path(compat.__file__).parent
PRIVATE = re.compile(
    r"torch\._foreach_|torch\._fused_|torch\.ops\.aten|sklearn\.utils\._|import _check_"
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


def test_compat_names_resolve_on_this_torch():
    # Each private name exists in the installed torch; the fused Adam kernel may be absent.
    for name in compat.__all__:
        if name != "fused_adam_":
            assert getattr(compat, name) is not None, name
    assert compat.aten.threshold_backward is not None and len(compat.TORCH_VERSION) == 2
