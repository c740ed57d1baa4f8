"""Pages: a variable (``/datasets/{identifier}/variables/{name}``, the variable's IRI) and the
harmonisation matrix (``/harmonisation``, and ``/harmonisation.csv`` for the same grid).

A variable's address is the IRI the CSVW and SSSOM exports give it: the dataset's identifier
and the variable's name, each percent-encoded as a whole (a ``/`` in a name is ``%2F``). The
server hands the view the decoded name, so the rule takes a ``path``; ``?version=n`` shows it
as an older published version had it. RDF clients get the variable's RDF at the same address
(``Accept``, :func:`catalogue.dcat.negotiation.negotiated`).

The matrix page is a plain GET form that works without JavaScript: a term typed into "Add a
term" is resolved here (a CURIE, an IRI, or a name the autocomplete would match exactly) and a
dataset typed into "Add a dataset" too (its identifier, or words of its title: one match is
added, several are offered), each by a redirect to the matrix's address with it added, so
that the address is always the matrix (bookmarkable, shareable).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from catalogue.datasets.views import country_name
from catalogue.dcat import views as dcat_views
from catalogue.dcat.negotiation import negotiated
from catalogue.dictionary.export import csv_lines
from catalogue.standards import services as standards
from catalogue.standards.models import StandardSetStatus
from catalogue.variables import services
from core.api import actor
from core.errors import InvalidInput, NotFound
from core.nav import NavEntry, everyone, register
from core.text import plural
from ontologies import services as ontology

bp = Blueprint(
    "variables",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/variables/static",
)
register(NavEntry("Harmonisation", "variables.harmonisation", everyone, "main", 24))

#: variables a matrix cell lists; the rest are one link away ("8 more variables": the matrix
#: of that one term and dataset, where a single column lists everything)
SHOWN_PER_CELL = 4
#: terms a page of the matrix shows (the CSV and the JSON have them all)
ROWS_PER_PAGE = 100
#: what a path converter leaves unquoted (werkzeug's BaseConverter.to_url)
URL_SAFE = "!$&'()*+,/:;=@"
FORM_LABELS = {
    "set": "Standard set",
    "terms": "Terms",
    "term_add": "Add a term",
    "datasets": "Datasets",
    "dataset_add": "Add a dataset",
    "selection": "Selection",
}


# --- a variable -------------------------------------------------------------------------------


def _version_arg() -> int | None:
    """``?version=n``: a positive whole number, else the page answers 404 (an address that
    names no version)."""
    text = request.args.get("version")
    if text is None or text == "":
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise NotFound(f"“{text}” is not a version number.")
    return int(text)


@bp.get("/datasets/<identifier>/variables/<path:name>")
@negotiated(dcat_views.variable_rdf)  # RDF for clients that ask for it (Accept)
def variable(identifier: str, name: str) -> str:
    page = services.variable_page(actor(), identifier, name, _version_arg())
    return render_template(
        "variables/variable.html",
        page=page,
        dataset=page.dataset,
        version=page.version,
        var=page.variable,
        predicate_words=services.PREDICATE_WORDS,
        predicate_meanings=services.PREDICATE_MEANINGS,
        justification_words=services.JUSTIFICATION_WORDS,
        country_name=country_name,
        publisher_url=publisher_url,
        iri=variable_iri(page.dataset.identifier, page.variable.name),
        max_datasets=services.MAX_DATASETS,
    )


def variable_iri(identifier: str, name: str) -> str:
    """The variable's IRI as the exports write it (``BASE_URL``, each part percent-encoded
    whole), for the page's canonical link."""
    base = str(current_app.config.get("BASE_URL") or request.host_url).rstrip("/")
    return f"{base}/datasets/{quote(identifier, safe='')}/variables/{quote(name, safe='')}"


def publisher_url(organisation_id: str) -> str | None:
    """The custodian's publisher page (``/organisations/{id}``), when the publishers' pages are
    registered (None otherwise: the name is shown without a link)."""
    if "publishers.publisher" not in current_app.view_functions:
        return None
    return url_for("publishers.publisher", organisation_id=organisation_id)


