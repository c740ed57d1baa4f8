"""The catalogue as linked data: DCAT-AP documents, the FAIR Data Point, CSVW dictionaries.

- ``/catalogue`` (by ``Accept``) and ``/catalogue.{ttl,jsonld,rdf,nt}``: the ``dcat:Catalog``
  with one page of datasets and tombstones (``modified_since``, ``page``, ``per_page``) and
  Hydra paging links; HTML: a page for harvesters;
- ``/fdp`` and ``/fdp.{ext}``: the FAIR Data Point's metadata;
- ``/datasets/{id}`` (by ``Accept``, hooked into :mod:`catalogue.views`) and
  ``/datasets/{id}.{ext}``: a dataset's DCAT-AP description; ``…/versions/{n}`` likewise for
  one published version;
- ``/datasets/{id}/dictionary.csvw.json``: its variables as CSVW (``?version=n``), describing
  ``/datasets/{id}/data-template.csv``, the header row of a data file;
- ``/datasets/{id}/variables/{name}`` (by ``Accept``, hooked into the variable's page) and
  ``….{ext}``: a published variable (:mod:`catalogue.dcat.resources`);
  ``…/variables/{name}/values/{code}``: one of its permissible values (people are sent to the
  variable's page);
- ``/organisations/{id}`` (by ``Accept``, hooked into the publisher's page) and ``….{ext}``:
  the publisher and the datasets it publishes;
- ``/fdp/catalogs`` and ``/fdp/catalogs.{ext}``: the FDP's LDP container of catalogues.

Everything here is public and describes published versions only; drafts answer 404 to everyone.
Errors of the RDF answers are problem+json whatever the client asked for.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from catalogue.dcat import csvw, graph, resources, services
from catalogue.dcat.negotiation import HTML, choose, not_acceptable, rdf_response
from catalogue.dcat.schemas import HarvestQuerySchema, VersionQuerySchema, load_query
from catalogue.dcat.serialize import FORMATS, RdfFormat, serialize, serialize_many
from core.api import actor
from core.db import query_timeout
from core.errors import NotFound, ServiceError, problem

bp = Blueprint("dcat", __name__, template_folder="templates")

EXTENSIONS = "any(" + ", ".join(FORMATS) + ")"


def _problem(exc: ServiceError, *, negotiated: bool) -> Response:
    response = problem(exc.status, exc.detail, title=exc.title, slug=exc.slug, errors=exc.errors)
    if negotiated:
        response.vary.add("Accept")
    return response


def _answer(build: Callable[[], Response], *, negotiated: bool) -> Response:
    """``build()``'s response, or its service error as problem+json."""
    try:
        return build()
    except ServiceError as exc:
        return _problem(exc, negotiated=negotiated)


# --- datasets ---------------------------------------------------------------------------------


def dataset_rdf(
    identifier: str, fmt: RdfFormat, negotiated: bool = False, number: int | None = None
) -> Response:
    """A dataset's DCAT-AP description (of its latest published version, or of version
    ``number``)."""

    def build() -> Response:
        # three index lookups by identifier: no statement timeout (on PostgreSQL setting and
        # resetting it would double the round trips of this, the most frequent RDF request)
        record = services.public_record(actor(), identifier, number)
        iris = graph.Iris.current()
        data = serialize(graph.dataset_graph(record, iris), fmt, iris.record_subject(record))
        return rdf_response(data, fmt, negotiated=negotiated)

    return _answer(build, negotiated=negotiated)


def version_rdf(identifier: str, number: int, fmt: RdfFormat, negotiated: bool = False) -> Response:
    return dataset_rdf(identifier, fmt, negotiated, number)


def variable_rdf(identifier: str, name: str, fmt: RdfFormat, negotiated: bool = False) -> Response:
    """A published variable's description as RDF (the HTML page decorates itself with
    ``@negotiated(variable_rdf)``): the variable of the dataset's latest published version, its
    values and its accepted mappings (:mod:`catalogue.dcat.resources`). 404 problem+json for a
    draft dataset, an unknown one, or a name the published version has not."""

    def build() -> Response:
        published = services.public_variable(actor(), identifier, name)
        iris = graph.Iris.current()
        data = serialize(
            resources.variable_graph(published, iris), fmt, iris.variable(identifier, name)
        )
        return rdf_response(data, fmt, negotiated=negotiated)

    return _answer(build, negotiated=negotiated)


def variable_value_rdf(
    identifier: str, name: str, code: str, fmt: RdfFormat, negotiated: bool = False
) -> Response:
    """One permissible value of a published variable: the variable's document, the value
    first. 404 for a code the variable has not."""

    def build() -> Response:
        published = _published_value(identifier, name, code)
        iris = graph.Iris.current()
        document, first = resources.variable_value_graph(published, code, iris)
        return rdf_response(serialize(document, fmt, first), fmt, negotiated=negotiated)

    return _answer(build, negotiated=negotiated)


