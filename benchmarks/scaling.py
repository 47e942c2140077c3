"""How fit's memory and time scale with rows: skqat holding codes, skqat holding floats, scikit-learn.

Usage::

    python benchmarks/scaling.py                          # 100k, 1M, 3M and 10M rows, 1 epoch
    python benchmarks/scaling.py --rows 100000 1000000 --before /path/to/older/checkout

The data: the W2 problem (``make_classification``, 100 features, 10
classes, standardized, float32) at 1,000,000 rows; larger sizes repeat those
rows with a little Gaussian jitter. It is written once to ``--data-dir`` as
``.npy`` files, and every measurement runs in a fresh process that reads its
rows from them, imports torch, skqat and scikit-learn, and only then starts
counting: the memory reported is what ``fit`` adds to that process's peak
resident set size (sampled every 5 ms), beyond the data it was given.

The model: hidden (256, 128), batch 256, one epoch. skqat trains with 4-bit
weights, 8-bit activations and its default 8-bit per-feature input grid:

- ``skqat, codes``: once the input grid is fixed, fit holds the training
  rows as int8 codes and decodes each batch (``TrainingData.hold_codes =
  "always"``; by default fit does this for rows it copied);
- ``skqat, floats``: the same fit reading the caller's float rows in place
  (``"never"``; the default for a caller's C-contiguous float array, which
  these are); the same model, bit for bit;
- ``skqat <before>``: with ``--before PATH``, the skqat checkout at PATH
  (what the float copy of earlier releases cost);
- ``scikit-learn``: ``MLPClassifier`` with the same layers, batch and epoch,
  up to ``--sklearn-max-rows`` rows (it takes minutes per million).

Writes ``docs/results/scaling.md`` and ``docs/results/scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import cpu_description  # noqa: E402

BASE_ROWS = 1_000_000
N_FEATURES = 100
CHUNK_ROWS = 250_000


class PeakMemory:
    """Samples the resident set size (/proc) in a thread; ``peak - start`` is what a block added."""

    def __init__(self, interval=0.005):
        self.interval = interval

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    def __enter__(self):
        self.start = self.peak = self.rss()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def added_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def write_data(folder: Path, rows: int) -> tuple[Path, Path]:
    """``X.npy`` (float32) and ``y.npy`` with at least ``rows`` rows, written chunk by chunk."""
    from _workloads import w2_data

    folder.mkdir(parents=True, exist_ok=True)
    x_path, y_path = folder / "X.npy", folder / "y.npy"
    if x_path.exists() and np.load(x_path, mmap_mode="r").shape[0] >= rows:
        return x_path, y_path
    base_X, base_y = w2_data(BASE_ROWS)
    X = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(rows, N_FEATURES))
    y = np.empty(rows, dtype=np.int64)
    rng = np.random.default_rng(0)
    for start in range(0, rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows)
        source = np.arange(start, stop) % BASE_ROWS
        jitter = 0.0 if stop <= BASE_ROWS else 0.05
        X[start:stop] = base_X[source] + jitter * rng.standard_normal((stop - start, N_FEATURES), np.float32)
        y[start:stop] = base_y[source]
    X.flush()
    del X
    np.save(y_path, y)
    return x_path, y_path


def read_rows(x_path: Path, y_path: Path, rows: int):
    """The first ``rows`` rows, read from the files into ordinary (anonymous) memory."""
    offset = np.load(x_path, mmap_mode="r").offset  # where the array's bytes start
    X = np.fromfile(x_path, dtype=np.float32, count=rows * N_FEATURES, offset=offset)
    return X.reshape(rows, N_FEATURES), np.load(y_path)[:rows]


def measure(mode: str, rows: int, epochs: int, x_path: Path, y_path: Path) -> dict:
    """One fit in this process: seconds, and peak memory added beyond the imports and the data."""
    import warnings

    import sklearn.neural_network
    import torch  # noqa: F401 - imported before counting, as the issue's measure asks

    import skqat
    from skqat._training import TrainingData

    warnings.simplefilter("ignore")
    X, y = read_rows(x_path, y_path, rows)
    layers = dict(hidden_layer_sizes=(256, 128), batch_size=256, max_iter=epochs, random_state=0)
    if mode == "scikit-learn":
        model = sklearn.neural_network.MLPClassifier(tol=0.0, n_iter_no_change=10**9, **layers)
    else:
        model = skqat.QuantizedMLPClassifier(
            weight_bits=4, activation_bits=8, tol=0.0, n_iter_no_change=10**9, **layers
        )
        TrainingData.hold_codes = "never" if mode == "skqat, floats" else "always"
    with PeakMemory() as memory:
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "rows": rows,
        "fit_s": seconds,
        "epoch_s": seconds / epochs,
        "added_mb": memory.added_mb,
        "bytes_per_value": (memory.peak - memory.start) / X.size,
        "data_mb": X.nbytes / 2**20,
        "skqat": str(Path(skqat.__file__).parent.parent),
    }


def run_one(mode: str, rows: int, args, env=None) -> dict:
    command = [sys.executable, __file__, "--one", mode, str(rows), "--epochs", str(args.epochs)]
    command += ["--data-dir", args.data_dir]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    rows = sorted({r["rows"] for r in results})
    modes = list(dict.fromkeys(r["mode"] for r in results))
    by = {(r["mode"], r["rows"]): r for r in results}
    header = "| rows | data float32 MB | " + " | ".join(
        f"{m}: added MB (bytes/value) | {m}: s/epoch" for m in modes
    )
    lines = [header + " | codes / floats s/epoch |", "|" + "---|" * (2 + 2 * len(modes) + 1)]
    for n in rows:
        cells = [f"{n:,}", f"{n * N_FEATURES * 4 / 2**20:.0f}"]
        for m in modes:
            r = by.get((m, n))
            cells += (
                ["-", "-"]
                if r is None
                else [
                    f"{r['added_mb']:.0f} ({r['bytes_per_value']:.2f})",
                    f"{r['epoch_s']:.2f}",
                ]
            )
        codes, floats = by.get(("skqat, codes", n)), by.get(("skqat, floats", n))
        cells.append("-" if not (codes and floats) else f"{codes['epoch_s'] / floats['epoch_s']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (memory, speed) = plt.subplots(1, 2, figsize=(10, 4))
    for mode in dict.fromkeys(r["mode"] for r in results):
        points = sorted((r["rows"], r) for r in results if r["mode"] == mode)
        rows = [n for n, _ in points]
        memory.plot(rows, [r["added_mb"] for _, r in points], marker="o", label=mode)
        speed.plot(rows, [r["epoch_s"] for _, r in points], marker="o", label=mode)
    sizes = sorted({r["rows"] for r in results})
    memory.plot(sizes, [n * N_FEATURES * 4 / 2**20 for n in sizes], "k:", label="the data, float32")
    for axis, title in ((memory, "peak memory fit adds (MB)"), (speed, "seconds per epoch")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("training rows (100 features)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    memory.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--sklearn-max-rows", type=int, default=3_000_000)
    parser.add_argument("--before", help="an older skqat checkout to measure too (its float copy)")
    parser.add_argument("--data-dir", default="/tmp/skqat_scaling")
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results"))
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # worker mode: MODE ROWS, JSON out
    args = parser.parse_args()
    x_path, y_path = Path(args.data_dir) / "X.npy", Path(args.data_dir) / "y.npy"
    if args.one:
        mode, rows = args.one
        print(json.dumps(measure(mode, int(rows), args.epochs, x_path, y_path)))
        return
    write_data(Path(args.data_dir), max(args.rows))
    results = []
    for rows in args.rows:
        modes = ["skqat, codes", "skqat, floats"]
        if rows <= args.sklearn_max_rows:
            modes.append("scikit-learn")
        for mode in modes:
            results.append(run_one(mode, rows, args))
            print(results[-1], flush=True)
        if args.before:
            env = dict(os.environ, PYTHONPATH=args.before)
            result = run_one("skqat, floats", rows, args, env)
            result["mode"] = f"skqat {Path(args.before).name}"
            results.append(result)
            print(result, flush=True)
    out = Path(args.out)
    cpu = cpu_description()
    text = (
        "# Scaling of fit\n\n"
        f"{args.epochs} epoch(s) on {cpu} ({os.cpu_count()} cores). Added MB: the peak resident memory fit "
        "adds beyond torch's import and the data it is given (bytes/value: per training value). Written "
        "by `python benchmarks/scaling.py`.\n\n" + table(results) + "\n"
    )
    (out / "scaling.md").write_text(text)
    plot(results, out / "scaling.png")
    print(text)


if __name__ == "__main__":
    main()
