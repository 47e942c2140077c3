"""Sphinx configuration of skqat's documentation site.

Build (warnings are errors)::

    python -m sphinx -W -b html docs docs/_build/html

``SKQAT_DOCS_GALLERY`` chooses how much of the example gallery runs:
``full`` (default, what CI builds) executes every example, ``quick`` only
the quickstart (what ``tests/test_docs.py`` builds), ``none`` none (pages
render without output, and the getting-started page does not run the
quickstart either).

The site needs no network to build or to read: MathJax is served from the
site itself (``docs/_ext/offline_mathjax.py``), and the examples that read
``../shared/data`` fall back to synthetic stand-ins without it (set
``SKQAT_DATA_DIR`` to read the data from elsewhere).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import skqat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # local extensions

project = "skqat"
author = "the skqat developers"
copyright = "2026, the skqat developers"
release = version = skqat.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # sphinx.ext.mathjax, with MathJax copied into _static instead of loaded from a CDN.
    "offline_mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "myst_parser",
    "sklearn_refs",
    "script_output",
]

templates_path = ["_templates"]
# sg_execution_times: left over from builds that still wrote the gallery's timing pages,
# which load jQuery and DataTables from CDNs (see write_computation_times below).
exclude_patterns = [
    "_build",
    "results/*.md",
    "**/README.md",
    "sg_execution_times.rst",
    "auto_examples/sg_execution_times.rst",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
default_role = "literal"

# API reference: one page per public name, generated from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# No intersphinx: the build runs without network, so other projects are cited
# by plain links (and sklearn_refs links what inherited docstrings cite).

html_theme = "pydata_sphinx_theme"
html_title = f"skqat {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = ["_static"]
# Wide tables fit the text column, or scroll sideways when they cannot (docs/_static/skqat.css).
html_css_files = ["skqat.css"]
html_show_sourcelink = False

# Plot directive (the design page's diagram): PNG only, no source links.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

# Example gallery.
_GALLERY = os.environ.get("SKQAT_DOCS_GALLERY", "full")
if _GALLERY not in ("full", "quick", "none"):
    raise ValueError(f"SKQAT_DOCS_GALLERY={_GALLERY!r}: expected 'full', 'quick' or 'none'.")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": {"full": r"\.py$", "quick": r"quickstart\.py$", "none": r"^$"}[_GALLERY],
    "plot_gallery": "True" if _GALLERY != "none" else "False",
    # The quickstart first, then in reading order (docs/_ext/gallery_order.py); named by
    # import path so the configuration stays picklable.
    "within_subsection_order": "gallery_order.GalleryOrder",
    "download_all_examples": False,
    # The timing summary pages load jQuery, DataTables and Bootstrap from CDNs (the site
    # must work offline); each example's page still says how long it ran.
    "write_computation_times": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
    "abort_on_example_error": True,
}

# The getting-started page runs the quickstart as the gallery does, unless no example runs.
script_output_run = _GALLERY != "none"

# Examples fit models that do not converge in their short runs, on purpose.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")
