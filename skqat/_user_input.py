"""What the estimators tell users about their input: non-numeric columns, sparse input, warning frames."""

from __future__ import annotations

import contextlib
import inspect
import os

import pandas as pd
import sklearn

__all__ = ["dense", "explain_non_numeric", "user_stacklevel"]


def _non_numeric_columns(X) -> list[str]:
    """Names (or kinds) of the columns of ``X`` that are not real numbers."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):
        return [
            f"{name!r} ({dtype})"
            for name, dtype in dtypes.items()
            if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_complex_dtype(dtype)
        ]
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    return [f"all columns ({X.dtype})"] if kind in tuple("OUSMmc") else []


@contextlib.contextmanager
def explain_non_numeric(X):
    """Add what to do to validation failures on text, date or complex columns."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        columns = _non_numeric_columns(X)
        if not columns:
            raise
        hint = (
            f"X has columns that are not real numbers: {', '.join(columns[:8])}"
            f"{' ...' if len(columns) > 8 else ''}. skqat's networks take numeric features: encode "
            "categorical or text columns with OneHotEncoder (or OrdinalEncoder), turn dates into numbers "
            "(for example year, month, day), split complex values into real parts, and combine them with a "
            "ColumnTransformer in a Pipeline before the estimator."
        )
        # The same kind of error, the original message first: callers matching on either keep working.
        kind = ValueError if isinstance(exc, ValueError) else TypeError
        raise kind(f"{exc}\n{hint}") from exc


#: Frames in these folders are library code, not the user's: skqat's own, and scikit-learn's
#: (``fit`` runs inside its ``_fit_context`` wrapper; a meta-estimator may call ``fit`` too).
_LIBRARY_DIRS = tuple(os.path.dirname(path) + os.sep for path in (__file__, sklearn.__file__))


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning raised by the caller at the user's line.

    That is the first frame outside skqat and scikit-learn: the user's ``fit`` call, however many
    frames wrappers add in between. When every frame is library code, the outermost one.
    """
    here = inspect.currentframe()
    frame = here.f_back if here is not None else None  # the frame calling warnings.warn: stacklevel 1
    level = 1
    while (
        frame is not None and frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS)
    ):
        frame = frame.f_back
        level += 1
    return level


def dense(X):
    """Sparse input (one-hot encoded features, say) becomes a dense array: the network is dense."""
    return X.toarray() if hasattr(X, "toarray") else X
