"""From estimator hyperparameters to a network: validation of the quantization settings and construction.

The *spec* is a plain dict frozen at fit time: everything needed to rebuild
the same ``QuantMLP`` (for unpickling, or to refuse a ``warm_start`` on a
changed network).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch

from ._activations import get_activation
from ._allocation import check_budget
from ._frozen import network_nbytes, resolve_auto_bits, weight_matrix_nbytes
from ._input_widths import InputWidthsQuantizer
from ._modules import QuantMLP
from ._quantizers import Quantizer, make_quantizer

__all__ = [
    "FIXED_INPUT_BITS",
    "network_spec",
    "build_module",
    "torch_dtype",
    "fixed_nbytes",
    "layer_weight_nbytes",
]

#: Schemes whose weight quantizer can learn its bit width.
_LEARNED_BITS_SCHEMES = ("lsq", "pact")

#: A per-feature input grid this wide or wider is set once from the training data, as a
#: scaler is, and not learned: then fit can hold the training rows as its codes
#: (:meth:`skqat._training.TrainingData.hold_codes_of`). Measured (benchmarks/fixed_input_grids.py,
#: 3 seeds, 4-bit weights, LSQ), learning an 8-bit grid changed test accuracy by -0.09 to +0.08
#: points against the fixed one on digits, standardized digits, Letter, Adult, MNIST and a
#: synthetic set; fixing a 2-bit grid cost up to 3.47 points (Letter), and a 4-bit one 0.52
#: (Adult), so narrower grids keep learning.
FIXED_INPUT_BITS = 8


def _is_int(value) -> bool:
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _layer_bits(weight_bits, n_layers: int) -> list:
    """One weight bit width per layer (int, None or "learned")."""
    if weight_bits is None or weight_bits == "learned" or _is_int(weight_bits):
        return [weight_bits if not _is_int(weight_bits) else int(weight_bits)] * n_layers
    bits = list(weight_bits)
    if len(bits) != n_layers:
        raise ValueError(
            f"weight_bits={tuple(weight_bits)!r} gives {len(bits)} bit widths but the network has "
            f"{n_layers} layers (len(hidden_layer_sizes) + 1); give one per layer, or a single int."
        )
    for b in bits:
        if not (b is None or (_is_int(b) and 1 <= b <= 16)):
            raise ValueError(
                f"weight_bits={tuple(weight_bits)!r}: each entry must be an int in [1, 16] "
                f"or None, got {b!r}."
            )
    return [None if b is None else int(b) for b in bits]


def _bit_bounds(bit_bounds) -> tuple[int, int]:
    try:
        low, high = bit_bounds
    except (TypeError, ValueError):
        low = high = None
    if not (_is_int(low) and _is_int(high) and 1 <= low <= high <= 16):
        raise ValueError(
            f"bit_bounds must be a pair (min_bits, max_bits) of ints with 1 <= min_bits <= max_bits <= 16, "
            f"got {bit_bounds!r}."
        )
    return int(low), int(high)


def _learned_input_widths(params: dict) -> tuple[int, int] | None:
    """``input_bit_bounds`` of ``input_bits="learned"`` after checking its settings; None otherwise."""
    if params["input_bits"] != "learned":
        if params["input_target_bits"] is not None or params["input_bit_lambda"]:
            raise ValueError(
                "input_target_bits and input_bit_lambda set the budget of input_bits='learned'; with "
                f"input_bits={params['input_bits']!r} every feature has the same width. Set "
                "input_bits='learned', or leave input_target_bits=None and input_bit_lambda=0."
            )
        return None
    try:
        low, high = params["input_bit_bounds"]
    except (TypeError, ValueError):
        low = high = None
    if not (_is_int(low) and _is_int(high) and 0 <= low <= high <= 8 and high >= 1):
        raise ValueError(
            "input_bit_bounds must be a pair (min_bits, max_bits) of ints with 0 <= min_bits <= max_bits "
            f"<= 8 and max_bits >= 1, got {params['input_bit_bounds']!r}."
        )
    if params["input_granularity"] != "per_feature":
        raise ValueError(
            "input_bits='learned' gives each feature its own width, which needs a grid per feature; set "
            "input_granularity='per_feature'."
        )
    if params["quantizer"] == "minmax":
        raise ValueError(
            "input_bits='learned' learns each feature's scale on its window; quantizer='minmax' learns no "
            "scale. Use quantizer='lsq' (or 'pact', 'noise', 'penalty')."
        )
    target = params["input_target_bits"]
    if target is None and not params["input_bit_lambda"]:
        raise ValueError(
            "input_bits='learned' chooses each input feature's bit width under a budget; give one: "
            "input_target_bits (the most mean bits per feature, for example 3) or input_bit_lambda "
            "(the loss one bit of mean width is worth, for example 0.01)."
        )
    if target is not None and target < low:
        raise ValueError(
            f"input_target_bits={target} cannot be met: every feature needs at least input_bit_bounds[0]="
            f"{low} bits. Raise input_target_bits or lower input_bit_bounds."
        )
    return int(low), int(high)


def network_spec(params: dict, layer_sizes: list[int], dtype: torch.dtype, *, sized: bool = True) -> dict:
    """Validate the quantization hyperparameters together and freeze them.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    layer_sizes : list of int
        ``[n_features, *hidden, n_outputs]``.
    dtype : torch.dtype
        Training dtype.
    sized : bool, default=True
        Whether ``layer_sizes`` are the real ones; False skips the checks
        that depend on them (``target_bytes``).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For combinations that individual parameter checks cannot see.
    """
    n_layers = len(layer_sizes) - 1
    layer_bits = _layer_bits(params["weight_bits"], n_layers)
    min_bits, max_bits = _bit_bounds(params["bit_bounds"])
    scheme = params["quantizer"]
    if "learned" in layer_bits:
        if scheme not in _LEARNED_BITS_SCHEMES:
            raise ValueError(
                f"weight_bits='learned' works with quantizer in {_LEARNED_BITS_SCHEMES}, got "
                f"quantizer={scheme!r}."
            )
        if not params["symmetric"]:
            raise ValueError("weight_bits='learned' learns symmetric grids; set symmetric=True.")
        if params["target_bits"] is None and params["target_bytes"] is None and not params["bit_lambda"]:
            raise ValueError(
                "weight_bits='learned' chooses each layer's bit width under a budget; give one: "
                "target_bits (the most mean bits per weight, for example 3.5), target_bytes (the most "
                "bytes of the packed model) or bit_lambda (the loss one bit of mean width is worth, for "
                "example 0.01)."
            )
        if params["target_bits"] is not None and params["target_bytes"] is not None:
            raise ValueError(
                f"target_bits={params['target_bits']} and target_bytes={params['target_bytes']} are two "
                "budgets; give one of them (set the other to None)."
            )
        check_budget(params["target_bits"], (min_bits, max_bits))
        if params["sparsity"] > 0 and min_bits == 1:
            raise ValueError(
                "sparsity > 0 needs an exact zero on the weight grid, which the binary (1-bit) grid "
                "{-s, +s} lacks; use bit_bounds with min_bits >= 2 or sparsity=0."
            )
    elif params["target_bits"] is not None or params["target_bytes"] is not None or params["bit_lambda"]:
        raise ValueError(
            "target_bits, target_bytes and bit_lambda set the budget of weight_bits='learned'; with "
            f"weight_bits={params['weight_bits']!r} the widths are fixed. Set weight_bits='learned', or "
            "leave target_bits=None, target_bytes=None and bit_lambda=0."
        )
    if params["sparsity"] > 0 and 1 in layer_bits:
        raise ValueError(
            "sparsity > 0 needs an exact zero on the weight grid, which the binary (1-bit) grid "
            "{-s, +s} lacks; use weight_bits >= 2 or sparsity=0."
        )
    learned_inputs = _learned_input_widths(params)
    input_bits, bias_bits = resolve_auto_bits(
        learned_inputs[1] if learned_inputs else params["input_bits"],
        params["bias_bits"],
        layer_bits,
        params["activation_bits"],
        n_layers - 1,
    )
    if bias_bits is not None and all(b is None for b in layer_bits):
        raise ValueError("bias_bits needs quantized weights (its scale is s_w * s_in); set weight_bits.")
    spec = {
        "layer_sizes": list(layer_sizes),
        "activation": params["activation"],
        "layer_bits": layer_bits,
        "activation_bits": params["activation_bits"],
        "input_bits": input_bits,
        "per_feature_input": input_bits is not None and params["input_granularity"] == "per_feature",
        "fixed_input_grid": (
            input_bits is not None
            and not learned_inputs
            and params["input_granularity"] == "per_feature"
            and input_bits >= FIXED_INPUT_BITS
        ),
        # (min_bits, max_bits) of input_bits="learned"; absent from specs written before it.
        "input_bit_bounds": learned_inputs,
        "input_target_bits": None
        if params["input_target_bits"] is None
        else float(params["input_target_bits"]),
        "input_bit_lambda": float(params["input_bit_lambda"]),
        "bias_bits": bias_bits,
        "quantizer": scheme,
        "per_channel": params["granularity"] == "per_channel",
        "symmetric": bool(params["symmetric"]),
        "clipped_ste": params["ste"] == "clipped",
        "noise_rate": float(params["noise_rate"]),
        "bit_bounds": (min_bits, max_bits),
        "target_bits": None if params["target_bits"] is None else float(params["target_bits"]),
        "target_bytes": None if params["target_bytes"] is None else int(params["target_bytes"]),
        "bit_lambda": float(params["bit_lambda"]),
        "pruned": params["sparsity"] > 0,
        # A string, not a torch.dtype: the spec is pickled, and files should not hold torch objects.
        "dtype": str(dtype).removeprefix("torch."),
    }
    if sized and spec["target_bytes"] is not None:
        smallest = fixed_nbytes(spec) + sum(layer_weight_nbytes(spec, i, min_bits) for i in range(n_layers))
        if spec["target_bytes"] < smallest:
            raise ValueError(
                f"target_bytes={spec['target_bytes']} cannot be met: with every layer at bit_bounds[0]="
                f"{min_bits} bits this network packs into {smallest} bytes. Raise target_bytes, lower "
                "bit_bounds, or shrink hidden_layer_sizes."
            )
    return spec


def layer_weight_nbytes(spec: dict, index: int, bits: int) -> int:
    """Packed bytes of layer ``index``'s weights at ``bits`` (learned-bit grids are symmetric)."""
    sizes = spec["layer_sizes"]
    return weight_matrix_nbytes(
        sizes[index], sizes[index + 1], bits, spec["per_channel"], not spec["symmetric"]
    )


