"""The documentation site: it builds with warnings as errors, every public name has a page, and the
user guide's snippets run.

The site is built once per session with ``SKQAT_DOCS_GALLERY=quick`` (the
API pages, every guide page, and the quickstart example executed), unless
``SKQAT_DOCS_BUILD`` names a directory where it was already built (CI builds
it in a leg of its own, then points the tests at it).
"""

import doctest
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skqat
import skqat.exceptions
import skqat.plot

pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install 'skqat[docs]')")
pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed (pip install 'skqat[docs]')")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE_PAGES = sorted(p for p in (DOCS / "user_guide").glob("*.rst") if p.name != "index.rst")


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
    assert names == {"quantization", "schemes", "budget", "pipelines", "deployment", "reproducibility"}


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
MEASURED_PAGES = [DOCS / "experiments.rst", DOCS / "related_work.rst", *GUIDE_PAGES]
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
