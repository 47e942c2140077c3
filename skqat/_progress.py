"""Per-epoch progress bar for ``verbose=True``."""

from __future__ import annotations

from tqdm.auto import tqdm

__all__ = ["EpochProgress"]


class EpochProgress:
    """A tqdm bar over epochs: the loss, the validation score and learned bits where there are any.

    Disabled, it creates no bar and prints nothing.
    """

    def __init__(self, n_epochs: int, enabled: bool):
        self._bar = tqdm(total=n_epochs, unit="epoch", desc="fit", leave=True) if enabled else None

    def update(
        self, epoch: int, loss: float, validation_score: float | None, bits: float | None = None
    ) -> None:
        if self._bar is None:
            return
        postfix = {"loss": f"{loss:.5f}"}
        if validation_score is not None:
            postfix["val_score"] = f"{validation_score:.4f}"
        if bits is not None:
            postfix["bits"] = f"{bits:.2f}"
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        return False
