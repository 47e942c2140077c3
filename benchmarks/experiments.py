"""The study of learned quantization schemes: accuracy against bits, and the grid penalty.

Usage::

    python benchmarks/experiments.py            # full study, 3 seeds (about 10 to 20 minutes on 2 cores)
    python benchmarks/experiments.py --quick    # smoke run: digits, 1 seed, short training

Writes markdown tables, a CSV of every fit and PNG figures to ``docs/results/``
(``--out`` to change).

Experiment A
    Test accuracy against weight bit width (1, 2, 3, 4, 8 with 8-bit
    activations, 2 with 4-bit activations, float) for every ``quantizer``
    scheme, on digits, Letter, Adult and the MNIST test set.
Experiment B
    The grid penalty: ``quant_lambda`` in {0, 1e-5, ..., 1e-1, 1} against accuracy
    of the unprojected (latent float) weights, mean distance to the grid
    before the final projection, and accuracy after hard rounding. ``"penalty"``
    with ``quant_lambda=0`` is the post-training rounding baseline (train
    float, then round).
Budget
    Accuracy against mean weight bits on digits, Letter, Adult, MNIST and a
    synthetic set: uniform widths 2 to 8, ``weight_bits="learned"`` at
    ``target_bits`` 2, 2.5, 3, 3.5 and 4, and ``bit_lambda`` prices, with
    Brevitas at 2, 3 and 4 bits.
Low-bit levers
    1- and 2-bit weights on Letter, MNIST, digits and Adult: the plain
    model, then each lever alone (8-bit warm-up through ``target_bits``, a
    float warm-up through ``quant_delay``, per-channel grids, a higher
    learning rate) and the warm-up with the higher rate, against float at
    both learning rates.
SGD
    ``solver="sgd"`` against ``"adam"``, float, 8- and 2-bit weights: accuracy
    and how far the weight grids' scales move from their initial values.
Brevitas
    Brevitas ``QuantLinear`` MLPs on the same digits split and epochs, on the
    raw pixels (0..16) and standardized; skqat's schemes at the same bits.

Every fit trains exactly the stated number of epochs (no stopping on the
training loss), so schemes get the same budget.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _datasets import DATASETS, DEFAULT_DATA_DIR  # noqa: E402

SCHEMES = ["lsq", "pact", "minmax", "noise", "penalty"]
#: Experiment A's data sets (the others serve one study each).
EXPERIMENT_A_DATASETS = ["digits", "letter", "adult", "mnist", "digits_scaled", "synthetic"]
BUDGET_DATASETS = ["digits", "letter", "adult", "mnist", "synthetic"]
TARGETS = [2, 2.5, 3, 3.5, 4]
PRICES = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
UNIFORM_BITS = [2, 3, 4, 5, 6, 7, 8]
BREVITAS_BITS = [2, 3, 4]
LEVER_DATASETS = ["letter", "mnist", "digits", "adult"]
SGD_DATASETS = ["digits_scaled", "letter", "mnist", "multilabel"]
#: SGD needs a larger step than Adam's default to train in the same epochs.
SGD_LEARNING_RATE = 0.01
BIT_SETTINGS = [(1, 8), (2, 8), (2, 4), (3, 8), (4, 8), (8, 8)]
LAMBDAS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


@dataclass(frozen=True)
class Budget:
    hidden: tuple
    epochs: int


BUDGETS = {
    "digits": Budget((100,), 200),
    "digits_scaled": Budget((100,), 200),
    "letter": Budget((100,), 30),
    "adult": Budget((100,), 10),
    "mnist": Budget((100,), 20),
    "synthetic": Budget((64,), 60),
    "multilabel": Budget((50,), 100),
}


def _estimator(budget: Budget, seed: int, **params):
    from skqat import QuantizedMLPClassifier

    return QuantizedMLPClassifier(
        hidden_layer_sizes=budget.hidden,
        max_iter=budget.epochs,
        tol=0.0,
        n_iter_no_change=budget.epochs,
        random_state=seed,
        **params,
    )


def _load(dataset: str, data_dir: str, cache: dict = {}):  # noqa: B006 - per-process cache on purpose
    if dataset not in cache:
        cache[dataset] = DATASETS[dataset](data_dir)
    return cache[dataset]


def _accuracy(model, X, y) -> float:
    return float(np.mean(model.predict(X) == y))


def _train_mode_accuracy(model, X, y) -> float:
    """Accuracy of the torch module's training-mode forward pass (``predict`` reads the frozen network)."""
    import torch

    module = model._module
    module.train()
    try:
        with torch.no_grad():
            dtype = next(module.parameters()).dtype
            logits = module(torch.as_tensor(np.asarray(X), dtype=dtype))
    finally:
        module.eval()
    return float(np.mean(model.classes_[logits.argmax(dim=1).numpy()] == y))


