"""The order of the example gallery: the quickstart first, then from fitting to deploying.

sphinx-gallery sorts the examples of a gallery with the key named by
``within_subsection_order``; ``conf.py`` names :class:`GalleryOrder` by its
import path (a string, so that the configuration stays picklable). The files
keep their names, because the tests and CI run them by path.
"""

from __future__ import annotations

from pathlib import Path

#: Gallery cards in reading order: start, look inside a model, search,
#: real data and pipelines, scale out, then export and deploy.
ORDER = (
    "quickstart.py",
    "plots.py",
    "grid_search_bits_lambda.py",
    "adult_pipeline.py",
    "streaming_partial_fit.py",
    "dask_search.py",
    "export_integer_and_onnx.py",
    "deploy_microcontroller.py",
    "deploy_pipeline.py",
)


class GalleryOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Examples listed in :data:`ORDER` come first, in that order; any other
    example follows, by file name, so a new example shows up before it is
    listed (``tests/test_docs.py`` checks that every example is listed).

    Parameters
    ----------
    src_dir : str or pathlib.Path
        The gallery's source folder (sphinx-gallery passes it; unused).
    """

    def __init__(self, src_dir: str | Path) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str | Path) -> tuple[int, str]:
        """The sort key of one example.

        Parameters
        ----------
        filename : str or pathlib.Path
            The example's file name (sphinx-gallery passes the name alone).

        Returns
        -------
        tuple of (int, str)
            Its place in :data:`ORDER` (``len(ORDER)`` if unlisted) and its name.
        """
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:
        # sphinx-gallery prints the key in its summary and compares configurations by repr.
        return f"<{type(self).__name__}>"
