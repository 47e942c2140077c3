"""Fit one system on one workload in this (fresh) process and print a JSON line.

Called by ``benchmarks/run.py``; not meant to be run by hand, though it can be:
``python benchmarks/_worker.py --system skqat-4bit --workload W1``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _systems import SYSTEMS  # noqa: E402
from _workloads import WORKLOADS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    workload = WORKLOADS[args.workload](quick=args.quick)
    model = SYSTEMS[args.system](workload)
    warnings.simplefilter("ignore")

    start = time.perf_counter()
    model.fit(workload.X_train, workload.y_train)
    fit_seconds = time.perf_counter() - start

    model.predict(workload.X_test[:1])  # warm the predict path once
    start = time.perf_counter()
    for _ in range(20):
        model.predict(workload.X_test[:1])
    predict_one_ms = (time.perf_counter() - start) / 20 * 1e3
    start = time.perf_counter()
    predictions = model.predict(workload.X_test)
    predict_all_ms = (time.perf_counter() - start) * 1e3
    # Throughput on exactly 10,000 rows (the test rows repeated), best of 5 calls.
    rows = np.resize(workload.X_test, (10_000, workload.X_test.shape[1]))
    predict_10k_ms = []
    for _ in range(5):
        start = time.perf_counter()
        model.predict(rows)
        predict_10k_ms.append((time.perf_counter() - start) * 1e3)

    print(
        json.dumps(
            {
                "system": args.system,
                "workload": args.workload,
                "fit_s": fit_seconds,
                "accuracy": float(np.mean(np.asarray(predictions) == workload.y_test)),
                "predict_1_ms": predict_one_ms,
                "predict_all_ms": predict_all_ms,
                "predict_10k_ms": min(predict_10k_ms),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