def fixed_nbytes(spec: dict) -> int:
    """Packed bytes of everything but the weights (biases, grids): what no allocation changes."""
    n_layers = len(spec["layer_sizes"]) - 1
    bits = spec["bit_bounds"][0]
    total = network_nbytes(
        spec["layer_sizes"],
        [bits] * n_layers,
        per_channel=spec["per_channel"],
        asymmetric=not spec["symmetric"],
        bias_bits=spec["bias_bits"],
        input_bits=spec["input_bits"],
        activation_bits=spec["activation_bits"],
        per_feature_input=spec.get("per_feature_input", False),
    )
    return total - sum(layer_weight_nbytes(spec, i, bits) for i in range(n_layers))


def torch_dtype(spec: dict) -> torch.dtype:
    """The training dtype a spec records."""
    return getattr(torch, spec["dtype"])


def build_module(spec: dict, device: torch.device) -> QuantMLP:
    """Construct the ``QuantMLP`` a spec describes, with fresh (uninitialised) grids."""
    common = {
        "symmetric": spec["symmetric"],
        "clipped_ste": spec["clipped_ste"],
        "dtype": torch_dtype(spec),
        "device": device,
    }
    min_bits, max_bits = spec["bit_bounds"]

    def weight_quantizer(index, n_out, n_in):
        per_channel = spec["per_channel"]
        return make_quantizer(
            spec["quantizer"],
            "weight",
            spec["layer_bits"][index],
            signed=True,
            param_shape=(n_out, 1) if per_channel else (),
            group_size=n_in if per_channel else n_in * n_out,
            noise_rate=spec["noise_rate"],
            min_bits=min_bits,
            max_bits=max_bits,
            **common,
        )

    def activation_quantizer(width):
        # Non-negative outputs (relu, logistic): an unsigned grid spends no
        # code on values that cannot occur.
        signed = not get_activation(spec["activation"]).nonnegative
        return make_quantizer(
            spec["quantizer"],
            "activation",
            spec["activation_bits"],
            signed=signed,
            group_size=width,
            **common,
        )

    n_features = spec["layer_sizes"][0]
    per_feature = spec.get("per_feature_input", False)
    input_options = {
        "signed": True,
        # Per feature: a scale per column, shared by one value per sample.
        "param_shape": (1, n_features) if per_feature else (),
        "group_size": 1 if per_feature else n_features,
        **common,
    }
    input_quantizer: Quantizer | None
    if spec.get("input_bit_bounds"):
        low, high = spec["input_bit_bounds"]
        input_quantizer = InputWidthsQuantizer(
            min_bits=low, max_bits=high, pact=spec["quantizer"] == "pact", **input_options
        )
    else:
        input_quantizer = make_quantizer(spec["quantizer"], "input", spec["input_bits"], **input_options)
    # Specs written before fixed input grids existed lack the key: those models keep learning theirs.
    if input_quantizer is not None and spec.get("fixed_input_grid", False):
        input_quantizer.freeze()
    return QuantMLP(
        spec["layer_sizes"],
        spec["activation"],
        weight_quantizer,
        activation_quantizer,
        input_quantizer=input_quantizer,
        bias_bits=spec["bias_bits"],
        pruned=spec["pruned"],
        dtype=torch_dtype(spec),
        device=device,
    )
