"""JSON API of the term store: ontologies, term lookup, autocomplete, hierarchy."""

from __future__ import annotations

import io
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema

from core import jobs
from core.api import API_PREFIX, actor, page_body, permission_required
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted, runs_as_job
from core.permissions import Permission
from core.security import accept_uploads
from core.text import plural
from ontologies import browse, services
from ontologies.schemas import (
    HierarchyQuerySchema,
    LoadReportSchema,
    OntologySchema,
    OntologyUploadSchema,
    RelatedTermPageSchema,
    TermDetailSchema,
    TermHitPageSchema,
    TermSearchQuerySchema,
)

blp = Blueprint(
    "ontologies_api", __name__, url_prefix=API_PREFIX, description="Ontologies and terms"
)


class UploadFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "OWL (RDF/XML), Turtle, JSON-LD, N-Triples or OncoTree JSON"},
    )


@blp.route("/ontologies")
class OntologiesResource(MethodView):
    @blp.response(200, OntologySchema(many=True))
    def get(self) -> list[Any]:
        """The loaded ontologies (public)."""
        return services.list_ontologies(actor())

    @permission_required(Permission.ONTOLOGY_LOAD)
    @blp.arguments(UploadFileSchema, location="files")
    @blp.arguments(OntologyUploadSchema, location="form")
    @blp.response(200, LoadReportSchema)
    @blp.alt_response(202, schema=JobSchema, **ACCEPTED_DOC)
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> Any:
        """Load or update an ontology from an uploaded file (admin). One transaction: a broken
        file writes nothing. 413 too large, 415 unknown format, 422 broken content. A file
        larger than ``JOBS_INLINE_MAX_KB`` (or any, with ``Prefer: respond-async``) is loaded
        by a job: 202 with the job (``Location``), whose result is the load report."""
        upload = files["file"]
        options = {
            "fmt": form.get("format"),
            "prefix": form.get("prefix"),
            "name": form.get("name"),
        }
        data = upload.stream.read()
        if runs_as_job(len(data)):
            label = options["prefix"] or upload.filename or "an ontology"
            params = {"filename": upload.filename, **options}
            return accepted(
                jobs.submit_job(actor(), "ontology_load", f"Load of {label}", params, data)
            )
        return services.load_ontology(
            actor(), io.BytesIO(data), filename=upload.filename, **options
        )


@jobs.handler("ontology_load")
def _load_job(job: jobs.JobContext) -> dict[str, Any]:
    """An ontology load run by the job worker, as its owner (an administrator), all or
    nothing."""
    params = dict(job.params)
    job.progress("reading", 0, len(LOAD_PHASES) + 2)
    report = services.load_ontology(
        job.actor,
        io.BytesIO(job.data or b""),
        filename=params.pop("filename"),
        on_phase=lambda phase: job.progress(
            phase, LOAD_PHASES.index(phase) + 1 if phase in LOAD_PHASES else None
        ),
        **params,
    )
    result: dict[str, Any] = LoadReportSchema().dump(report)
    result["summary"] = (
        f"{report.name} ({report.prefix}) {report.status}: {plural(report.added, 'term')} added, "
        f"{report.changed} changed, {report.obsoleted} obsoleted, {report.unchanged} unchanged."
    )
    result["ontology_url"] = f"/ontologies/{report.prefix}"
    return result


LOAD_PHASES = [
    "comparing with the stored version",
    "writing terms",
    "building the hierarchy",
    "indexing names",
]


accept_uploads("ontologies_api.OntologiesResource")


@blp.route("/ontologies/<prefix>")
class OntologyResource(MethodView):
    @blp.response(200, OntologySchema)
    def get(self, prefix: str) -> Any:
        """One loaded ontology (public)."""
        return services.get_ontology(actor(), prefix)


@blp.route("/terms")
class TermsResource(MethodView):
    @blp.arguments(TermSearchQuerySchema, location="query")
    @blp.response(200, TermHitPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Autocomplete over labels, synonyms and abbreviations, ranked: exact label, exact
        synonym/abbreviation, prefix, word prefix, then fuzzy. A CURIE or IRI finds its term."""
        hits = services.search_terms(
            actor(),
            query["q"],
            ontology=query.get("ontology"),
            limit=query["limit"],
            include_obsolete=query["include_obsolete"],
        )
        items = [_hit(h) for h in hits]
        return {"items": items, "total": len(items), "page": 1, "per_page": query["limit"]}


def _hit(hit: services.TermHit) -> Any:
    term = hit.term
    term.match, term.matched = hit.match, hit.matched  # type: ignore[attr-defined]
    return term


@blp.route("/terms/<path:identifier>/descendants")
class DescendantsResource(MethodView):
    @blp.arguments(HierarchyQuerySchema, location="query")
    @blp.response(200, RelatedTermPageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> dict[str, Any]:
        """Everything below a term (CURIE or IRI), nearest first, with its depth."""
        page = services.descendants(actor(), identifier, **query)
        return _related(page)


@blp.route("/terms/<path:identifier>/ancestors")
class AncestorsResource(MethodView):
    @blp.arguments(HierarchyQuerySchema, location="query")
    @blp.response(200, RelatedTermPageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> dict[str, Any]:
        """Everything above a term (CURIE or IRI), nearest first, with its depth."""
        page = services.ancestors(actor(), identifier, **query)
        return _related(page)


def _related(page: Any) -> dict[str, Any]:
    items = [
        {"curie": t.curie, "label": t.label, "obsolete": t.is_obsolete, "depth": d}
        for t, d in page.items
    ]
    return page_body(
        type(page)(items=items, total=page.total, page=page.page, per_page=page.per_page)
    )


@blp.route("/terms/<path:identifier>")
class TermResource(MethodView):
    @blp.response(200, TermDetailSchema)
    def get(self, identifier: str) -> Any:
        """One term (CURIE or IRI) with synonyms, cross-references, parents and children, and
        how many datasets and variables use it."""
        who = actor()
        term = services.get_term(who, identifier)
        term.parents = services.parents_of(term.curie)  # type: ignore[attr-defined]
        term.children = [t for t, _ in services.children_of(term.curie)]  # type: ignore[attr-defined]
        term.used_by = browse.usage_counts(who, term.curie)  # type: ignore[attr-defined]
        return term