def _published_value(identifier: str, name: str, code: str) -> services.PublicVariable:
    """:raises NotFound: as :func:`services.public_variable`, or for an unknown code."""
    published = services.public_variable(actor(), identifier, name)
    if code not in published.codes:
        raise NotFound(f"Variable “{name}” of “{identifier}” has no permissible value “{code}”.")
    return published


def organisation_rdf(organisation_id: str, fmt: RdfFormat, negotiated: bool = False) -> Response:
    """A publisher's description as RDF (the HTML page decorates itself with
    ``@negotiated(organisation_rdf)``): the ``foaf:Agent`` of the dataset records and the
    datasets it publishes. 404 problem+json for an unknown organisation."""

    def build() -> Response:
        organisation = services.public_organisation(actor(), organisation_id)
        iris = graph.Iris.current()
        data = serialize(
            resources.organisation_graph(organisation, iris),
            fmt,
            iris.organisation(organisation_id),
        )
        return rdf_response(data, fmt, negotiated=negotiated)

    return _answer(build, negotiated=negotiated)


@bp.get(f"/datasets/<identifier>.<{EXTENSIONS}:ext>")
def dataset_file(identifier: str, ext: str) -> Response:
    return dataset_rdf(identifier, FORMATS[ext])


@bp.get(f"/datasets/<identifier>/versions/<int:number>.<{EXTENSIONS}:ext>")
def version_file(identifier: str, number: int, ext: str) -> Response:
    return dataset_rdf(identifier, FORMATS[ext], number=number)


@bp.get(f"/datasets/<identifier>/variables/<name>.<{EXTENSIONS}:ext>")
def variable_file(identifier: str, name: str, ext: str) -> Response:
    """A variable's RDF in one format (a variable whose own name ends in ``.ttl``, ``.nt``
    … is reached by ``Accept`` at its IRI instead)."""
    return variable_rdf(identifier, name, FORMATS[ext])


@bp.get("/datasets/<identifier>/variables/<name>/values/<path:code>")
def variable_value(identifier: str, name: str, code: str) -> Response:
    """A permissible value's IRI: its RDF to RDF clients, and people are sent (303) to its
    variable's page, which lists the values. ``path``: a code may hold a ``/``."""
    choice = choose(html=True)
    if choice is None:
        return not_acceptable()
    if isinstance(choice, RdfFormat):
        return variable_value_rdf(identifier, name, code, choice, negotiated=True)
    _published_value(identifier, name, code)  # an unknown value is a 404 page, not a redirect
    page = f"{request.script_root}/datasets/{identifier}/variables/{quote(name, safe='')}"
    response = Response(status=303, headers={"Location": page + "#values"})
    response.vary.add("Accept")
    return response


@bp.get(f"/organisations/<organisation_id>.<{EXTENSIONS}:ext>")
def organisation_file(organisation_id: str, ext: str) -> Response:
    return organisation_rdf(organisation_id, FORMATS[ext])


# --- the catalogue ----------------------------------------------------------------------------


@bp.get("/catalogue")
def catalogue() -> Response:
    """HTML for browsers (what harvesters find here), the catalogue graph for RDF clients."""
    choice = choose(html=True)
    if choice is None:
        return not_acceptable()
    if isinstance(choice, RdfFormat):
        return _answer(lambda: _catalogue_rdf(choice, "/catalogue", True), negotiated=True)
    response = _harvest_page_html()
    response.vary.add("Accept")
    return response


@bp.get(f"/catalogue.<{EXTENSIONS}:ext>")
def catalogue_file(ext: str) -> Response:
    fmt = FORMATS[ext]
    return _answer(lambda: _catalogue_rdf(fmt, f"/catalogue.{ext}", False), negotiated=False)


def _catalogue_rdf(fmt: RdfFormat, path: str, negotiated: bool) -> Response:
    """One page of the catalogue: the catalogue itself, the datasets of the page linked with
    ``dcat:dataset`` and described in full, the tombstones of retired ones, paging links."""
    query = load_query(HarvestQuerySchema(), request.args)
    since = query["modified_since"]
    with query_timeout():
        facts = services.catalogue_facts()
        page = services.harvest_page(
            actor(), modified_since=since, page=query["page"], per_page=query["per_page"]
        )
    iris = graph.Iris.current()
    head = graph.catalogue_graph(facts, page.items, iris)
    graph.add_paging(head, iris, _page_links(iris, path, page, since))
    output = io.BytesIO()
    serialize_many(
        [(head, iris.catalogue)]
        + [(graph.record_graph(r, iris), iris.dataset(r.identifier)) for r in page.items],
        fmt,
        output,
    )
    return rdf_response(output.getvalue(), fmt, negotiated=negotiated)