def variable_linker() -> Callable[[str, str], str]:
    """:func:`variable_url` for one request's many links: the script root read once (a matrix
    asks for tens of thousands, and every read of ``request`` goes through its proxy)."""
    root = request.script_root

    def link(identifier: str, name: str) -> str:
        return (
            f"{root}/datasets/{quote(str(identifier), safe=URL_SAFE)}"
            f"/variables/{quote(str(name), safe=URL_SAFE)}"
        )

    return link


@bp.app_template_global("variable_url")
def variable_url(identifier: str, name: str, version: int | None = None) -> str:
    """A variable's page (of an older version when ``version`` is given): for links from the
    other pages (the dataset's variable table, a term's usage list, search hits, the matrix).

    Written out rather than asked of ``url_for`` (what the rule ``variables.variable`` builds,
    quoted the same way): a matrix links tens of thousands of variables, and ``url_for`` costs
    some forty microseconds each. ``tests/catalogue/variables`` checks they agree."""
    path = variable_linker()(identifier, name)
    return path if version is None else f"{path}?version={int(version)}"


# --- the harmonisation matrix -----------------------------------------------------------------


@dataclass
class RowsPage:
    """The terms one page of the matrix shows."""

    items: Sequence[services.MatrixRow]
    page: int
    pages: int
    first: int
    last: int


def rows_page(matrix: services.Matrix | None, page: int) -> RowsPage:
    rows = matrix.rows if matrix is not None else []
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * ROWS_PER_PAGE
    items = rows[start : start + ROWS_PER_PAGE]
    return RowsPage(items, page, pages, start + 1, start + len(items))


def _page_arg() -> int:
    text = request.args.get("page") or "1"
    return int(text) if text.isdigit() and len(text) < 6 else 1


def matrix_request(args: Any) -> services.MatrixRequest:
    return services.MatrixRequest(
        datasets=services.split_values(args.getlist("datasets")),
        terms=services.split_values(args.getlist("terms")),
        standard_set=(args.get("set") or "").strip() or None,
        selection=(args.get("selection") or "").strip() or None,
    )


