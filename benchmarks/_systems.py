"""The systems compared: each builds an estimator-like object for a workload.

Every system trains for exactly ``workload.epochs`` epochs (no early stop on
the training loss), so fit times compare the same amount of work. A peer that
is not installed raises ImportError when built; ``run.py`` reports it as
missing.
"""

from __future__ import annotations

from _peers import BrevitasMLP, SkorchMLP, TorchMLP

_NO_EARLY_STOP = {"tol": 0.0, "n_iter_no_change": 10**9}


def sklearn_mlp(workload):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=workload.hidden_layer_sizes,
        max_iter=workload.epochs,
        batch_size=workload.batch_size,
        learning_rate_init=workload.learning_rate,
        random_state=0,
        **_NO_EARLY_STOP,
    )


def _skqat(weight_bits, activation_bits):
    def build(workload):
        from skqat import QuantizedMLPClassifier

        return QuantizedMLPClassifier(
            hidden_layer_sizes=workload.hidden_layer_sizes,
            max_iter=workload.epochs,
            batch_size=workload.batch_size,
            learning_rate_init=workload.learning_rate,
            weight_bits=weight_bits,
            activation_bits=activation_bits,
            random_state=0,
            **_NO_EARLY_STOP,
        )

    return build


def _peer(cls, **kwargs):
    def build(workload):
        return cls(
            hidden_layer_sizes=workload.hidden_layer_sizes,
            epochs=workload.epochs,
            batch_size=workload.batch_size,
            learning_rate=workload.learning_rate,
            **kwargs,
        )

    return build


SYSTEMS = {
    "sklearn": sklearn_mlp,
    "torch-loop": _peer(TorchMLP),
    "skorch": _peer(SkorchMLP),
    "brevitas-4bit": _peer(BrevitasMLP, weight_bits=4, activation_bits=8),
    "skqat-float": _skqat(None, None),
    "skqat-8bit": _skqat(8, 8),
    "skqat-4bit": _skqat(4, 8),
    "skqat-2bit": _skqat(2, 8),
}
