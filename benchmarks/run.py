"""Side-by-side benchmark of skqat against its peers, each fit in a fresh process.

Usage::

    python benchmarks/run.py                 # W1-W4, every system, 3 repeats
    python benchmarks/run.py --quick         # smoke run: W1 and a small W2, 1 repeat
    python benchmarks/run.py --workloads W1 --systems sklearn skqat-4bit --repeats 5

Each (workload, system) fit runs in a new Python process, as users meet it
(imports, first-use costs and all); repeats are interleaved across systems so
machine noise hits them alike, and the table reports medians and ratios to
scikit-learn's ``MLPClassifier``. Systems whose packages are missing are
reported as not installed (``pip install -r benchmarks/requirements.txt``).

Writes ``docs/results/benchmark.md`` and ``docs/results/benchmark.png`` (the
fit-time ratios), or the paths given by ``--out``.
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

METRICS = ["fit_s", "accuracy", "predict_1_ms", "predict_all_ms", "predict_10k_ms", "peak_rss_mb"]


def run_once(system: str, workload: str, quick: bool) -> dict:
    command = [sys.executable, str(HERE / "_worker.py"), "--system", system, "--workload", workload]
    if quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        if "ModuleNotFoundError" in last or "ImportError" in last:
            last = f"not installed ({last.split(':')[-1].strip()})"
        return {"system": system, "workload": workload, "error": last}
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = [
        "| workload | system | fit s | fit / sklearn | accuracy "
        "| predict 1 row ms | predict all ms | predict 10k rows ms | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    baseline = {r["workload"]: r["fit_s"] for r in rows if r["system"] == "sklearn" and "fit_s" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | {r['system']} | {r['error']} | | | | | | |")
            continue
        ratio = r["fit_s"] / baseline[r["workload"]] if r["workload"] in baseline else float("nan")
        lines.append(
            f"| {r['workload']} | {r['system']} | {r['fit_s']:.3f} | {ratio:.2f} | {r['accuracy']:.4f} "
            f"| {r['predict_1_ms']:.3f} | {r['predict_all_ms']:.2f} | {r['predict_10k_ms']:.2f} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> bool:
    """Bar chart of fit time relative to scikit-learn, per workload."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ok = [r for r in rows if "error" not in r]
    workloads = list(dict.fromkeys(r["workload"] for r in ok))
    systems = [s for s in dict.fromkeys(r["system"] for r in ok) if s != "sklearn"]
    baseline = {r["workload"]: r["fit_s"] for r in ok if r["system"] == "sklearn"}
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(workloads) * max(1, len(systems)) / 4, 3.8))
    width = 0.8 / max(1, len(systems))
    for i, system in enumerate(systems):
        values = [
            next((r["fit_s"] / baseline[w] for r in ok if r["system"] == system and r["workload"] == w), 0.0)
            if w in baseline
            else 0.0
            for w in workloads
        ]
        ax.bar([k + i * width for k in range(len(workloads))], values, width, label=system)
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="scikit-learn")
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(workloads))], workloads)
    ax.set_ylabel("fit time / scikit-learn MLP")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", nargs="*", default=None, choices=sorted(WORKLOADS))
    parser.add_argument("--systems", nargs="*", default=None, choices=list(SYSTEMS))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "benchmark.md"))
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    workloads = args.workloads or (["W1", "W2"] if args.quick else sorted(WORKLOADS))
    systems = args.systems or (
        ["sklearn", "torch-loop", "skqat-float", "skqat-4bit"] if args.quick else list(SYSTEMS)
    )

    summary = []
    for workload in workloads:
        runs = {system: [] for system in systems}
        for _ in range(repeats):
            for system in systems:
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
    if chart(summary, out.with_suffix(".png")):
        print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