def matrix_query(
    req: services.MatrixRequest,
    *,
    datasets: Iterable[str] | None = None,
    terms: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """The query string of a matrix (``datasets``/``terms`` replace the request's)."""
    query: list[tuple[str, str]] = []
    if req.selection:
        query.append(("selection", req.selection))
    if req.standard_set:
        query.append(("set", req.standard_set))
    query += [("terms", t) for t in (req.terms if terms is None else terms)]
    query += [("datasets", d) for d in (req.datasets if datasets is None else datasets)]
    return query


def matrix_url(
    req: services.MatrixRequest, endpoint: str = "variables.harmonisation", **kw: Any
) -> str:
    query = matrix_query(req, **kw)
    return url_for(endpoint) + ("?" + urlencode(query) if query else "")


@bp.get("/harmonisation")
def harmonisation() -> Any:
    who = actor()
    req = matrix_request(request.args)
    errors: dict[str, list[str]] = {}
    typed_term = (request.args.get("term_add") or "").strip()
    typed_dataset = (request.args.get("dataset_add") or "").strip()
    candidates: list[services.MatrixColumn] | None = None
    if typed_term:
        try:  # the HARMONY core variables first, then any vocabulary
            curie = ontology.resolve_term(
                who, typed_term, ontology=("HV", None), field="term_add", example="HV:0000045"
            )
        except InvalidInput as exc:
            errors.update(exc.errors or {})
        else:
            if not typed_dataset:
                return redirect(matrix_url(req, terms=[*req.terms, curie]))
            req.terms = list(dict.fromkeys([*req.terms, curie]))
    if typed_dataset:
        found = services.find_datasets(typed_dataset)
        if len(found) == 1 and "term_add" not in errors:
            added = list(dict.fromkeys([*req.datasets, found[0].identifier]))
            return redirect(matrix_url(req, datasets=added))
        if not found:
            errors["dataset_add"] = [
                f"No published dataset has “{typed_dataset}” in its identifier or title."
            ]
        elif len(found) > 1:
            candidates = found
    matrix = None
    if not req.empty and not errors:
        try:
            matrix = services.build_matrix(who, req)
        except InvalidInput as exc:
            # a form with only one side filled in is a step, not a mistake: the page asks for
            # the other side (and suggests datasets) without an error
            steps = {}
            if not (req.terms or req.standard_set):
                steps["terms"] = [services.NO_TERMS]
            if not (req.datasets or req.selection):
                steps["datasets"] = [services.NO_DATASETS]
            errors.update(
                (name, messages)
                for name, messages in (exc.errors or {}).items()
                if messages != steps.get(name)
            )
    chosen_terms = standards.terms_by_curie(_curies(req.terms))
    chosen_datasets = {c.identifier: c for c in services.find_named_datasets(req.datasets)}
    suggestions: list[services.MatrixColumn] = []
    if not req.datasets and not req.selection and not candidates:
        wanted = _suggestion_terms(who, req, chosen_terms)
        suggestions = [
            s for s in services.suggested_datasets(wanted) if s.identifier not in req.datasets
        ]
    sets = standards.list_sets(who, status=StandardSetStatus.ACTIVE, per_page=200).items
    status = 422 if errors else 200
    return render_template(
        "variables/harmonisation.html",
        req=req,
        matrix=matrix,
        errors=errors,
        labels=FORM_LABELS,
        sets=sets,
        chosen_terms=[chosen_terms[c] for c in _curies(req.terms) if c in chosen_terms],
        chosen_datasets=chosen_datasets,
        candidates=candidates,
        suggestions=suggestions,
        publisher_url=publisher_url,
        typed_term=typed_term if "term_add" in errors else "",
        typed_dataset=typed_dataset if "dataset_add" in errors or candidates else "",
        matrix_url=matrix_url,
        links={
            "csv": matrix_url(req, "variables.harmonisation_csv"),
            "json": matrix_url(req, "harmonisation.HarmonisationResource"),
            "without_selection": matrix_url(replace(req, selection=None)),
        },
        limits=(services.MAX_DATASETS, services.MAX_TERMS),
        rows=rows_page(matrix, _page_arg()),
        # one dataset: every variable of each cell; more: the first few, the rest a link away
        shown_per_cell=None if matrix is not None and len(matrix.columns) == 1 else SHOWN_PER_CELL,
        link=variable_linker(),
        cell_url=lambda curie, identifier: matrix_url(
            services.MatrixRequest(datasets=[identifier], terms=[curie])
        ),
        page_url=lambda number: matrix_url(req) + f"&page={number}#matrix",
    ), status


def _curies(given: list[str]) -> list[str]:
    from ontologies.identifiers import UnknownIdentifier, normalise_curie

    curies = []
    for text in given:
        try:
            curies.append(normalise_curie(text))
        except UnknownIdentifier:
            continue
    return list(dict.fromkeys(curies))


def _suggestion_terms(who: Any, req: services.MatrixRequest, chosen: dict[str, Any]) -> list[str]:
    """The terms to suggest datasets for: the set's and the chosen ones that are known."""
    curies: list[str] = []
    if req.standard_set:
        with contextlib.suppress(NotFound):  # the form names the unknown set already
            curies += [t.term_curie for t in standards.get_set(who, req.standard_set).terms]
    curies += [c for c in _curies(req.terms) if c in chosen]
    return list(dict.fromkeys(curies))


@bp.get("/harmonisation.csv")
def harmonisation_csv() -> Response:
    """The matrix as CSV, streamed; a request the page would refuse is a problem+json 422."""
    matrix = services.build_matrix(actor(), matrix_request(request.args))
    name = "harmonisation-matrix.csv"
    if matrix.standard_set is not None:
        name = f"harmonisation-{matrix.standard_set.identifier}.csv"
    return Response(
        stream_with_context(csv_lines(services.matrix_csv_rows(matrix), bom=True)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.app_template_filter("coverage_words")
def coverage_words(covered: int, total: int) -> str:
    """ "7 of 13 terms" (for the matrix's columns and their screen-reader labels)."""
    return f"{covered:,} of {plural(total, 'term')}"
