"""Per-feature input grids (``input_granularity="per_feature"``): one learned scale per column.

Raw columns of very different ranges each get a grid of their own, whose
scales fold into the first layer's weight grid (the weights multiply the
input codes). The exports' exactness on such grids is checked with the
other configurations: ``test_c_export.py`` (``per_feature_*`` cases),
``test_onnx.py`` (``raw`` integer configurations and the float-graph
parity), ``test_onnx_cpus.py`` and ``test_qonnx.py``.
"""

import pickle

import numpy as np
import pytest

from skqat import QuantizedMLPClassifier, QuantizedMLPRegressor


@pytest.fixture(scope="module")
def mixed_columns():
    """A wide-range column, a constant one, a binary one and a four-valued one."""
    rng = np.random.default_rng(0)
    n = 600
    X = np.column_stack(
        [rng.normal(0, 1e5, n), np.full(n, 7.0), rng.integers(0, 2, n), rng.integers(0, 4, n)]
    ).astype(np.float64)
    y = ((X[:, 0] > 0) ^ (X[:, 2] > 0)).astype(int)
    return X, y


def _fit(X, y, granularity, **params):
    params = {
        "hidden_layer_sizes": (16,),
        "weight_bits": 4,
        "input_bits": 8,
        "max_iter": 30,
        "random_state": 0,
        **params,
    }
    return QuantizedMLPClassifier(input_granularity=granularity, **params).fit(X, y)


def test_one_scale_per_feature_from_each_column(mixed_columns):
    X, y = mixed_columns
    grid = _fit(X, y, "per_feature").export_integer().input_grid
    assert grid.per_feature and np.shape(grid.scale) == (X.shape[1],)
    # Initialised from each column's own range: the wide column's step is ~1e5 times the binary one's.
    assert grid.scale[0] / grid.scale[2] > 1e4
    assert not _fit(X, y, "per_tensor").export_integer().input_grid.per_feature


def test_few_valued_columns_keep_their_values_apart(mixed_columns):
    X, y = mixed_columns
    per_feature = _fit(X, y, "per_feature").export_integer().quantize_input(X)
    per_tensor = _fit(X, y, "per_tensor").export_integer().quantize_input(X)
    distinct = [len(np.unique(X[:, j])) for j in (1, 2, 3)]
    assert [len(np.unique(per_feature[:, j])) for j in (1, 2, 3)] == distinct
    # The control: one grid for all, spanning 1e5, puts the binary and four-valued columns on one code.
    assert [len(np.unique(per_tensor[:, j])) for j in (2, 3)] == [1, 1]


@pytest.mark.parametrize("quantizer", ["lsq", "pact", "minmax", "noise", "penalty"])
def test_every_scheme_learns_a_grid_per_feature(mixed_columns, quantizer):
    X, y = mixed_columns
    clf = _fit(X, y, "per_feature", quantizer=quantizer, symmetric=quantizer != "pact")
    model = clf.export_integer()
    assert model.input_grid.per_feature
    codes = model.quantize_input(X)
    assert [len(np.unique(codes[:, j])) for j in (2, 3)] == [2, 4]


def test_warm_start_pickle_and_changing_granularity(mixed_columns):
    X, y = mixed_columns
    clf = _fit(X, y, "per_feature", warm_start=True, max_iter=5)
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    with pytest.raises(ValueError, match="per_feature_input"):
        clf.set_params(input_granularity="per_tensor").fit(X, y)


def test_regressor_per_feature(mixed_columns):
    X, _ = mixed_columns
    y = X[:, 0] / 1e5 + X[:, 3]
    reg = QuantizedMLPRegressor(
        hidden_layer_sizes=(16,), input_bits=8, input_granularity="per_feature", max_iter=5, random_state=0
    ).fit(X, y)
    model = reg.export_integer()
    assert model.input_grid.per_feature and np.shape(model.input_grid.scale) == (X.shape[1],)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize("bits", [8, 2])
def test_raw_columns_train_like_standardized_ones(bits):
    """Columns whose spreads differ by 1e9, raw: per-feature grids match a standardized model.

    Measured here (3 seeds, 60 epochs): 8-bit weights 0.795 raw per feature against 0.793
    standardized per tensor; 2-bit 0.773 against 0.773; raw per tensor 0.380 and 0.357.
    """
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=1500, n_features=10, n_informative=6, n_classes=3, random_state=0)
    X = X * np.logspace(-3, 6, 10)
    train, test = slice(0, 1000), slice(1000, None)
    Z = StandardScaler().fit(X[train]).transform(X)

    def accuracy(data, granularity):
        scores = [
            QuantizedMLPClassifier(
                hidden_layer_sizes=(32,),
                weight_bits=bits,
                input_bits=8,
                input_granularity=granularity,
                max_iter=60,
                random_state=seed,
            )
            .fit(data[train], y[train])
            .score(data[test], y[test])
            for seed in range(3)
        ]
        return float(np.mean(scores))

    standardized = accuracy(Z, "per_tensor")
    assert accuracy(X, "per_feature") >= standardized - 0.02
    assert accuracy(X, "per_tensor") < standardized - 0.2


def test_input_grid_report_feature_by_feature(mixed_columns):
    import pandas as pd

    X, y = mixed_columns
    frame = pd.DataFrame(X, columns=["wide", "constant", "binary", "four"])
    clf = _fit(frame, y, "per_feature")
    report = clf.input_grid_report(frame)
    assert list(report.index) == ["wide", "constant", "binary", "four"]
    np.testing.assert_array_equal(report["scale"], clf.export_integer().input_grid.scale)
    assert report["per_feature"].all() and not report["calibrated"].any()
    np.testing.assert_array_equal(report.loc[["constant", "binary", "four"], "codes_used"], [1, 2, 4])
    np.testing.assert_array_equal(report["codes_used"].iloc[1:], report["distinct_values"].iloc[1:])
    one_grid = _fit(X, y, "per_tensor").input_grid_report()
    assert one_grid["scale"].nunique() == 1 and not one_grid["per_feature"].any()
    assert "codes_used" not in one_grid
    calibrated = _fit(X, y, "per_feature", input_bits=None).input_grid_report()
    assert calibrated["calibrated"].all() and (calibrated["bits"] == 8).all()