def _weight_scales(model) -> list[float]:
    return [float(q.effective_scale().mean()) for q in model._module.weight_quantizers() if q is not None]


def _scale_movement(budget: Budget, seed: int, params: dict, model, X, y) -> float:
    """Largest ratio (either way) of a layer's final weight scale to its initial one."""
    # One epoch at a negligible step: the grids as initialised from the initial weights.
    start = _estimator(Budget(budget.hidden, 1), seed, **dict(params, learning_rate_init=1e-12)).fit(X, y)
    ratios = [after / before for after, before in zip(_weight_scales(model), _weight_scales(start))]
    return float(max(max(r, 1 / r) for r in ratios))


def run_job(job: dict, data_dir: str) -> dict:
    """Fit one configuration in a worker process and return its measurements."""
    import torch

    torch.set_num_threads(1)  # two workers share the two cores
    warnings.simplefilter("ignore")
    X_train, X_test, y_train, y_test = _load(job["dataset"], data_dir)
    budget = Budget(tuple(job["hidden"]), job["epochs"])
    start = time.perf_counter()
    result = dict(job)
    if job["kind"] == "brevitas":
        from _peers import BrevitasMLP

        model = BrevitasMLP(
            weight_bits=job["weight_bits"],
            activation_bits=job["activation_bits"],
            hidden_layer_sizes=budget.hidden,
            epochs=budget.epochs,
            random_state=job["seed"],
        )
        model.fit(X_train, y_train)
        result["accuracy"] = _accuracy(model, X_test, y_test)
    else:
        from skqat._allocation import mean_bits

        params = job.get("params") or {
            k: job[k] for k in ("quantizer", "weight_bits", "activation_bits", "quant_lambda") if k in job
        }
        model = _estimator(budget, job["seed"], **params).fit(X_train, y_train)
        # Accuracy; subset accuracy for multilabel data.
        result["accuracy"] = float(model.score(X_test, y_test))
        result["grid_distance"] = model.grid_distance_
        result["bits"] = model.weight_bits_
        result["mean_bits"] = mean_bits(model.weight_bits_, [c.size for c in model.coefs_])
        if job["kind"] == "sgd" and params.get("weight_bits") is not None:
            result["scale_movement"] = _scale_movement(budget, job["seed"], params, model, X_train, y_train)
        if job["kind"] == "lambda":
            # The latent float weights before the hard projection: the penalty
            # scheme's training-mode forward pass (activations stay quantized).
            result["accuracy_unprojected"] = _train_mode_accuracy(model, X_test, y_test)
    result["seconds"] = time.perf_counter() - start
    return result


