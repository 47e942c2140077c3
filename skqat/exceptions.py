"""Warnings and errors specific to skqat."""

from __future__ import annotations

__all__ = ["InconsistentVersionWarning"]


class InconsistentVersionWarning(UserWarning):
    """An estimator was unpickled by a different skqat version than the one that pickled it.

    As scikit-learn's warning of the same name: the model may load and predict
    wrongly, or fail later. Refit it, or pin the version that saved it.

    Parameters
    ----------
    estimator_name : str
        Class name of the unpickled estimator.
    current_version : str
        The skqat version that is loading it.
    original_version : str
        The skqat version that pickled it.
    """

    def __init__(self, *, estimator_name: str, current_version: str, original_version: str):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self) -> str:
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skqat version "
            f"{self.original_version} when using version {self.current_version}. This might lead to "
            "breaking code or invalid results. "
            "Refit the model with this version, or install the version that saved it."
        )
