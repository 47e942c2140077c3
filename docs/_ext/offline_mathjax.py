"""Serve MathJax from the built site, so that math renders without a network.

``sphinx.ext.mathjax`` loads MathJax from a CDN by default; a site opened
offline (or on a machine that reaches no CDN) then shows raw LaTeX. This
extension points ``mathjax_path`` at ``_static/mathjax/tex-chtml.js`` and
copies that file, with the fonts and the components it loads on demand, from
the MathJax 3 distribution that the ``django-static-mathjax`` wheel ships
(a data-only package with no dependencies; it does not need Django). It is
part of the ``docs`` extra.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

#: Where MathJax lands in the built site, under ``_static``.
TARGET = "mathjax"
#: The combined component each page with math loads: TeX input, CommonHTML output.
ENTRY = "tex-chtml.js"
#: What ``tex-chtml.js`` may fetch after it loads: the CommonHTML fonts, the TeX
#: extensions it autoloads (``\boldsymbol`` ...), and what the right-click menu
#: turns on (accessibility, speech). The other combined bundles are left out.
COMPONENTS = ("output/chtml", "input/tex/extensions", "ui", "a11y", "sre", "adaptors")


def mathjax_source() -> Path:
    """The folder of the installed MathJax 3 distribution (its ``es5`` build).

    Returns
    -------
    pathlib.Path
        The folder holding ``tex-chtml.js``.

    Raises
    ------
    sphinx.errors.ExtensionError
        When the package is not installed, or holds no ``tex-chtml.js``.
    """
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        source = Path(location) / "static" / "mathjax" / "es5"
        if (source / ENTRY).is_file():
            return source
    raise ExtensionError(
        "MathJax is not installed: the site serves it itself, so math renders offline. "
        "Install the docs extra (pip install -e '.[docs]'), which brings django-static-mathjax."
    )


def _point_at_local_copy(app: Sphinx, config: Config) -> None:
    # Checked here, at the start, so a missing package fails the build before any page is read.
    mathjax_source()
    # A relative mathjax_path is resolved against _static by sphinx.ext.mathjax.
    config.mathjax_path = f"{TARGET}/{ENTRY}"


def _copy_mathjax(app: Sphinx) -> None:
    # Copied before the pages are written, so Sphinx finds the file and adds its checksum
    # to the script's URL (?v=...) on every build alike, the first one included.
    if app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / ENTRY, target / ENTRY)
    for component in COMPONENTS:
        shutil.copytree(source / component, target / component, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    """Register the extension (after ``sphinx.ext.mathjax``, whose setting it overrides).

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.

    Returns
    -------
    dict
        The extension's metadata.
    """
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _point_at_local_copy)
    app.connect("builder-inited", _copy_mathjax)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
