"""The machine a benchmark ran on, as its results file states it."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_description() -> str:
    """The CPU model name and its VNNI flags, from /proc/cpuinfo (Linux), else the platform string.

    Timings and onnxruntime's integer kernels both depend on it (VNNI or not), so every results file
    names it.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line), "?")
    flags = next(
        (line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []
    )
    vnni = [f for f in ("avx512_vnni", "avx_vnni") if f in flags]
    vnni_text = "with " + " and ".join(vnni) if vnni else "no VNNI"
    return f"{model}, {vnni_text}, {'AVX-512' if 'avx512f' in flags else 'no AVX-512'}"
