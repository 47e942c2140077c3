"""Draw the gallery thumbnails of the examples that print and draw nothing.

sphinx-gallery makes a card's thumbnail from the first figure an example
draws; an example that only prints gets a placeholder. Those examples name
one of these PNGs instead (``# sphinx_gallery_thumbnail_path =
"thumbnails/NAME.png"``, relative to ``docs/``). They are small diagrams of
what the example does, committed so the build does not draw them; rerun this
script after changing one::

    python docs/thumbnails/draw_thumbnails.py

The quickstart's bars are the packed sizes of its four models, computed
here (they depend on the network's shape and bit widths only).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

HERE = Path(__file__).resolve().parent
#: sphinx-gallery's default thumbnail size, in pixels (drawn at 100 dpi).
SIZE = (4.0, 2.8)
TEAL, VIOLET, ORANGE, GRAY, LIGHT = "#0a7d91", "#8045e5", "#f66a0a", "#677384", "#d0ecf1"


def _canvas():
    fig = plt.figure(figsize=SIZE, dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 40)
    ax.set_ylim(0, 28)
    ax.axis("off")
    return fig, ax


def _box(ax, x, y, w, h, text, color, size=17, text_color="white"):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=1", color=color))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=text_color)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=28, lw=3, color=GRAY))


def quickstart(ax):
    """Packed size of the quickstart's float32, 8-, 4- and 2-bit models."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning

    from skqat import QuantizedMLPClassifier

    X, y = load_digits(return_X_y=True)
    rows = [("float32", None, None), ("8-bit", 8, 8), ("4-bit", 4, 8), ("2-bit", 2, 8)]
    sizes = []
    for _, weight_bits, activation_bits in rows:
        # One epoch is enough: the packed size depends on shapes and widths only.
        clf = QuantizedMLPClassifier(
            hidden_layer_sizes=(100,), weight_bits=weight_bits, activation_bits=activation_bits, max_iter=1
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        sizes.append(int(clf.quantization_report()["bytes"].sum()))
    ax.text(20, 25, "bytes: float vs 8 / 4 / 2 bits", ha="center", va="center", fontsize=15, color=GRAY)
    for i, ((name, *_), size) in enumerate(zip(rows, sizes)):
        y0 = 17.5 - 5.2 * i
        ax.text(9, y0 + 1.8, name, ha="right", va="center", fontsize=16)
        ax.add_patch(Rectangle((10, y0), 28 * size / sizes[0], 3.6, color=GRAY if i == 0 else TEAL))


def adult_pipeline(ax):
    """A mixed-type table through a column transformer into the MLP."""
    cells = [["age", "job", "sex"], ["39", "clerk", "M"], ["50", "?", "F"], ["38", "sales", "M"]]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            x, y = 1.5 + 6 * c, 20 - 5 * r
            ax.add_patch(Rectangle((x, y), 6, 5, facecolor=LIGHT if r == 0 else "white", edgecolor=GRAY))
            ax.text(x + 3, y + 2.5, value, ha="center", va="center", fontsize=13)
    _arrow(ax, (20.5, 12.5), (26, 12.5))
    _box(ax, 27, 8, 11.5, 9, "4-bit\nMLP", TEAL)
    ax.text(10.5, 2.5, "DataFrame", ha="center", va="center", fontsize=16, color=GRAY)


def streaming_partial_fit(ax):
    """Chunks of a CSV file, one partial_fit call each."""
    for i in range(5):
        ax.add_patch(Rectangle((2, 2 + 4.6 * i), 11, 3.8, color=TEAL, alpha=0.35 + 0.13 * i))
    ax.text(7.5, 25.8, "CSV chunks", ha="center", va="center", fontsize=15, color=GRAY)
    for i in (1, 2, 3):
        _arrow(ax, (14, 5 + 5.5 * i - 3), (24, 13.5))
    _box(ax, 24.5, 10, 14, 7, "partial_fit", VIOLET, size=15)


def dask_search(ax):
    """A grid of candidates shared between two workers."""
    for r in range(3):
        for c in range(4):
            color = TEAL if (r * 4 + c) % 2 == 0 else ORANGE
            ax.add_patch(Rectangle((3 + 6.5 * c, 3 + 6.5 * r), 5.5, 5.5, color=color))
    ax.text(33.5, 18, "worker 1", ha="center", va="center", fontsize=13, color=TEAL)
    ax.text(33.5, 12, "worker 2", ha="center", va="center", fontsize=13, color=ORANGE)
    ax.text(15, 25.5, "bits x quant_lambda", ha="center", va="center", fontsize=14, color=GRAY)


def export_integer_and_onnx(ax):
    """One fitted model, two files: the integer .npz and ONNX."""
    _box(ax, 1.5, 10, 11, 8, "fitted\nmodel", TEAL)
    _arrow(ax, (13.5, 15.5), (23, 21))
    _arrow(ax, (13.5, 12.5), (23, 7))
    _box(ax, 24, 17.5, 14, 7, "int .npz", VIOLET, size=16)
    _box(ax, 24, 3.5, 14, 7, "ONNX", ORANGE, size=16)


def deploy_microcontroller(ax):
    """A chip running the exported C header."""
    for i in range(5):
        offset = 11 + 2.8 * i
        ax.add_patch(Rectangle((offset, 2.5), 1.2, 3, color=GRAY))  # bottom pins
        ax.add_patch(Rectangle((offset, 22.5), 1.2, 3, color=GRAY))  # top pins
    for i in range(4):
        offset = 8.2 + 3.2 * i
        ax.add_patch(Rectangle((6, offset), 3, 1.2, color=GRAY))  # left pins
        ax.add_patch(Rectangle((31, offset), 3, 1.2, color=GRAY))  # right pins
    _box(ax, 9.5, 6, 21, 16, "model.h\nint only", "#29313d", size=18)


#: One PNG per example that draws no figure, named after it.
THUMBNAILS = [
    quickstart,
    adult_pipeline,
    streaming_partial_fit,
    dask_search,
    export_integer_and_onnx,
    deploy_microcontroller,
]


def main() -> None:
    """Draw every thumbnail into this folder, one PNG per example."""
    for draw in THUMBNAILS:
        fig, ax = _canvas()
        draw(ax)
        path = HERE / f"{draw.__name__}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
