"""HTML pages of the ontology browser: the loaded ontologies, an ontology's tree, a term's page
and term search. Every page works without JavaScript; autocomplete.js and tree.js enhance them.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from core import audit
from core.api import actor
from core.nav import NavEntry, everyone, register
from ontologies import browse, services

bp = Blueprint("ontologies", __name__, template_folder="templates")
register(NavEntry("Ontologies", "ontologies.index", everyone, "main", 30))

SEARCH_LIMIT = 50


@bp.get("/ontologies")
def index() -> str:
    return render_template("ontologies/index.html", ontologies=services.list_ontologies(actor()))


@bp.get("/ontologies/search")
def search() -> str:
    q = request.args.get("q", "").strip()[:200]
    prefix = request.args.get("ontology", "").strip().upper()[:40] or None
    ontologies = services.list_ontologies(actor())
    hits = services.search_terms(actor(), q, ontology=prefix, limit=SEARCH_LIMIT) if q else []
    return render_template(
        "ontologies/search.html",
        q=q,
        prefix=prefix or "",
        ontologies=ontologies,
        hits=[browse.describe_hit(h) for h in hits],
        limit=SEARCH_LIMIT,
    )


@bp.get("/ontologies/tree/<path:curie>")
def tree_children(curie: str) -> Response:
    """Page data for tree.js: a term's children, each with the number of its own children and,
    when an area counts them, the number of datasets using it or a narrower term
    (``datasets``; the caller's view: published datasets for everyone, drafts for their own
    custodians)."""
    level = browse.tree_level(actor(), curie)
    nodes = []
    for child, count in level.children:
        node = {
            "curie": child.curie,
            "label": child.label,
            "obsolete": child.is_obsolete,
            "children": count,
            "url": url_for("ontologies.term", curie=child.curie),
            "children_url": url_for("ontologies.tree_children", curie=child.curie),
        }
        if level.datasets is not None:
            node["datasets"] = level.datasets.get(child.curie, 0)
        nodes.append(node)
    return jsonify(nodes)


@bp.get("/ontologies/<prefix>")
def ontology(prefix: str) -> str:
    who = actor()
    page = browse.ontology_page(who, prefix)
    history = audit.history_for_page(who, "ontology", page.ontology.prefix)
    return render_template("ontologies/ontology.html", page=page, history=history)


@bp.get("/terms/<path:curie>")
def term(curie: str) -> str:
    return render_template("ontologies/term.html", page=browse.term_page(actor(), curie))
