"""Scale-out on a real Dask cluster: distributed search, worker threads, worker loss, Incremental training."""

import threading
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split

from skqat import QuantizedMLPClassifier

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
joblib = pytest.importorskip("joblib")

PARAMS = {"hidden_layer_sizes": (32,), "max_iter": 30, "learning_rate_init": 0.01, "random_state": 0}
GRID = {"weight_bits": [2, 4, 8], "quant_lambda": [0.0, 1e-3]}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


def _search(search, X, y, backend=None):
    if backend is None:
        return search.fit(X, y)
    with joblib.parallel_backend(backend):
        return search.fit(X, y)


def test_grid_search_on_dask_matches_a_local_search(client, digits):
    X_train, _, y_train, _ = digits
    local = _search(GridSearchCV(QuantizedMLPClassifier(**PARAMS), GRID, cv=3, n_jobs=1), X_train, y_train)
    remote = _search(GridSearchCV(QuantizedMLPClassifier(**PARAMS), GRID, cv=3), X_train, y_train, "dask")
    # Same seeds, one thread everywhere: bit-identical scores.
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_


def test_randomized_search_on_dask(client, digits):
    X_train, _, y_train, _ = digits
    search = RandomizedSearchCV(
        QuantizedMLPClassifier(**PARAMS),
        {"weight_bits": [1, 2, 3, 4, 8], "quantizer": ["lsq", "pact", "minmax"]},
        n_iter=4,
        cv=2,
        random_state=0,
    )
    _search(search, X_train, y_train, "dask")
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def _fit_on_worker(X, y):
    import torch

    from skqat import QuantizedMLPClassifier

    # A large enough network that, outside a worker, it would use every thread.
    clf = QuantizedMLPClassifier(hidden_layer_sizes=(512, 512), max_iter=1, batch_size=256, random_state=0)
    clf.fit(X, y)
    return clf._n_threads, torch.get_num_threads()


def test_each_worker_uses_its_threads(client, digits):
    X_train, _, y_train, _ = digits
    used, after = client.submit(_fit_on_worker, X_train, y_train, pure=False).result()
    assert used == 1  # threads_per_worker=1
    assert after == 1


def test_search_survives_a_retired_worker(digits):
    X_train, _, y_train, _ = digits
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        params = dict(PARAMS, max_iter=60)
        search = GridSearchCV(QuantizedMLPClassifier(**params), GRID, cv=3)
        errors = []

        def run():
            try:
                _search(search, X_train, y_train, "dask")
            except Exception as exc:  # reported below, not swallowed
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.time() + 60
        while not any(client.processing().values()) and time.time() < deadline:
            time.sleep(0.05)
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        assert busy, "the search never started on the cluster"
        client.retire_workers(workers=busy[:1], close_workers=True)
        thread.join(timeout=300)
        assert not errors, errors
        assert len(client.scheduler_info()["workers"]) == 1
        assert len(search.cv_results_["params"]) == 6
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    finally:
        client.close()
        cluster.close()


def test_incremental_training_reaches_the_in_memory_accuracy(client, digits):
    from dask_ml.wrappers import Incremental

    X_train, X_test, y_train, y_test = digits
    passes = 20
    params = dict(PARAMS, hidden_layer_sizes=(64,), batch_size=100, shuffle=False)
    in_memory = _search(QuantizedMLPClassifier(**dict(params, max_iter=passes)), X_train, y_train)
    # Many partitions of 100 rows: each partial_fit call is one epoch over one block.
    X_blocks, y_blocks = da.from_array(X_train, chunks=(100, -1)), da.from_array(y_train, chunks=100)
    assert X_blocks.numblocks[0] > 10
    incremental = Incremental(QuantizedMLPClassifier(**params), scoring="accuracy")
    for _ in range(passes):
        incremental.partial_fit(X_blocks, y_blocks, classes=np.unique(y_train))
    in_memory_accuracy = in_memory.score(X_test, y_test)
    incremental_accuracy = incremental.score(
        da.from_array(X_test, chunks=100), da.from_array(y_test, chunks=100)
    )
    assert incremental_accuracy >= in_memory_accuracy - 0.02


def test_parquet_streams_through_incremental_as_partial_fit_would(client, tmp_path, digits):
    # The out-of-core path: a Dask DataFrame read lazily from Parquet, one partition per
    # partial_fit call (dask-ml's Incremental, in order), with Dask's synchronous scheduler and
    # on the LocalCluster's workers (the model travels between them pickled). Each call holds
    # its rows as int8 codes (the default 8-bit input grid is fixed); the model is the one the
    # same calls on the same partitions give in memory, bit for bit.
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the dask extra)")
    import dask
    from dask_ml.wrappers import Incremental

    X_train, X_test, y_train, y_test = digits
    columns = [f"pixel{i}" for i in range(X_train.shape[1])]
    frame = pd.DataFrame(X_train.astype(np.float32), columns=columns).assign(label=y_train)
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), 5)):
        frame.iloc[rows].to_parquet(tmp_path / f"part-{number}.parquet", index=False)
    lazy = dd.read_parquet(tmp_path)
    assert lazy.npartitions == 5
    params = dict(PARAMS, hidden_layer_sizes=(64,))
    classes = np.unique(y_train)

    def stream():
        model = Incremental(QuantizedMLPClassifier(**params), shuffle_blocks=False)
        for _ in range(3):
            model.partial_fit(lazy[columns], lazy["label"], classes=classes)
        return model

    with dask.config.set(scheduler="synchronous"):
        streamed = stream()
    on_workers = stream()  # the module's Client is the default scheduler
    in_memory = QuantizedMLPClassifier(**params)
    for _ in range(3):
        for number in range(5):
            part = pd.read_parquet(tmp_path / f"part-{number}.parquet")
            in_memory.partial_fit(part[columns], part["label"], classes=classes)
    test = pd.DataFrame(X_test.astype(np.float32), columns=columns)
    expected = in_memory.predict_proba(test)
    np.testing.assert_array_equal(streamed.estimator_.predict_proba(test), expected)
    np.testing.assert_array_equal(on_workers.estimator_.predict_proba(test), expected)
    assert streamed.estimator_.t_ == 3 * len(X_train)
    assert streamed.estimator_.score(test, y_test) > 0.85