def plan(quick: bool, datasets: list[str], seeds: list[int]) -> list[dict]:
    """Every fit of the study, as job dicts."""
    jobs = []
    for dataset in [d for d in datasets if d in EXPERIMENT_A_DATASETS]:
        budget = BUDGETS[dataset]
        epochs = 10 if quick else budget.epochs
        base = {"dataset": dataset, "hidden": budget.hidden, "epochs": epochs}
        settings = [(2, 8)] if quick else BIT_SETTINGS
        for seed in seeds:
            jobs.append(
                {
                    **base,
                    "kind": "bits",
                    "seed": seed,
                    "quantizer": "lsq",
                    "weight_bits": None,
                    "activation_bits": None,
                }
            )
            for scheme in SCHEMES:
                for weight_bits, activation_bits in settings:
                    jobs.append(
                        {
                            **base,
                            "kind": "bits",
                            "seed": seed,
                            "quantizer": scheme,
                            "weight_bits": weight_bits,
                            "activation_bits": activation_bits,
                        }
                    )
    digits = {
        "dataset": "digits",
        "hidden": BUDGETS["digits"].hidden,
        "epochs": 10 if quick else BUDGETS["digits"].epochs,
    }
    lambdas = [0.0, 1e-2] if quick else LAMBDAS
    for seed in seeds:
        for scheme, bits in [("penalty", 2), ("penalty", 4), ("lsq", 2)]:
            for lam in lambdas:
                jobs.append(
                    {
                        **digits,
                        "kind": "lambda",
                        "seed": seed,
                        "quantizer": scheme,
                        "weight_bits": bits,
                        "activation_bits": 8,
                        "quant_lambda": lam,
                    }
                )
        for dataset in ["digits"] if quick else ["digits", "digits_scaled"]:
            for bits in [4] if quick else [8, 4, 2]:
                compare = {
                    **digits,
                    "dataset": dataset,
                    "seed": seed,
                    "weight_bits": bits,
                    "activation_bits": 8,
                }
                jobs.append({**compare, "kind": "brevitas"})
                if dataset == "digits_scaled":
                    jobs.extend({**compare, "kind": "versus", "quantizer": scheme} for scheme in SCHEMES)
    jobs += _budget_jobs(quick, datasets, seeds)
    jobs += _lever_jobs(quick, datasets, seeds)
    jobs += _sgd_jobs(quick, datasets, seeds)
    # Studies share some fits (Brevitas on digits at 2 and 4 bits): run each once.
    unique = {repr(sorted(job.items())): job for job in jobs}
    return list(unique.values())


def _job(dataset: str, kind: str, seed: int, quick: bool, **fields) -> dict:
    budget = BUDGETS[dataset]
    epochs = min(10, budget.epochs) if quick else budget.epochs
    job = {"dataset": dataset, "hidden": budget.hidden, "epochs": epochs, "kind": kind, "seed": seed}
    return {**job, **fields}


def _budget_jobs(quick: bool, datasets: list[str], seeds: list[int]) -> list[dict]:
    """Uniform widths, target_bits and bit_lambda on each data set; Brevitas at the uniform points."""
    jobs = []
    for dataset in [d for d in datasets if d in BUDGET_DATASETS]:
        for seed in seeds:
            for bits in [2, 3] if quick else UNIFORM_BITS:
                params = {"weight_bits": bits}
                jobs.append(_job(dataset, "budget", seed, quick, method="uniform", params=params))
            for target in [2.5] if quick else TARGETS:
                params = {"weight_bits": "learned", "target_bits": target}
                jobs.append(_job(dataset, "budget", seed, quick, method="target_bits", params=params))
            for price in [1e-2] if quick else PRICES:
                params = {"weight_bits": "learned", "bit_lambda": price}
                jobs.append(_job(dataset, "budget", seed, quick, method="bit_lambda", params=params))
            for bits in [2] if quick else BREVITAS_BITS:
                jobs.append(_job(dataset, "brevitas", seed, quick, weight_bits=bits, activation_bits=8))
    return jobs


