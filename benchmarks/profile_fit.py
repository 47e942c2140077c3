"""Where a fit's time goes: torch's profiler (or cProfile) over one benchmark workload.

Usage::

    python benchmarks/profile_fit.py                        # W1, 4-bit weights / 8-bit activations
    python benchmarks/profile_fit.py --workload W2 --epochs 2
    python benchmarks/profile_fit.py --autograd             # the autograd training path, for comparison
    python benchmarks/profile_fit.py --torch-kernels        # fake quantization in torch kernels, not fused C
    python benchmarks/profile_fit.py --weight-bits 0        # float network
    python benchmarks/profile_fit.py --python               # cProfile: Python functions and C calls

Fits once to warm up, then fits again under ``torch.profiler`` and prints the
operators by self CPU time, and the wall time per training step without the
profiler. ``--autograd`` trains through autograd instead of the explicit
gradients of ``skqat/_backprop.py`` (the path every network took before it
existed), so the two profiles show what the explicit path removed.
``--torch-kernels`` runs fake quantization in torch kernels instead of the
fused C kernels of ``skqat/_fused_quant.c``. torch's profiler does not see
the fused kernels (they are not torch operators); ``--python`` shows them,
as ``skqat._fused_quant.forward`` and ``backward``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import WORKLOADS  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="W1", choices=sorted(WORKLOADS))
    parser.add_argument("--weight-bits", type=int, default=4, help="0 for a float network")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--autograd", action="store_true", help="train through autograd")
    parser.add_argument(
        "--torch-kernels", action="store_true", help="fake-quantize with torch kernels, not the fused C ones"
    )
    parser.add_argument("--python", action="store_true", help="cProfile instead of torch's profiler")
    parser.add_argument("--rows", type=int, default=25, help="operators to print")
    args = parser.parse_args(argv)

    import torch
    from torch.profiler import profile

    from skqat import QuantizedMLPClassifier, _fused
    from skqat._training import Objective

    warnings.simplefilter("ignore")
    Objective.explicit = not args.autograd
    _fused.enabled = _fused.available and not args.torch_kernels
    workload = WORKLOADS[args.workload]()
    bits = args.weight_bits or None
    model = QuantizedMLPClassifier(
        hidden_layer_sizes=workload.hidden_layer_sizes,
        max_iter=args.epochs,
        batch_size=workload.batch_size,
        learning_rate_init=workload.learning_rate,
        weight_bits=bits,
        activation_bits=8 if bits else None,
        random_state=0,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,
    )
    n_steps = args.epochs * -(-len(workload.X_train) // workload.batch_size)
    model.fit(workload.X_train, workload.y_train)
    start = time.perf_counter()
    model.fit(workload.X_train, workload.y_train)
    seconds = time.perf_counter() - start
    path = "autograd" if args.autograd else "explicit gradients"
    kernels = "fused C" if _fused.enabled else "torch"
    print(
        f"{args.workload}, weight bits {bits}, {args.epochs} epochs, {path}, "
        f"{kernels} fake-quantize kernels, torch {torch.__version__}"
    )
    print(f"fit {seconds:.3f} s, {seconds / n_steps * 1e6:.0f} us per step ({n_steps} steps), no profiler")
    if args.python:
        profiler = cProfile.Profile()
        profiler.runcall(model.fit, workload.X_train, workload.y_train)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.rows)
        return
    with profile() as prof:
        model.fit(workload.X_train, workload.y_train)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
