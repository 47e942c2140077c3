"""Distributed hyperparameter search on a Dask cluster, against the same search on one core
========================================================================================

Starts a local Dask cluster (2 worker processes, 1 thread each) and runs the
same ``GridSearchCV`` over ``weight_bits`` x ``quant_lambda`` twice: with
``n_jobs=1``, and through joblib's ``"dask"`` backend. On a real cluster,
replace ``LocalCluster`` with the scheduler's address:
``Client("tcp://scheduler:8786")``.

Run it with::

    python examples/dask_search.py

It needs the ``dask`` extra: ``pip install -e ".[dask]"``.
"""

# %%
# Data, estimator and grid
# ------------------------
# Every step runs under ``if __name__ == "__main__":``: the cluster's worker
# processes start by importing this file again, and must not run the
# searches themselves. Digits scaled to [0, 1]; 4 bit widths x 3 strengths of
# the grid penalty. 60 epochs are short on purpose; the convergence warnings
# are silenced.

import time
import warnings

import joblib
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skqat import QuantizedMLPClassifier

if __name__ == "__main__":  # worker processes re-import this file
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    estimator = QuantizedMLPClassifier(
        hidden_layer_sizes=(64,), max_iter=60, learning_rate_init=0.01, random_state=0
    )
    grid = {"weight_bits": [2, 3, 4, 8], "quant_lambda": [0.0, 1e-3, 1e-1]}

# %%
# On one core
# -----------
# The reference: 12 candidates x 3 folds, one fit after the other.

if __name__ == "__main__":
    start = time.perf_counter()
    local = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X, y)
    local_seconds = time.perf_counter() - start

# %%
# On the Dask cluster
# -------------------
# The same search inside ``joblib.parallel_backend("dask")``: scikit-learn's
# joblib calls become tasks on the cluster's workers.

if __name__ == "__main__":
    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(estimator, grid, cv=3).fit(X, y)
        dask_seconds = time.perf_counter() - start
        workers = len(client.scheduler_info()["workers"])

# %%
# Scores and times
# ----------------
# The fits are seeded (``random_state=0``), so both searches find the same
# cross-validated scores (``tests/test_dask.py`` checks that they are
# bit-identical, with one thread everywhere). The times are this machine's
# and vary from run to run; on a busy machine the cluster can be the slower.

if __name__ == "__main__":
    same = np.array_equal(local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"])
    print(f"{len(local.cv_results_['params'])} candidates x 3 folds")
    print(f"n_jobs=1:            {local_seconds:6.1f} s")
    print(f"Dask, {workers} workers:    {dask_seconds:6.1f} s  ({local_seconds / dask_seconds:.2f}x faster)")
    print(f"identical cv scores: {same}; best: {remote.best_params_} ({remote.best_score_:.4f})")

# sphinx_gallery_thumbnail_path = "thumbnails/dask_search.png"
