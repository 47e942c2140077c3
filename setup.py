"""Build the optional fused fake-quantize kernel; everything else is in pyproject.toml.

The extension is plain C over the CPython API (no torch headers), so it
builds in a second with any C compiler. It is optional: where it cannot be
built, skqat falls back to its pure torch kernels (``skqat._fused.available``).

``SKQAT_NO_EXTENSION=1`` skips it on purpose: CI installs that way to test the
fallback a machine without a compiler gets.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

# -ffp-contract=off: no fused multiply-adds, so the forward pass rounds like
# torch's separate kernels and gives the same integer codes.
# -fopenmp-simd: honour the kernels' "omp simd" loops.
_UNIX_FLAGS = ["-O3", "-fopenmp-simd", "-ffp-contract=off"]
# On Linux the kernels also run on torch's OpenMP threads: torch's wheels load
# libgomp.so.1, and linking the same soname shares that one runtime
# (skqat._fused checks it at import and otherwise stays on one thread).
_OPENMP_FLAGS = ["-fopenmp"]


class _BuildExt(build_ext):
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        for extension in self.extensions:
            extension.extra_compile_args = ["/O2", "/fp:precise"] if msvc else list(_UNIX_FLAGS)
        if not msvc and sys.platform.startswith("linux"):
            try:
                self._build_with(_OPENMP_FLAGS)
                return
            except (CompileError, LinkError):
                # No OpenMP in this compiler: one-threaded kernels are still worth having.
                pass
        super().build_extensions()

    def _build_with(self, flags):
        for extension in self.extensions:
            extension.extra_compile_args = [*_UNIX_FLAGS, *flags]
            extension.extra_link_args = list(flags)
            # optional=True would swallow the failure this build must see.
            extension.optional = False
        try:
            super().build_extensions()
        finally:
            for extension in self.extensions:
                extension.extra_compile_args = list(_UNIX_FLAGS)
                extension.extra_link_args = []
                extension.optional = True


_EXTENSIONS = [
    Extension(
        "skqat._fused_quant",
        ["skqat/_fused_quant.c"],
        depends=["skqat/_fused_quant_kernels.h"],
        optional=True,
    )
]

setup(
    ext_modules=[] if os.environ.get("SKQAT_NO_EXTENSION") == "1" else _EXTENSIONS,
    cmdclass={"build_ext": _BuildExt},
)
