"""How skqat's fit scales with rows, its memory, and its throughput against bare matmuls.

Usage::

    python benchmarks/scaling.py                  # W2 at 10k, 100k and 1M rows, 2 epochs each
    python benchmarks/scaling.py --rows 10000 100000 --epochs 1

For each size, in a fresh process: the W2 problem (100 features, 10 classes,
float32, hidden (256, 128), batch 256, 4-bit weights / 8-bit activations)
is fitted for ``--epochs`` epochs. Reported:

- fit seconds, and seconds per million row-epochs relative to the smallest
  size (1.0 = exactly proportional);
- the peak resident memory that ``fit`` adds over the process before it,
  against the float32 size of the training data;
- ``predict`` on all rows, with its added peak memory (predict works in
  blocks of 65,536 rows);
- the same forward and backward matrix products timed alone with ``torch.mm``
  (3 per layer and step), as a share of the fit time.

Writes ``docs/results/scaling.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


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


def matmul_seconds(n_rows: int, epochs: int, layer_sizes, batch: int) -> float:
    """Time of the fit's matrix products alone: per layer, forward x@W and backward grad_W and grad_x."""
    import torch

    steps = epochs * -(-n_rows // batch)
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    tensors = [(torch.randn(batch, i), torch.randn(i, o), torch.randn(batch, o)) for i, o in pairs]
    for x, w, g in tensors:  # warm up
        torch.mm(x, w), torch.mm(g.T, x), torch.mm(g, w.T)
    start = time.perf_counter()
    for _ in range(steps):
        for x, w, g in tensors:
            torch.mm(x, w)
            torch.mm(x.T, g)
            torch.mm(g, w.T)
    return time.perf_counter() - start


def measure(rows: int, epochs: int) -> dict:
    import warnings

    from _workloads import w2_data

    from skqat import QuantizedMLPClassifier

    warnings.simplefilter("ignore")
    X, y = w2_data(rows)
    clf = QuantizedMLPClassifier(
        hidden_layer_sizes=(256, 128),
        batch_size=256,
        max_iter=epochs,
        weight_bits=4,
        activation_bits=8,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
    )
    with PeakMemory() as fit_memory:
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
    with PeakMemory() as predict_memory:
        start = time.perf_counter()
        clf.predict(X)
        predict_s = time.perf_counter() - start
    return {
        "rows": rows,
        "fit_s": fit_s,
        "fit_added_mb": fit_memory.added_mb,
        "data_mb": X.nbytes / 2**20,
        "predict_s": predict_s,
        "predict_added_mb": predict_memory.added_mb,
        "matmul_s": matmul_seconds(rows, epochs, [100, 256, 128, 10], 256),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # worker mode: one size, JSON out
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "scaling.md"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.epochs)))
        return
    results = []
    for rows in args.rows:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(rows), "--epochs", str(args.epochs)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(results[-1])
    base = results[0]["fit_s"] / results[0]["rows"]
    lines = [
        f"# Scaling of fit (W2, 4-bit weights / 8-bit activations, {args.epochs} epochs)\n",
        "| rows | fit s | vs proportional | fit adds MB | data float32 MB | added / data "
        "| predict s | predict adds MB | matmuls alone s | matmul share of fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['fit_s']:.2f} | {r['fit_s'] / r['rows'] / base:.2f} "
            f"| {r['fit_added_mb']:.0f} "
            f"| {r['data_mb']:.0f} | {r['fit_added_mb'] / r['data_mb']:.2f} | {r['predict_s']:.2f} "
            f"| {r['predict_added_mb']:.0f} | {r['matmul_s']:.2f} | {r['matmul_s'] / r['fit_s']:.0%} |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
