"""The documentation site: it builds with warnings as errors, every public name has a page, the
user guide's snippets run, and it reads well offline: getting started first, every gallery card with
a thumbnail, MathJax served by the site, tables that fit or scroll, and examples that build without
the shared data.

The site is built once per session with ``SKQAT_DOCS_GALLERY=quick`` (the
API pages, every guide page, and the quickstart example executed), unless
``SKQAT_DOCS_BUILD`` names a directory where it was already built (CI builds
it in a leg of its own, then points the tests at it).
"""

import doctest
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import numpy as np
import pytest

import skqat
import skqat.exceptions
import skqat.plot

pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install 'skqat[docs]')")
pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed (pip install 'skqat[docs]')")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE_PAGES = sorted(p for p in (DOCS / "user_guide").glob("*.rst") if p.name != "index.rst")
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The built HTML site."""
    given = os.environ.get("SKQAT_DOCS_BUILD")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("docs_html")
    env = {**os.environ, "SKQAT_DOCS_GALLERY": "quick"}
    # -E: a fresh environment, so warnings of every page are reported (as errors).
    cmd = [sys.executable, "-m", "sphinx", "-W", "-E", "-q", "-b", "html", str(DOCS), str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def _public_names():
    modules = [skqat, skqat.plot, skqat.exceptions]
    return [
        (f"{module.__name__}.{name}", getattr(module, name)) for module in modules for name in module.__all__
    ]


@pytest.mark.parametrize(("qualname", "obj"), _public_names(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_name_has_a_reference_page(site, qualname, obj):
    page = site / "generated" / f"{qualname}.html"
    assert page.is_file(), f"{qualname} has no page in the API reference (add it to docs/api.rst)"
    html = page.read_text(encoding="utf-8")
    assert f'id="{qualname}"' in html
    if inspect.isclass(obj):
        # Every documented parameter and every public method is on the page.
        for name in inspect.signature(obj).parameters:
            assert re.search(rf"<strong>{re.escape(name)}</strong>", html), f"{qualname}: parameter {name}"
        for name, member in inspect.getmembers(obj):
            if not name.startswith("_") and callable(member) and not inspect.isclass(member):
                assert f'id="{qualname}.{name}"' in html, f"{qualname}.{name} is not documented"


def test_estimator_pages_list_the_fitted_attributes(site):
    html = (site / "generated" / "skqat.QuantizedMLPClassifier.html").read_text(encoding="utf-8")
    for attribute in ["classes_", "coefs_", "intercepts_", "loss_curve_", "weight_bits_", "n_iter_"]:
        assert f"<strong>{attribute}</strong>" in html, attribute


def test_the_gallery_ran_the_quickstart(site):
    html = (site / "auto_examples" / "quickstart.html").read_text(encoding="utf-8")
    # The printed table: sphinx-gallery captured what the script wrote.
    assert "sphx-glr-script-out" in html and "2-bit" in html and "accuracy" in html


def test_the_guide_has_every_promised_page():
    names = {p.stem for p in GUIDE_PAGES}
    assert names == {
        "quantization",
        "schemes",
        "budget",
        "pipelines",
        "large_data",
        "deployment",
        "reproducibility",
    }


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda p: p.stem)
def test_user_guide_snippets_run(page, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        report=True,
    )
    assert result.attempted > 0, f"{page.name} has no runnable snippet"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {page.name}"


#: Pages whose measured numbers must come from the committed results (``docs/results/*.md``).
MEASURED_PAGES = [
    DOCS / "experiments.rst",
    DOCS / "related_work.rst",
    DOCS / "getting_started.rst",
    *GUIDE_PAGES,
]
#: Accuracies, ratios and times as the result tables print them: three or four decimals.
_MEASURED = re.compile(r"(?<![\w.])\d+\.\d{3,4}(?!\d)")


@pytest.mark.parametrize("page", MEASURED_PAGES, ids=lambda p: p.stem)
def test_quoted_numbers_come_from_the_committed_results(page):
    results = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DOCS / "results").glob("*.md")))
    known = set(_MEASURED.findall(results))
    # Doctest lines are computed when the page's snippets run, not quoted.
    prose = [
        line
        for line in page.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith((">>>", "..."))
    ]
    quoted = set(_MEASURED.findall("\n".join(prose)))
    assert quoted <= known, f"{page.name} quotes numbers no results file holds: {sorted(quoted - known)}"


def _text(html):
    """What a reader sees of some HTML: the tags removed (highlighted code is split into spans)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def _pages(site):
    """The HTML pages of this build (``searchindex.js`` lists them; stale files of older builds are not)."""
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    docnames = json.loads(re.search(r'"docnames":(\[.*?\])', index).group(1))
    return {name: site / f"{name}.html" for name in docnames}


