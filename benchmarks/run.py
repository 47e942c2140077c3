"""Side-by-side benchmark of skqat against its peers, each fit in a fresh process.

Usage::

    python benchmarks/run.py            # full run, 3 repeats
    python benchmarks/run.py --quick    # smoke run: short training, 1 repeat

Prints a markdown table of medians and of fit-time ratios to scikit-learn,
and writes it to ``docs/results/benchmark.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _systems import SYSTEMS  # noqa: E402
from _workloads import WORKLOADS  # noqa: E402

METRICS = ["fit_s", "accuracy", "predict_1_ms", "predict_all_ms", "peak_rss_mb"]


def run_once(system: str, workload: str, quick: bool) -> dict:
    command = [sys.executable, str(HERE / "_worker.py"), "--system", system, "--workload", workload]
    if quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {"system": system, "workload": workload, "error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = [
        "| workload | system | fit s | fit / sklearn | accuracy "
        "| predict 1 row ms | predict all ms | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    baseline = {r["workload"]: r["fit_s"] for r in rows if r["system"] == "sklearn" and "fit_s" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['system']} | not run: {r['error']} | | | | | |")
            continue
        ratio = r["fit_s"] / baseline[r["workload"]] if r["workload"] in baseline else float("nan")
        lines.append(
            f"| {r['workload']} | {r['system']} | {r['fit_s']:.3f} | {ratio:.2f} | {r['accuracy']:.4f} "
            f"| {r['predict_1_ms']:.3f} | {r['predict_all_ms']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", nargs="*", default=sorted(WORKLOADS))
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "benchmark.md"))
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    summary = []
    for workload in args.workloads:
        runs = {system: [] for system in args.systems}
        # Interleave systems across repeats so machine noise hits all of them alike.
        for _ in range(repeats):
            for system in args.systems:
                runs[system].append(run_once(system, workload, args.quick))
        for system, results in runs.items():
            ok = [r for r in results if "error" not in r]
            if not ok:
                summary.append(results[0])
                continue
            summary.append(
                {
                    "system": system,
                    "workload": workload,
                    **{m: statistics.median(r[m] for r in ok) for m in METRICS},
                }
            )

    text = table(summary)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = "quick smoke run" if args.quick else f"medians of {repeats} fresh-process runs"
    out.write_text(f"# Benchmark ({header})\n\n{text}\n")


if __name__ == "__main__":
    main()
