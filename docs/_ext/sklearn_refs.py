"""Resolve the scikit-learn labels and glossary terms that inherited docstrings cite.

The estimators inherit ``score``, ``get_params``, ``set_params``,
``get_metadata_routing`` and the ``set_*_request`` methods from
scikit-learn; their docstrings use ``:ref:`` labels and ``:term:`` entries of
scikit-learn's own site, which do not exist here. This extension links each
one it knows to scikit-learn's page; an unknown one still warns (and fails
the ``-W`` build), so a new citation is noticed.
"""

from __future__ import annotations

from docutils import nodes

SKLEARN = "https://scikit-learn.org/stable/"

#: ``(reftype, target)`` -> page of scikit-learn's documentation.
TARGETS = {
    ("ref", "metadata_routing"): "metadata_routing.html",
    ("ref", "accuracy_score"): "modules/model_evaluation.html#accuracy-score",
    ("ref", "r2_score"): "modules/model_evaluation.html#r2-score",
    ("term", "meta-estimator"): "glossary.html#term-meta-estimator",
}


def _resolve(app, env, node, contnode):
    page = TARGETS.get((node.get("reftype"), node.get("reftarget", "").lower()))
    if page is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=SKLEARN + page)
    reference += contnode.deepcopy()
    return reference


def setup(app):
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
