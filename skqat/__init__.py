"""skqat: learned quantization for scikit-learn multilayer perceptrons.

Quantization-aware training of MLPs on a PyTorch backend, behind
scikit-learn's estimator API.
"""

from ._classifier import QuantizedMLPClassifier
from ._regressor import QuantizedMLPRegressor

__version__ = "0.1.0"

__all__ = ["QuantizedMLPClassifier", "QuantizedMLPRegressor", "__version__"]
