"""Out of core: a Parquet data set larger than the memory allowed, streamed through ``partial_fit`` on Dask.

Usage::

    python benchmarks/out_of_core.py                         # 16M rows (6.4 GB) under a 2 GiB limit
    python benchmarks/out_of_core.py --rows 2000000 --memory-limit-gib 0.5

The data: the W2 problem (``make_classification``, 100 features, 10 classes,
standardized, float32) at 1,000,000 rows, repeated with a little Gaussian
jitter up to ``--rows``, written as Parquet files of ``--rows-per-file``
rows (one Dask partition each), plus a test file of fresh rows.

The run: in a fresh process, ``dask.dataframe.read_parquet`` reads the
folder lazily, and dask-ml's ``Incremental`` wrapper calls
``QuantizedMLPClassifier.partial_fit`` on one partition after another (in a
shuffled order, one pass, Dask's synchronous scheduler), so only one
partition is in memory at a time; each call holds its rows as int8 codes
on the fixed 8-bit input grid. Where the machine allows (root and a cgroup
v1 memory controller), the process runs in a memory cgroup limited to
``--memory-limit-gib``: the data cannot fit, so the run shows it streams.
Reported: rows per second, the process's peak resident memory (torch's
libraries included) and what the pass added to it, the cgroup's peak usage
(page cache included), and the test accuracy.

Writes ``docs/results/out_of_core.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _machine import cpu_description  # noqa: E402
from scaling import BASE_ROWS, N_FEATURES, PeakMemory  # noqa: E402

CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
COLUMNS = [f"x{i}" for i in range(N_FEATURES)]
MODEL = dict(hidden_layer_sizes=(256, 128), batch_size=256, weight_bits=4, activation_bits=8, random_state=0)


def _write_file(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array(X[:, i]) for i in range(X.shape[1])] + [pa.array(y)]
    pq.write_table(pa.Table.from_arrays(arrays, names=[*COLUMNS, "label"]), path)


def write_data(folder: Path, rows: int, rows_per_file: int) -> Path:
    """``folder/train/part-*.parquet`` with ``rows`` rows and ``folder/test.parquet``; kept if present."""
    from _workloads import w2_data

    train = folder / "train"
    marker = folder / f"complete-{rows}-{rows_per_file}"
    if marker.exists():
        return train
    train.mkdir(parents=True, exist_ok=True)
    for old in train.glob("*.parquet"):
        old.unlink()
    base_X, base_y = w2_data(BASE_ROWS + 50_000)
    test_X, test_y = base_X[BASE_ROWS:], base_y[BASE_ROWS:]
    base_X, base_y = base_X[:BASE_ROWS], base_y[:BASE_ROWS]
    rng = np.random.default_rng(0)
    for number, start in enumerate(range(0, rows, rows_per_file)):
        stop = min(start + rows_per_file, rows)
        source = np.arange(start, stop) % BASE_ROWS
        X = base_X[source] + 0.05 * rng.standard_normal((stop - start, N_FEATURES), np.float32)
        _write_file(train / f"part-{number:04d}.parquet", X, base_y[source])
    _write_file(folder / "test.parquet", test_X, test_y)
    marker.touch()
    return train


def stream(folder: Path) -> dict:
    """One pass of ``Incremental`` over the Parquet partitions, in this process."""
    import warnings

    import dask
    import dask.dataframe as dd
    import pandas as pd
    from dask_ml.wrappers import Incremental

    from skqat import QuantizedMLPClassifier

    warnings.simplefilter("ignore")
    frame = dd.read_parquet(folder / "train")
    X, y = frame[COLUMNS], frame["label"]
    model = Incremental(QuantizedMLPClassifier(**MODEL), shuffle_blocks=True, random_state=0)
    with PeakMemory() as memory, dask.config.set(scheduler="synchronous"):
        start = time.perf_counter()
        model.fit(X, y, classes=np.arange(10))
        seconds = time.perf_counter() - start
    test = pd.read_parquet(folder / "test.parquet")
    estimator = model.estimator_
    return {
        "rows": int(estimator.t_),
        "partitions": int(frame.npartitions),
        "seconds": seconds,
        "rows_per_second": estimator.t_ / seconds,
        "peak_rss_mib": memory.peak / 2**20,
        "added_rss_mib": memory.added_mb,
        "test_accuracy": float(estimator.score(test[COLUMNS], test["label"])),
    }


def _cgroup(limit_gib: float) -> Path | None:
    """A fresh memory cgroup limited to ``limit_gib``, or None where the machine has none to give."""
    group = CGROUP_ROOT / f"skqat_out_of_core_{os.getpid()}"
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(int(limit_gib * 2**30)))
        # No swap beyond the limit: the memory the process may use is the limit.
        swap = group / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(int(limit_gib * 2**30)))
    except OSError:
        return None
    return group


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=16_000_000)
    parser.add_argument("--rows-per-file", type=int, default=500_000)
    parser.add_argument("--memory-limit-gib", type=float, default=2.0)
    parser.add_argument("--data-dir", default="/tmp/skqat_out_of_core")
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results" / "out_of_core.md"))
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # worker: JSON out
    args = parser.parse_args()
    folder = Path(args.data_dir)
    if args.one:
        print(json.dumps(stream(folder)))
        return
    write_data(folder, args.rows, args.rows_per_file)
    data_gib = sum(f.stat().st_size for f in (folder / "train").glob("*.parquet")) / 2**30
    group = _cgroup(args.memory_limit_gib)
    command = [sys.executable, __file__, "--one", "--data-dir", str(folder)]

    def enter_group():
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, preexec_fn=enter_group)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if group is not None:
            result["cgroup_peak_mib"] = int((group / "memory.max_usage_in_bytes").read_text()) / 2**20
            result["cgroup_limit_hits"] = int((group / "memory.failcnt").read_text())
    finally:
        if group is not None:
            group.rmdir()
    cpu = cpu_description()
    limit = (
        f"a memory cgroup limited to {args.memory_limit_gib:g} GiB"
        if group is not None
        else "no memory limit (this machine gave no cgroup)"
    )
    lines = [
        "# Out of core: Parquet through Dask-ML's Incremental and partial_fit",
        "",
        f"{result['rows']:,} rows x {N_FEATURES} float32 features ({data_gib:.1f} GiB of Parquet in "
        f"{result['partitions']} partitions), one pass, hidden (256, 128), 4-bit weights, in {limit}; "
        f"{cpu}, {os.cpu_count()} cores. Written by `python benchmarks/out_of_core.py`.",
        "",
        "| rows | data GiB | memory limit GiB | rows / s | peak RSS MiB | fit adds MiB "
        "| cgroup peak MiB (with page cache) | limit hits | test accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result['rows']:,} | {data_gib:.1f} | {args.memory_limit_gib if group is not None else '-'} "
        f"| {result['rows_per_second']:,.0f} | {result['peak_rss_mib']:.0f} | {result['added_rss_mib']:.0f} "
        f"| {result.get('cgroup_peak_mib', float('nan')):.0f} | {result.get('cgroup_limit_hits', '-')} "
        f"| {result['test_accuracy']:.4f} |",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
