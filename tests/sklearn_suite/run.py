"""Run scikit-learn's adapted MLP tests in each mode and report the counts.

Usage::

    python tests/sklearn_suite/run.py                  # control, float and 8bit
    python tests/sklearn_suite/run.py --mode 8bit      # one mode

Each mode runs in its own pytest process with ``SKQAT_SUITE_MODE`` set (see
``suite_estimators.py``). The exit status is non-zero if any test fails in
any mode, or if the copy cannot be generated.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import EditDoesNotApply, generate  # noqa: E402
from suite_estimators import MODES  # noqa: E402

_COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)")


def run_mode(test_file: Path, mode: str, extra: list[str]) -> tuple[int, dict[str, int], str]:
    env = dict(
        os.environ,
        SKQAT_SUITE_MODE=mode,
        PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-rfEsxX", "-p", "no:cacheprovider", *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=test_file.parent,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {
        kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in _COUNT.findall(summary)
    }
    return result.returncode, counts, result.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    modes = MODES if args.mode == "all" else (args.mode,)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            test_file = generate(Path(tmp))
        except EditDoesNotApply as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        status = 0
        for mode in modes:
            code, counts, output = run_mode(test_file, mode, args.pytest_args)
            kinds = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
            print(f"{mode:8s} " + ", ".join(f"{counts.get(k, 0)} {k}" for k in kinds))
            details = [
                line
                for line in output.splitlines()
                if line.startswith(("FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS"))
            ]
            for line in details:
                print(f"    {line}")
            status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
