"""A short check for a machine with a GPU: the CUDA tests, then W2 on GPU against CPU.

Run: python benchmarks/gpu_check.py   (prints the test summary and a timing table)
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    import torch

    print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name(0)}")
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(HERE.parent / "tests" / "test_cuda.py"),
        ],
        capture_output=True,
        text=True,
    )
    print(tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-2000:])
    if not torch.cuda.is_available():
        return

    from _workloads import synthetic

    from skqat import QuantizedMLPClassifier

    warnings.simplefilter("ignore")
    work = synthetic()
    print("| device | bits | fit s | accuracy |\n|---|---|---|---|")
    for device in ("cpu", "cuda"):
        for bits in (None, 4):
            clf = QuantizedMLPClassifier(
                hidden_layer_sizes=work.hidden_layer_sizes,
                max_iter=work.epochs,
                batch_size=work.batch_size,
                weight_bits=bits,
                activation_bits=None if bits is None else 8,
                tol=0.0,
                n_iter_no_change=10**9,
                random_state=0,
                device=device,
            )
            start = time.perf_counter()
            clf.fit(work.X_train, work.y_train)
            if device == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            accuracy = clf.score(work.X_test, work.y_test)
            print(f"| {device} | {bits or 'float'} | {seconds:.2f} | {accuracy:.4f} |")


if __name__ == "__main__":
    main()