def test_getting_started_comes_first(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    # The first entry of the root toctree is where "next" leads from the front page.
    assert re.search(r'<link rel="next" title="Getting started" href="getting_started.html"', html)
    navbar = re.findall(r'class="nav-link nav-internal" href="([^"]+)"', html)
    assert navbar[:5] == [
        "getting_started.html",
        "user_guide/index.html",
        "api.html",
        "auto_examples/index.html",
        "background.html",
    ]
    # A short structure, not the old list of every section of every page (about 45 links).
    article = html[html.index("<article") : html.index("</article>")]
    assert len(re.findall(r"<a\s", article)) < 15


def test_getting_started_shows_the_quickstart_and_what_it_printed(site):
    html = (site / "getting_started.html").read_text(encoding="utf-8")
    text = _text(html)
    assert "pip install -e ." in text and 'href="install.html"' in html
    # The script itself (literalinclude), then its output, run while the site was built.
    assert "clf.quantization_report()" in text and "QuantizedMLPClassifier(" in text
    output = re.findall(
        r'<div class="highlight-none notranslate"><div class="highlight"><pre>(.*?)</pre>', html, re.S
    )
    assert output, "the quickstart's output block is missing"
    text = _text(output[-1])
    assert re.search(r"model\s+accuracy\s+size \(bytes\)\s+vs float\s+fit \(s\)", text)
    for name in ("float32", "8-bit", "4-bit", "2-bit"):
        assert re.search(rf"^{name}\s+0\.\d{{4}}\s", text, re.M), name
    assert "Per-tensor view of the 2-bit model" in text
    for page in ("user_guide/quantization.html", "user_guide/deployment.html", "api.html"):
        assert f'href="{page}' in html, f"'What next' does not link {page}"


def _gallery_order():
    spec = importlib.util.spec_from_file_location("gallery_order", DOCS / "_ext" / "gallery_order.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ORDER


def test_the_gallery_order_lists_every_example():
    assert set(_gallery_order()) == {p.name for p in EXAMPLES}
    assert _gallery_order()[0] == "quickstart.py"


def test_the_gallery_shows_the_quickstart_first(site):
    html = (site / "auto_examples" / "index.html").read_text(encoding="utf-8")
    cards = re.findall(
        r'class="sphx-glr-thumbcontainer".*?<a class="reference internal" href="([^"]+)\.html"', html, re.S
    )
    assert cards == [name.removesuffix(".py") for name in _gallery_order()]


def _draws_a_figure(script):
    return "matplotlib" in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_without_figures_names_a_committed_thumbnail(script):
    named = re.findall(
        r'^# sphinx_gallery_thumbnail_path = "([^"]+)"$', script.read_text(encoding="utf-8"), re.M
    )
    if _draws_a_figure(script) and not named:
        return  # its first figure is the thumbnail
    assert named, f"{script.name} draws no figure: name a thumbnail (# sphinx_gallery_thumbnail_path = ...)"
    from PIL import Image

    thumbnail = DOCS / named[0]
    assert thumbnail.is_file(), f"{script.name}: {thumbnail} is not committed"
    assert Image.open(thumbnail).size == (400, 280)  # sphinx-gallery's thumbnail size, not rescaled


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_every_gallery_card_has_a_real_thumbnail(site, script, tmp_path):
    from PIL import Image
    from sphinx_gallery import glr_path_static
    from sphinx_gallery.utils import scale_image

    page = (site / "auto_examples" / f"{script.stem}.html").read_text(encoding="utf-8")
    if _draws_a_figure(script) and "sphx-glr-single-img" not in page and "sphx-glr-multi-img" not in page:
        pytest.skip(f"{script.name} did not run in this build (SKQAT_DOCS_GALLERY=quick): no figure to show")
    placeholder = tmp_path / "no_image.png"
    scale_image(Path(glr_path_static()) / "no_image.png", placeholder, 400, 280)
    thumbnail = site / "_images" / f"sphx_glr_{script.stem}_thumb.png"
    pixels = np.asarray(Image.open(thumbnail).convert("RGB"))
    assert not np.array_equal(pixels, np.asarray(Image.open(placeholder).convert("RGB"))), (
        f"{script.name} has sphinx-gallery's placeholder thumbnail"
    )


def test_math_is_served_by_the_site(site):
    math_pages = 0
    for name, page in _pages(site).items():
        html = page.read_text(encoding="utf-8")
        # Nothing remote: no script or stylesheet from a CDN, MathJax included.
        remote = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"[^>]*>', html)
        assert not remote, f"{name} loads {remote}"
        if 'class="math notranslate nohighlight"' in html:
            math_pages += 1
            scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html, re.I)
            assert scripts, f"{name} has math but loads no MathJax"
            for src in scripts:
                path = src.split("?")[0]  # Sphinx appends ?v=<checksum> to the files it finds
                assert (page.parent / path).resolve().is_file(), f"{name}: {src} is not in the site"
    assert math_pages >= 5
    fonts = list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "MathJax's fonts are not in the site"
    assert (site / "_static" / "mathjax" / "input" / "tex" / "extensions").is_dir()


@pytest.mark.parametrize("page", ["user_guide/deployment.html", "user_guide/budget.html"])
def test_wide_tables_fit_or_scroll(site, page):
    html = (site / page).read_text(encoding="utf-8")
    assert "_static/skqat.css" in html
    # Every table sits in the theme's box, which scrolls sideways what still does not fit.
    tables = len(re.findall(r"<table\b", html))
    boxed = len(re.findall(r'<div class="pst-scrollable-table-container">\s*<table\b', html))
    assert tables and boxed == tables
    css = (site / "_static" / "skqat.css").read_text(encoding="utf-8")
    assert re.search(r"\.pst-scrollable-table-container\s*\{[^}]*overflow-x:\s*auto", css)
    # Fit first: a list-table's :widths: hold (the deployment page's guarantee column), literals
    # and headers wrap, and tables of five columns or more (the budget results) are set smaller.
    assert re.search(r"table\.colwidths-given\s*\{[^}]*table-layout:\s*fixed", css)
    assert re.search(r"code\.literal[^{]*\{[^}]*white-space:\s*normal", css)
    assert re.search(r"table\.table th\s*\{[^}]*overflow-wrap:\s*anywhere", css)
    assert re.search(r":has\(tr > :nth-child\(5\)\)\s*\{[^}]*font-size:\s*0\.8em", css)


def test_experiment_a_figure_is_a_grid_not_a_strip(site):
    from PIL import Image

    width, height = Image.open(DOCS / "results" / "experiment_a.png").size
    # Six panels in one row (2772 x 396) shrink to unreadable in the text column; 3 a row read.
    assert width / height <= 2.5, f"experiment_a.png is {width} x {height}: redraw it as a grid"
    assert "experiment_a.png" in (site / "experiments.html").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adult_pipeline.py", "packed integer model"),
        ("streaming_partial_fit.py", "pass 1: held-out accuracy"),
    ],
)
def test_data_examples_build_without_the_shared_data(name, expected, tmp_path):
    """As in a fresh clone: no ``../shared/data``, so the gallery runs them on stand-ins."""
    env = {**os.environ, "SKQAT_DATA_DIR": str(tmp_path / "absent")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "synthetic stand-in" in result.stdout and "absent" in result.stdout
    assert expected in result.stdout
