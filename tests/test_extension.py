"""The fused C extension is built, unless the install was told to skip it."""

import os

from skqat import _fused


def test_extension_is_built_unless_disabled():
    # CI and the README's install build it; a silent fallback would hide a broken build.
    # CI's fallback leg installs with SKQAT_NO_EXTENSION=1 (setup.py skips it).
    if os.environ.get("SKQAT_NO_EXTENSION") == "1":
        assert not _fused.available, "SKQAT_NO_EXTENSION=1 but skqat._fused_quant is importable"
    else:
        assert _fused.available, "skqat._fused_quant is not built: `pip install -e .` with a C compiler"
