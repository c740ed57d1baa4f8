"""JSON API of standard variable sets, coverage, feasibility and the variable-level question.

Sets are readable by everyone; administrators create, change (``If-Match`` with the set's ETag:
428 without, 412 when stale) and retire them. Computed patient totals follow the small-cell rule
(the string ``"<10"`` below the threshold, for everyone but administrators).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.standards import questions, services
from catalogue.standards.models import StandardVariableSet
from catalogue.standards.schemas import (
    CoverageQuerySchema,
    DatasetCoverageSchema,
    FeasibilityQuerySchema,
    FeasibilitySchema,
    StandardSetInputSchema,
    StandardSetPageSchema,
    StandardSetQuerySchema,
    StandardSetSchema,
    StandardSetUpdateSchema,
    VariableAnswerSchema,
    VariableQuestionQuerySchema,
)
from core.api import API_PREFIX, actor, permission_required
from core.openapi import if_match_doc
from core.permissions import Permission

blp = Blueprint(
    "standards_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Standard variable sets, coverage, feasibility and the variable-level question",
)

IF_MATCH_DOC = if_match_doc("set")


# --- bodies ---------------------------------------------------------------------------------


def set_body(standard_set: StandardVariableSet) -> dict[str, Any]:
    labels = services.terms_by_curie(
        [t.term_curie for t in standard_set.terms] + [d.term_curie for d in standard_set.diseases]
    )

    def label(curie: str) -> str:
        return labels[curie].label if curie in labels else curie

    return {
        "identifier": standard_set.identifier,
        "name": standard_set.name,
        "version": standard_set.version,
        "description": standard_set.description,
        "source": standard_set.source,
        "source_url": standard_set.source_url,
        "note": standard_set.note,
        "status": standard_set.status.value,
        "revision": standard_set.revision,
        "diseases": [
            {"curie": d.term_curie, "label": label(d.term_curie)} for d in standard_set.diseases
        ],
        "terms": [
            {"curie": t.term_curie, "label": label(t.term_curie), "note": t.note}
            for t in standard_set.terms
        ],
        "created": standard_set.created_at,
        "modified": standard_set.modified_at,
        "retired": standard_set.retired_at,
        "url": url_for(
            "standards_api.StandardSetResource",
            identifier=standard_set.identifier,
            _external=True,
        ),
        "feasibility_url": url_for(
            "standards_api.FeasibilityResource",
            identifier=standard_set.identifier,
            _external=True,
        ),
    }


def dataset_ref(ref: services.DatasetRef) -> dict[str, Any]:
    return {
        "identifier": ref.identifier,
        "title": ref.title,
        "custodian": ref.custodian,
        "status": "draft" if ref.is_draft else "published",
        "version_number": ref.number,
        "patients": ref.patients,
        "url": url_for("catalogue_api.DatasetResource", identifier=ref.identifier, _external=True),
    }


def ranked_body(
    ref: services.DatasetRef, variables: dict[str, list[str]], missing: list[str], total: int
) -> dict[str, Any]:
    covered = total - len(missing)
    return {
        "dataset": dataset_ref(ref),
        "covered": covered,
        "total": total,
        "coverage": round(covered / total, 4) if total else 0.0,
        "complete": covered == total,
        "variables": variables,
        "missing": missing,
    }


def _with_etag(body: dict[str, Any], standard_set: StandardVariableSet, status: int = 200) -> Any:
    return body, status, {"ETag": services.etag(standard_set)}


# --- sets -----------------------------------------------------------------------------------


@blp.route("/standard-sets")
class StandardSetsResource(MethodView):
    @blp.arguments(StandardSetQuerySchema, location="query")
    @blp.response(200, StandardSetPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Standard variable sets (public), by name. Filter by ``status`` (active, retired) or
        ``disease`` (a HAEM term: sets meant for it, a term above it or below it)."""
        page = services.list_sets(actor(), **query)
        return {
            "items": [set_body(s) for s in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }

    @permission_required(Permission.STANDARD_SET_MANAGE)
    @blp.arguments(StandardSetInputSchema)
    @blp.response(201, StandardSetSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a set (administrators). 422 names unknown, obsolete or repeated terms."""
        standard_set = services.create_set(actor(), data)
        body = set_body(standard_set)
        return body, 201, {"ETag": services.etag(standard_set), "Location": body["url"]}


@blp.route("/standard-sets/<identifier>")
class StandardSetResource(MethodView):
    @blp.response(200, StandardSetSchema)
    def get(self, identifier: str) -> Any:
        """One set (public), with the ETag that changes must quote in If-Match."""
        standard_set = services.get_set(actor(), identifier)
        return _with_etag(set_body(standard_set), standard_set)

    @permission_required(Permission.STANDARD_SET_MANAGE)
    @blp.arguments(StandardSetUpdateSchema)
    @blp.response(200, StandardSetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, data: dict[str, Any], identifier: str) -> Any:
        """Change a set (administrators): only the fields sent; ``terms`` replaces the list.
        409 for a retired set."""
        standard_set = services.update_set(
            actor(), identifier, data, request.headers.get("If-Match")
        )
        return _with_etag(set_body(standard_set), standard_set)


@blp.route("/standard-sets/<identifier>/retire")
class RetireSetResource(MethodView):
    @permission_required(Permission.STANDARD_SET_MANAGE)
    @blp.response(200, StandardSetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, identifier: str) -> Any:
        """Retire a set (administrators): it stays readable, but dataset pages no longer show
        it. 409 when it is retired already."""
        standard_set = services.retire_set(actor(), identifier, request.headers.get("If-Match"))
        return _with_etag(set_body(standard_set), standard_set)


@blp.route("/standard-sets/<identifier>/feasibility")
class FeasibilityResource(MethodView):
    @blp.arguments(FeasibilityQuerySchema, location="query")
    @blp.response(200, FeasibilitySchema)
    def get(self, query: dict[str, Any], identifier: str) -> dict[str, Any]:
        """Which datasets could compute this set: those covering at least one of its terms,
        most covered first, and the patients of the published datasets that cover all of it
        (``complete_patients``: ``"<10"`` below the small-cell threshold, except for
        administrators). Custodians also see their own drafts ranked (never in the totals)."""
        result = services.feasibility(actor(), identifier, **query)
        return {
            "set": set_body(result.standard_set),
            "complete_datasets": result.complete_datasets,
            "complete_patients": result.complete_patients,
            "complete_without_patient_count": result.undeclared,
            "datasets_in_scope": result.datasets_in_scope,
            "small_cell_threshold": current_app.config["SMALL_CELL_THRESHOLD"],
            "items": [
                ranked_body(r.dataset, r.variables, r.missing, r.total) for r in result.rows.items
            ],
            "total": result.rows.total,
            "page": result.rows.page,
            "per_page": result.rows.per_page,
        }


# --- coverage of a dataset ------------------------------------------------------------------


@blp.route("/datasets/<identifier>/coverage")
class DatasetCoverageResource(MethodView):
    @blp.arguments(CoverageQuerySchema, location="query")
    @blp.response(200, DatasetCoverageSchema)
    def get(self, query: dict[str, Any], identifier: str) -> dict[str, Any]:
        """How much of every active standard set the dataset covers (the version you see, or
        ``version``): sets meant for its diseases first, each with its covered and missing
        terms and the variables that cover them. Drafts: for their editors only (404)."""
        result = services.dataset_coverage(actor(), identifier, query.get("version"))
        return {
            "dataset": dataset_ref(services.DatasetRef.of(result.version)),
            "sets": [
                {
                    "set": {
                        "identifier": c.standard_set.identifier,
                        "name": c.standard_set.name,
                        "version": c.standard_set.version,
                        "url": url_for(
                            "standards_api.StandardSetResource",
                            identifier=c.standard_set.identifier,
                            _external=True,
                        ),
                    },
                    "relevant": c.relevant,
                    "covered": c.covered,
                    "total": c.total,
                    "coverage": round(c.share, 4),
                    "complete": c.complete,
                    "missing": [t.curie for t in c.missing],
                    "terms": [
                        {
                            "curie": t.curie,
                            "label": t.label,
                            "note": t.note,
                            "covered": t.covered,
                            "variables": t.variables,
                        }
                        for t in c.terms
                    ],
                }
                for c in result.sets
            ],
        }


# --- the variable-level question ------------------------------------------------------------


@blp.route("/search/variables")
class VariableQuestionResource(MethodView):
    @blp.arguments(VariableQuestionQuerySchema, location="query")
    @blp.response(200, VariableAnswerSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Which datasets have variables for these terms: per dataset you may see (published
        ones; custodians also their own drafts), the asked terms it covers — directly or
        through a narrower mapped term — with the covering variables, and the terms it lacks;
        most covered first. Datasets that cover none are left out (``datasets_in_scope``
        counts every dataset asked). 422 names unknown terms."""
        terms = questions.resolve_terms(query["terms"])
        answer = questions.variable_question(
            actor(), terms, page=query["page"], per_page=query["per_page"]
        )
        return {
            "terms": [{"curie": t.curie, "label": t.label} for t in answer.terms],
            "items": [
                ranked_body(r.dataset, r.variables, r.missing, r.total) for r in answer.rows.items
            ],
            "total": answer.rows.total,
            "page": answer.rows.page,
            "per_page": answer.rows.per_page,
            "datasets_in_scope": answer.datasets_in_scope,
        }
