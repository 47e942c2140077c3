"""Peer implementations for side-by-side measurements: a plain PyTorch loop and Brevitas.

Each peer is a small estimator-like object (``fit``/``predict``) training the
same MLP as skqat would: Glorot-style default init of torch, Adam, batch
``batch_size``, ``epochs`` full passes with shuffling, cross-entropy loss.
Peers that are not installed raise ``ImportError`` from ``fit``; callers
report them as missing rather than faking a number.
"""

from __future__ import annotations

import numpy as np


class _TorchClassifier:
    """Shared fit/predict loop; subclasses build the network."""

    def __init__(
        self, hidden_layer_sizes=(100,), epochs=200, batch_size=200, learning_rate=1e-3, random_state=0
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _network(self, n_features, n_classes):
        raise NotImplementedError  # pragma: no cover - each peer defines its network

    def fit(self, X, y):
        import torch

        torch.manual_seed(self.random_state)
        self.classes_, codes = np.unique(y, return_inverse=True)
        X_t = torch.tensor(np.asarray(X), dtype=torch.float32)
        y_t = torch.tensor(codes, dtype=torch.int64)
        self.model_ = self._network(X_t.shape[1], len(self.classes_))
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(self.random_state)
        self.model_.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(X_t), generator=generator)
            for start in range(0, len(X_t), self.batch_size):
                idx = order[start : start + self.batch_size]
                optimizer.zero_grad()
                loss_fn(self.model_(X_t[idx]), y_t[idx]).backward()
                optimizer.step()
        self.model_.eval()
        return self

    def predict(self, X):
        import torch

        with torch.no_grad():
            logits = self.model_(torch.tensor(np.asarray(X), dtype=torch.float32))
        return self.classes_[np.asarray(logits.argmax(1))]


class TorchMLP(_TorchClassifier):
    """A plain float PyTorch MLP with ``torch.optim.Adam``."""

    def _network(self, n_features, n_classes):
        from torch import nn

        layers, width = [], n_features
        for size in self.hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        return nn.Sequential(*layers, nn.Linear(width, n_classes))


class BrevitasMLP(_TorchClassifier):
    """Brevitas ``QuantLinear`` layers with ``weight_bits`` weights and ``QuantReLU`` activations."""

    def __init__(self, weight_bits=4, activation_bits=8, **kwargs):
        super().__init__(**kwargs)
        self.weight_bits = weight_bits
        self.activation_bits = activation_bits

    def _network(self, n_features, n_classes):
        import brevitas.nn as qnn
        from torch import nn

        layers, width = [], n_features
        for size in self.hidden_layer_sizes:
            layers += [
                qnn.QuantLinear(width, size, bias=True, weight_bit_width=self.weight_bits),
                qnn.QuantReLU(bit_width=self.activation_bits),
            ]
            width = size
        layers.append(qnn.QuantLinear(width, n_classes, bias=True, weight_bit_width=self.weight_bits))
        return nn.Sequential(*layers)


class SkorchMLP(_TorchClassifier):
    """skorch's ``NeuralNetClassifier`` around the same float MLP as :class:`TorchMLP`."""

    def fit(self, X, y):
        import torch
        from skorch import NeuralNetClassifier

        torch.manual_seed(self.random_state)
        self.classes_, codes = np.unique(y, return_inverse=True)
        module = TorchMLP(self.hidden_layer_sizes)._network(X.shape[1], len(self.classes_))
        self.net_ = NeuralNetClassifier(
            module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=self.learning_rate,
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            train_split=None,
            verbose=0,
            iterator_train__shuffle=True,
        )
        self.net_.fit(np.asarray(X, dtype=np.float32), codes.astype(np.int64))
        return self

    def predict(self, X):
        return self.classes_[self.net_.predict(np.asarray(X, dtype=np.float32))]