def _levers(bits: int, epochs: int) -> dict[str, dict]:
    """Each low-bit lever alone, and the warm-up with the higher rate, at ``bits``-bit weights."""
    warm = {"weight_bits": "learned", "target_bits": bits, "bit_bounds": (bits, 8)}
    return {
        "plain": {"weight_bits": bits},
        "8-bit warm-up (target_bits)": warm,
        "float warm-up (quant_delay)": {"weight_bits": bits, "quant_delay": epochs // 4},
        "per-channel": {"weight_bits": bits, "granularity": "per_channel"},
        "learning_rate_init=0.01": {"weight_bits": bits, "learning_rate_init": 0.01},
        "8-bit warm-up + 0.01": dict(warm, learning_rate_init=0.01),
    }


def _lever_jobs(quick: bool, datasets: list[str], seeds: list[int]) -> list[dict]:
    jobs = []
    for dataset in [d for d in datasets if d in LEVER_DATASETS]:
        epochs = _job(dataset, "levers", 0, quick)["epochs"]
        for seed in seeds:
            for lr in [0.001, 0.01]:
                params = {"weight_bits": None, "activation_bits": None, "learning_rate_init": lr}
                lever = f"float, lr {lr}"
                jobs.append(_job(dataset, "levers", seed, quick, target=0, lever=lever, params=params))
            for bits in [2] if quick else [2, 1]:
                for lever, params in _levers(bits, epochs).items():
                    jobs.append(_job(dataset, "levers", seed, quick, target=bits, lever=lever, params=params))
    return jobs


def _sgd_jobs(quick: bool, datasets: list[str], seeds: list[int]) -> list[dict]:
    jobs = []
    for dataset in [d for d in datasets if d in SGD_DATASETS] or (["digits_scaled"] if quick else []):
        for seed in seeds:
            for solver in ["sgd", "adam"]:
                for bits in [None, 8] if quick else [None, 8, 2]:
                    params = {"solver": solver, "weight_bits": bits}
                    if bits is None:
                        params["activation_bits"] = None
                    if solver == "sgd":
                        params["learning_rate_init"] = SGD_LEARNING_RATE
                    fields = {"solver": solver, "weight_bits": bits, "params": params}
                    jobs.append(_job(dataset, "sgd", seed, quick, **fields))
    return jobs


def _mean_std(series: pd.Series) -> str:
    values = series.dropna()
    if values.empty:
        return "n/a"
    return f"{values.mean():.4f} ± {values.std(ddof=0):.4f}"


def _bits_label(row) -> str:
    if pd.isna(row["weight_bits"]) or row["weight_bits"] is None:
        return "float"
    return f"w{int(row['weight_bits'])}/a{int(row['activation_bits'])}"


def experiment_a_table(results: pd.DataFrame) -> str:
    bits = results[results["kind"] == "bits"].copy()
    bits["setting"] = bits.apply(_bits_label, axis=1)
    floats = bits[bits["setting"] == "float"]
    quantized = bits[bits["setting"] != "float"]
    sections = []
    for dataset, group in quantized.groupby("dataset", sort=False):
        table = group.groupby(["setting", "quantizer"])["accuracy"].apply(_mean_std).unstack("quantizer")
        order = [f"w{w}/a{a}" for w, a in BIT_SETTINGS if f"w{w}/a{a}" in table.index]
        table = table.loc[order, [s for s in SCHEMES if s in table.columns]]
        float_acc = _mean_std(floats.loc[floats["dataset"] == dataset, "accuracy"])
        budget = group.iloc[0]
        sections.append(
            f"### {dataset} (hidden {tuple(budget['hidden'])}, {budget['epochs']} epochs; "
            f"float: {float_acc})\n\n{table.to_markdown()}\n"
        )
    return "\n".join(sections)


def experiment_b_table(results: pd.DataFrame) -> str:
    lam = results[results["kind"] == "lambda"]
    table = lam.groupby(["quantizer", "weight_bits", "quant_lambda"]).agg(
        accuracy_unprojected=("accuracy_unprojected", _mean_std),
        grid_distance=("grid_distance", _mean_std),
        accuracy_rounded=("accuracy", _mean_std),
    )
    return table.to_markdown()


def _uniform_accuracy(budget: pd.DataFrame) -> pd.Series:
    """Mean accuracy of the uniform models, by (dataset, bits)."""
    uniform = budget[budget["method"] == "uniform"]
    return uniform.groupby(["dataset", uniform["params"].map(lambda p: p["weight_bits"])])["accuracy"].mean()


def _allocation(bits) -> str:
    """The distinct allocations of a group of fits, e.g. ``[3, 2] x3``."""
    counts = pd.Series([str(list(b)) for b in bits]).value_counts()
    return ", ".join(f"{alloc} x{n}" for alloc, n in counts.items())


def _against_uniform(results: pd.DataFrame, method: str, key: str, lower_bits):
    """Each (data set, ``key`` value) group of a budget method, with the uniform model it is held to.

    Yields ``(dataset, value, group, lower, reference)``: ``lower`` is
    ``lower_bits(value, group)``, ``reference`` the uniform model's mean
    accuracy at ``lower`` bits.
    """
    budget = results[results["kind"] == "budget"]
    uniform = _uniform_accuracy(budget)
    runs = budget[budget["method"] == method]
    values = runs["params"].map(lambda p: p[key])
    for (dataset, value), group in runs.groupby(["dataset", values]):
        lower = lower_bits(value, group)
        yield dataset, value, group, lower, uniform.get((dataset, lower), np.nan)


def _floor_mean_bits(_, group: pd.DataFrame) -> int:
    return int(np.floor(group["mean_bits"].mean() + 1e-9))


def _points(group: pd.DataFrame, reference: float) -> str:
    return f"{100 * (group['accuracy'].mean() - reference):+.2f}"


def budget_table(results: pd.DataFrame) -> str:
    """target_bits against the uniform model at the integer below the mean bits reached."""
    if not (results["kind"] == "budget").any():
        return "No budget runs."
    brevitas = results[results["kind"] == "brevitas"].groupby(["dataset", "weight_bits"])["accuracy"].mean()
    rows = [
        {
            "data": dataset,
            "target_bits": target,
            "mean bits reached": _mean_std(group["mean_bits"]),
            "allocation (per seed)": _allocation(group["bits"]),
            "learned accuracy": _mean_std(group["accuracy"]),
            "uniform at floor(target)": f"{reference:.4f}",
            "learned - uniform (points)": _points(group, reference),
            "Brevitas at floor(target)": f"{brevitas.get((dataset, lower), np.nan):.4f}",
        }
        for dataset, target, group, lower, reference in _against_uniform(
            results, "target_bits", "target_bits", lambda target, _: int(np.floor(target))
        )
    ]
    return pd.DataFrame(rows).to_markdown(index=False)


def price_table(results: pd.DataFrame) -> str:
    """bit_lambda: where it lands, against the uniform model at the integer below its mean bits."""
    if not (results["kind"] == "budget").any():
        return "No budget runs."
    rows = [
        {
            "data": dataset,
            "bit_lambda": price,
            "mean bits": _mean_std(group["mean_bits"]),
            "allocation (per seed)": _allocation(group["bits"]),
            "accuracy": _mean_std(group["accuracy"]),
            "uniform at floor(mean bits)": f"{reference:.4f}",
            "difference (points)": _points(group, reference),
        }
        for dataset, price, group, lower, reference in _against_uniform(
            results, "bit_lambda", "bit_lambda", _floor_mean_bits
        )
    ]
    return pd.DataFrame(rows).to_markdown(index=False)


def levers_table(results: pd.DataFrame) -> str:
    levers = results[results["kind"] == "levers"]
    if levers.empty:
        return "No lever runs."
    floats = levers[levers["target"] == 0].groupby(["dataset", "lever"])["accuracy"].mean()
    sections = []
    for (dataset, bits), group in levers[levers["target"] > 0].groupby(["dataset", "target"], sort=False):
        plain = group.loc[group["lever"] == "plain", "accuracy"].mean()
        table = group.groupby("lever", sort=False)["accuracy"].agg(["mean", "std"])
        table["vs plain (points)"] = 100 * (table["mean"] - plain)
        slow, fast = floats.get((dataset, "float, lr 0.001")), floats.get((dataset, "float, lr 0.01"))
        table["vs float lr 0.001 (points)"] = 100 * (table["mean"] - slow)
        table["vs float lr 0.01 (points)"] = 100 * (table["mean"] - fast)
        sections.append(
            f"### {dataset}, {int(bits)}-bit weights / 8-bit activations (float: lr 0.001 "
            f"{slow:.4f}, lr 0.01 {fast:.4f})"
            f"\n\n{table.to_markdown(floatfmt='.4f')}\n"
        )
    return "\n".join(sections)


def sgd_table(results: pd.DataFrame) -> str:
    sgd = results[results["kind"] == "sgd"].copy()
    if sgd.empty:
        return "No SGD runs."
    sgd["weights"] = sgd["weight_bits"].map(lambda b: "float" if pd.isna(b) else f"{int(b)}-bit")
    table = sgd.groupby(["dataset", "solver", "weights"], sort=False).agg(
        accuracy=("accuracy", _mean_std), scale_movement=("scale_movement", _mean_std)
    )
    return table.to_markdown()


def brevitas_table(results: pd.DataFrame) -> str:
    rows = []
    ours_all = results[results["kind"].isin(["bits", "versus"]) & (results["activation_bits"] == 8)]
    for dataset, brevitas in results[results["kind"] == "brevitas"].groupby("dataset", sort=False):
        for weight_bits in sorted(brevitas["weight_bits"].dropna().unique(), reverse=True):
            ours = ours_all[(ours_all["dataset"] == dataset) & (ours_all["weight_bits"] == weight_bits)]
            means = ours.groupby("quantizer")["accuracy"].mean()
            best = means.idxmax() if not means.empty else None
            rows.append(
                {
                    "data": dataset,
                    "weight bits": int(weight_bits),
                    "Brevitas QuantLinear": _mean_std(
                        brevitas.loc[brevitas["weight_bits"] == weight_bits, "accuracy"]
                    ),
                    "skqat best scheme": "n/a" if best is None else best,
                    "skqat best": "n/a"
                    if best is None
                    else _mean_std(ours.loc[ours["quantizer"] == best, "accuracy"]),
                    "skqat lsq": _mean_std(ours.loc[ours["quantizer"] == "lsq", "accuracy"]),
                }
            )
    return pd.DataFrame(rows).to_markdown(index=False)


def plot(results: pd.DataFrame, out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figures (pip install matplotlib)")
        return []
    paths = []
    bits = results[(results["kind"] == "bits") & (results["activation_bits"] != 4)]
    datasets = list(dict.fromkeys(bits["dataset"]))
    # Three panels a row: one row of six is too wide to read in the documentation's text column.
    ncols = min(3, len(datasets))
    nrows = -(-len(datasets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    for ax, dataset in zip(axes.flat, datasets):
        group = bits[bits["dataset"] == dataset]
        floats = group[group["weight_bits"].isna()]["accuracy"]
        for scheme in SCHEMES:
            rows = group[(group["quantizer"] == scheme) & group["weight_bits"].notna()]
            curve = rows.groupby("weight_bits")["accuracy"].agg(["mean", "std"])
            ax.errorbar(
                curve.index.astype(float),
                curve["mean"],
                yerr=curve["std"],
                marker="o",
                label=scheme,
                capsize=2,
            )
        if len(floats):
            ax.axhline(floats.mean(), color="k", linestyle="--", label="float")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("weight bits (8-bit activations)")
        ax.set_title(dataset)
    for row in axes:
        row[0].set_ylabel("test accuracy")
    axes.flat[len(datasets) - 1].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "experiment_a.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    lam = results[results["kind"] == "lambda"]
    if len(lam):
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        for (scheme, wbits), group in lam.groupby(["quantizer", "weight_bits"]):
            curve = group.groupby("quant_lambda")[
                ["grid_distance", "accuracy", "accuracy_unprojected"]
            ].mean()
            x = np.where(curve.index == 0, min(LAMBDAS[1:]) / 10, curve.index)
            label = f"{scheme}, {int(wbits)} bits"
            left.plot(x, curve["grid_distance"], marker="o", label=label)
            (line,) = right.plot(x, curve["accuracy"], marker="o", label=f"{label}: rounded")
            right.plot(
                x,
                curve["accuracy_unprojected"],
                marker="x",
                linestyle=":",
                color=line.get_color(),
                label=f"{label}: unprojected",
            )
        for ax in (left, right):
            ax.set_xscale("log")
            ax.set_xlabel("quant_lambda (leftmost point: 0)")
        left.set_ylabel("mean distance to grid (steps)")
        right.set_ylabel("test accuracy")
        left.legend(fontsize=7)
        right.legend(fontsize=6)
        fig.tight_layout()
        paths.append(out / "experiment_b.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def _kept_rows(out: Path, rerun: str | None) -> tuple[pd.DataFrame, str]:
    """For ``--rerun``: the committed rows of the other studies, and the committed run's size and time."""
    if rerun is None:
        return pd.DataFrame(), ""
    previous = pd.read_csv(out / "experiments.csv")
    # The csv holds dicts, lists and tuples (params, bits, hidden) as their reprs.
    for column in previous.columns:
        previous[column] = previous[column].map(
            lambda v: ast.literal_eval(v) if isinstance(v, str) and v[:1] in "{[(" else v
        )
    header = (out / "experiments.md").read_text().splitlines()[0]
    match = re.search(r"(\d+ fits in [\d.]+ min)", header)
    return previous[previous["kind"] != rerun], (match.group(1) if match else "previous run")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="digits only, one seed, 10 epochs")
    parser.add_argument("--datasets", nargs="*", default=None, help=f"subset of {list(DATASETS)}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "results"))
    parser.add_argument(
        "--rerun",
        metavar="KIND",
        help="rerun only the fits of one study (a value of the csv's `kind` column, e.g. lambda), "
        "keep the other rows of OUT/experiments.csv, and rewrite the tables and figures",
    )
    args = parser.parse_args(argv)

    datasets = args.datasets or (["digits"] if args.quick else list(DATASETS))
    seeds = [0] if args.quick else list(range(args.seeds))
    try:
        import brevitas  # noqa: F401
    except ImportError:
        print(
            "Brevitas is not installed: its comparison is skipped "
            "(pip install -r benchmarks/requirements.txt)"
        )
        brevitas_missing = True
    else:
        brevitas_missing = False
    jobs = [
        j for j in plan(args.quick, datasets, seeds) if not (brevitas_missing and j["kind"] == "brevitas")
    ]
    out = Path(args.out)
    kept, previous_run = _kept_rows(out, args.rerun)
    if args.rerun is not None:
        jobs = [j for j in jobs if j["kind"] == args.rerun]
        if not jobs:
            raise SystemExit(f"--rerun {args.rerun}: no fit of that kind in the plan")

    start = time.perf_counter()
    results = Parallel(n_jobs=args.n_jobs, verbose=0)(delayed(run_job)(job, args.data_dir) for job in jobs)
    wall = time.perf_counter() - start
    results = pd.concat([kept, pd.DataFrame(results)], ignore_index=True)

    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "experiments.csv", index=False)
    header = "quick smoke run" if args.quick else f"mean ± std over {len(seeds)} seeds"
    timing = f"{len(jobs)} fits in {wall / 60:.1f} min"
    if args.rerun is not None:
        timing = f"{previous_run}; the {len(jobs)} `{args.rerun}` fits rerun in {wall / 60:.1f} min"
    text = "\n\n".join(
        [
            f"# Learned quantization schemes ({header}; {timing})",
            "## Experiment A: test accuracy against weight bits, by scheme",
            experiment_a_table(results),
            "## Experiment B: the grid penalty on digits",
            "`accuracy_unprojected`: latent float weights; `grid_distance`: mean |W - q(W)| / s before the "
            "final projection, in grid steps; `accuracy_rounded`: the quantized model. "
            "`penalty` with `quant_lambda=0` is post-training rounding (train float, then round).",
            experiment_b_table(results),
            '## Budget: `weight_bits="learned"` with `target_bits` (bounds (2, 8))',
            "The learned model warms up at 8 bits for a quarter of the epochs, measures each layer's loss at "
            "each width, picks the widths with an exact knapsack, and trains them for all the epochs (the "
            "warm-up comes on top). The uniform model trains at its width from the start. Brevitas: "
            "`QuantLinear` at the same width, split, epochs and Adam.",
            budget_table(results),
            "### The price form: `bit_lambda` (loss units per mean bit)",
            price_table(results),
            "## Low-bit levers: each lever alone, and the 8-bit warm-up with the higher learning rate",
            levers_table(results),
            f"## SGD against Adam (SGD at learning_rate_init={SGD_LEARNING_RATE}, Adam at 0.001)",
            "`scale_movement`: the largest ratio, either way, of a layer's final weight scale to its "
            "initial one.",
            sgd_table(results),
            "## Against Brevitas (same splits, hidden sizes, epochs and Adam; 8-bit activations)",
            "Brevitas keeps PyTorch's default initialisation, skqat scikit-learn's (Glorot); on the raw "
            "pixels (0..16) that difference alone moves accuracy by about a point, so the standardized "
            "rows (`digits_scaled`) compare the quantizers on equal footing.",
            brevitas_table(results) if (results["kind"] == "brevitas").any() else "Brevitas not installed.",
        ]
    )
    (out / "experiments.md").write_text(text + "\n")
    figures = plot(results, out)
    print(text)
    print(f"\nwrote {out / 'experiments.md'}, {out / 'experiments.csv'}, " + ", ".join(map(str, figures)))


if __name__ == "__main__":
    main()