def _page_links(iris: graph.Iris, path: str, page: Any, since: Any) -> graph.PageLinks:
    def link(number: int) -> str:
        params: dict[str, str] = {}
        if since is not None:
            params["modified_since"] = since.isoformat().replace("+00:00", "Z")
        params["page"] = str(number)
        params["per_page"] = str(page.per_page)
        return f"{iris.base}{path}?{urlencode(params)}"

    last = page.pages
    return graph.PageLinks(
        view=link(page.page),
        first=link(1),
        last=link(last),
        previous=link(min(page.page - 1, last)) if page.page > 1 else None,
        next=link(page.page + 1) if page.page < last else None,
        total=page.total,
    )


def _harvest_page_html() -> Response:
    with query_timeout():
        facts = services.catalogue_facts()
    iris = graph.Iris.current()
    return Response(
        render_template(
            "dcat/catalogue.html",
            facts=facts,
            iris=iris,
            formats=[FORMATS[k] for k in ("ttl", "jsonld", "rdf", "nt")],
            per_page=services.DEFAULT_PER_PAGE,
            max_per_page=services.MAX_PER_PAGE,
        ),
        mimetype="text/html",
    )


# --- the FAIR Data Point ----------------------------------------------------------------------


@bp.get("/fdp")
def fdp() -> Response:
    choice = choose(html=True)
    if choice is None:
        return not_acceptable()
    if choice == HTML:
        response = _harvest_page_html()
        response.vary.add("Accept")
        return response
    return _fdp_rdf(choice, negotiated=True)  # type: ignore[arg-type]


@bp.get(f"/fdp.<{EXTENSIONS}:ext>")
def fdp_file(ext: str) -> Response:
    return _fdp_rdf(FORMATS[ext], negotiated=False)


@bp.get("/fdp/catalogs")
def fdp_catalogs() -> Response:
    """The FDP's LDP container of catalogues (FDP clients list catalogues here): RDF to RDF
    clients; people are sent (303) to the one catalogue's page."""
    choice = choose(html=True)
    if choice is None:
        return not_acceptable()
    if isinstance(choice, RdfFormat):
        return _fdp_catalogs_rdf(choice, negotiated=True)
    response = Response(status=303, headers={"Location": url_for("dcat.catalogue")})
    response.vary.add("Accept")
    return response


@bp.get(f"/fdp/catalogs.<{EXTENSIONS}:ext>")
def fdp_catalogs_file(ext: str) -> Response:
    return _fdp_catalogs_rdf(FORMATS[ext], negotiated=False)


#: what an LDP client reads from the headers before the body (LDP 1.0, 4.2.1.4 and 5.2.1.1)
LDP_CONTAINER_LINKS = (
    '<http://www.w3.org/ns/ldp#DirectContainer>; rel="type", '
    '<http://www.w3.org/ns/ldp#Resource>; rel="type"'
)


def _fdp_catalogs_rdf(fmt: RdfFormat, *, negotiated: bool) -> Response:
    iris = graph.Iris.current()
    data = serialize(graph.fdp_catalogs_graph(iris), fmt, iris.fdp_catalogs)
    response = rdf_response(data, fmt, negotiated=negotiated)
    response.headers["Link"] = LDP_CONTAINER_LINKS
    return response


def _fdp_rdf(fmt: RdfFormat, *, negotiated: bool) -> Response:
    def build() -> Response:
        with query_timeout():
            facts = services.catalogue_facts()
        iris = graph.Iris.current()
        data = serialize(graph.fdp_graph(facts, iris), fmt, iris.fdp)
        return rdf_response(data, fmt, negotiated=negotiated)

    return _answer(build, negotiated=negotiated)


# --- CSVW -------------------------------------------------------------------------------------


def _dictionary_record(identifier: str) -> services.PublicRecord:
    query = load_query(VersionQuerySchema(), request.args)
    record = services.public_record(actor(), identifier, query["version"])  # index lookups
    if not record.has_variables:
        raise NotFound(f"Version {record.version.number} of “{identifier}” has no data dictionary.")
    return record


@bp.get("/datasets/<identifier>/dictionary.csvw.json")
def dictionary_csvw(identifier: str) -> Response:
    """The variables of a published version as CSVW metadata (JSON-LD), streamed."""

    def build() -> Response:
        record = _dictionary_record(identifier)
        body = csvw.csvw_document(record, graph.Iris.current())
        return Response(stream_with_context(body), mimetype=csvw.MEDIA_TYPE)

    return _answer(build, negotiated=False)


@bp.get("/datasets/<identifier>/data-template.csv")
def data_template(identifier: str) -> Response:
    """The header row of a data file: the table the CSVW document describes."""

    def build() -> Response:
        record = _dictionary_record(identifier)
        name = f"{record.identifier}-v{record.version.number}-data-template.csv"
        return Response(
            stream_with_context(csvw.data_template_lines(record)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return _answer(build, negotiated=False)