def test_spreads_standardize_each_column_within_bounds():
    """The folded layer divides each column's centered codes by its spread (``input_spreads``)."""
    import torch

    from skqat._modules import input_spreads

    rng = np.random.default_rng(0)
    n = 2000
    X = np.column_stack(
        [
            rng.normal(5.0, 3.0, n),  # Gaussian: its standard deviation
            (rng.random(n) < 0.02).astype(float),  # one-hot, rare: its range
            np.where(rng.random(n) < 0.002, 255.0, 0.0) + rng.normal(0, 0.1, n),  # rarely lit pixel
            rng.normal(0, 1e-17, n),  # a standardized constant column's noise
        ]
    )
    scale = torch.tensor([[0.1, 1 / 127, 2.0, 1e-4]], dtype=torch.float64)
    spreads = input_spreads(torch.as_tensor(X), None, scale, 8).numpy().ravel()
    # The spreads are rounded to 16 mantissa bits (_round_mantissa): a relative 2**-17 at most.
    np.testing.assert_allclose(spreads[0], X[:, 0].std() / 0.1, rtol=2.0**-17)
    np.testing.assert_allclose(spreads[1], 127.0)
    # Not its standard deviation (about 11): an eighth of its reach, so 255 enters near 8, not 23.
    reach = np.max(np.abs(X[:, 2] - X[:, 2].mean()))
    np.testing.assert_allclose(spreads[2], reach / 8 / 2.0, rtol=2.0**-17)
    # Under one code: code_unit(8) = 32, not a division by 1e-13 (nor by one code, which put 91% of
    # a 4-bit first layer's weights on 0 next to the other columns' spreads of 16 to 128).
    assert spreads[3] == 32.0
    assert np.all((spreads >= 8) & (spreads <= 128))
    # Integer weights: half the rows weighted 2 give what the rows repeated give, exactly (the
    # rounding absorbs the sums' last bits, which differ with the order of the rows).
    weight = np.where(np.arange(n) % 2 == 0, 2.0, 1.0)
    repeated = np.repeat(X, weight.astype(int), axis=0)
    np.testing.assert_array_equal(
        input_spreads(torch.as_tensor(X), torch.as_tensor(weight), scale, 8).numpy(),
        input_spreads(torch.as_tensor(repeated), None, scale, 8).numpy(),
    )


def test_a_constant_column_with_float_noise_trains():
    """A standardized constant column holds noise of 1e-17: it must not blow the first layer's grid up."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # column 0 is constant: exactly 0
    noisy = X.copy()
    noisy[:, 0] = np.random.default_rng(0).normal(0, 1e-17, len(X))

    def fit(data):
        return QuantizedMLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0).fit(
            data[:1200], y[:1200]
        )

    clean, clf = fit(X), fit(noisy)
    # Measured: 0.894 both. Before the bound, standardized MNIST (raw_columns.py) had such a
    # column with a spread of 1e-14 codes, and 8-bit weights scored 0.1085: chance.
    assert clf.score(noisy[1200:], y[1200:]) >= clean.score(X[1200:], y[1200:]) - 0.01
    assert clean.score(X[1200:], y[1200:]) > 0.85
    assert float(clf._module.layers[0].weight_factor().max()) < 1e3


def test_a_folded_layer_saved_before_the_spreads_loads_with_the_same_products(mixed_columns):
    """The earlier form (``q(V)`` times codes over ``code_unit``) upgrades to ``q(V g)`` on a finer grid."""
    import math

    import torch

    from skqat._frozen import code_unit

    X, y = mixed_columns
    clf = _fit(X, y, "per_feature")
    module = clf._module
    layer = module.layers[0]
    unit = code_unit(module.input_quantizer.bits)
    with torch.no_grad():
        # The earlier arithmetic: every spread code_unit, every reference the scale itself.
        layer.input_spread.fill_(unit)
        layer.input_reference.zero_()
    layer.mark_fold_set()  # the buffers changed behind the layer's back
    module.eval()
    X_t = torch.as_tensor(X)
    with torch.no_grad():
        expected = module(X_t)
    old = {k: v.clone() for k, v in module.state_dict().items()}
    del old["layers.0.input_spread"], old["layers.0.input_reference"]
    # Its weight grid quantized V itself: a scale code_unit times coarser.
    old["layers.0.weight_quantizer.log_scale"] += math.log(unit)
    with torch.no_grad():
        layer.weight_quantizer.log_scale.fill_(0.0)
    module.load_state_dict(old)
    with torch.no_grad():
        got = module(X_t)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    assert torch.all(layer.input_spread == unit)


@pytest.mark.parametrize(
    "quantizer, varied", [("lsq", True), ("pact", True), ("minmax", False), ("penalty", False)]
)
def test_spreads_need_a_weight_grid_that_learns_its_scale(mixed_columns, quantizer, varied):
    """Min-max and penalty grids keep one code unit for every column (``Quantizer.learns_scale``)."""
    from skqat._frozen import code_unit

    X, y = mixed_columns
    spreads = _fit(X, y, "per_feature", quantizer=quantizer)._module.layers[0].input_spread.numpy().ravel()
    assert (len(set(spreads.tolist())) > 1) == varied
    if not varied:
        assert np.all(spreads == code_unit(8))
