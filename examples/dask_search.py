"""Distributed hyperparameter search on a Dask cluster, against the same search on one core.

Starts a local Dask cluster (2 worker processes, 1 thread each) and runs the
same GridSearchCV over weight_bits x quant_lambda twice: with n_jobs=1, and
through joblib's "dask" backend. On a real cluster, replace LocalCluster with
the scheduler's address: Client("tcp://scheduler:8786").

Run: python examples/dask_search.py   (needs: pip install -e ".[dask]")
"""

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

    start = time.perf_counter()
    local = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X, y)
    local_seconds = time.perf_counter() - start

    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(estimator, grid, cv=3).fit(X, y)
        dask_seconds = time.perf_counter() - start
        workers = len(client.scheduler_info()["workers"])

    same = np.array_equal(local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"])
    print(f"{len(local.cv_results_['params'])} candidates x 3 folds")
    print(f"n_jobs=1:            {local_seconds:6.1f} s")
    print(f"Dask, {workers} workers:    {dask_seconds:6.1f} s  ({local_seconds / dask_seconds:.2f}x faster)")
    print(f"identical cv scores: {same}; best: {remote.best_params_} ({remote.best_score_:.4f})")
