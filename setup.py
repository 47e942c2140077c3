"""Build the optional fused fake-quantize kernel; everything else is in pyproject.toml.

The extension is plain C over the CPython API (no torch headers), so it
builds in a second with any C compiler. It is optional: where it cannot be
built, skqat falls back to its pure torch kernels (``skqat._fused.available``).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -ffp-contract=off: no fused multiply-adds, so the forward pass rounds like
# torch's separate kernels and gives the same integer codes.
# -fopenmp-simd: honour the kernels' "omp simd" loops (no OpenMP runtime).
_UNIX_FLAGS = ["-O3", "-fopenmp-simd", "-ffp-contract=off"]


class _BuildExt(build_ext):
    def build_extensions(self):
        flags = ["/O2", "/fp:precise"] if self.compiler.compiler_type == "msvc" else _UNIX_FLAGS
        for extension in self.extensions:
            extension.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "skqat._fused_quant",
            ["skqat/_fused_quant.c"],
            depends=["skqat/_fused_quant_kernels.h"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": _BuildExt},
)
