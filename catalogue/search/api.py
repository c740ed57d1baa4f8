"""JSON API of search: ``GET /api/v1/search``."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.search import services
from catalogue.search.schemas import SearchResponseSchema, parameters_doc, result_body
from core import jobs
from core.api import API_PREFIX, actor, permission_required
from core.jobs_api import ACCEPTED_DOC, JobSchema, accepted
from core.permissions import Permission

blp = Blueprint("search_api", __name__, url_prefix=API_PREFIX, description="Search")


@blp.route("/search")
class SearchResource(MethodView):
    @blp.doc(parameters=parameters_doc())
    @blp.response(200, SearchResponseSchema)
    def get(self) -> Response:
        """Datasets by free text and facets, down to the variables (public: published
        datasets; custodians also find their organisation's drafts, admins every draft).

        Repeat a facet parameter for OR (``country=DE&country=NL``); different facets combine
        with AND. Each facet's counts apply every other facet's selection. An unknown
        parameter, value, sort or range is a 422 naming the parameter; a search that runs too
        long a 503."""
        query = services.parse_query(request.args.to_dict(flat=False))
        # The body is built by hand in the shape SearchResponseSchema documents (a test checks
        # that the schema dumps it unchanged), not dumped by @blp.response: measured on 7 Dec
        # 2026 (a page of 20 hits, each with 5 matched variables, and every facet, 51 to 488
        # values; 200 repetitions), the marshmallow dump costs 5.6-9.8 ms more per search
        # (median; 47 ms more for 100 hits) than building the body, which takes 1-3 ms. The
        # limit for routing a search through schemas was 2 ms. orjson writes it (a page with
        # every facet is 300-500 values): 0.15 ms where the json module took 1.0-1.5 ms.
        body = result_body(services.search(actor(), query))
        return Response(
            orjson.dumps(body, option=orjson.OPT_SORT_KEYS), mimetype="application/json"
        )


def refresh_parameters_doc() -> None:
    """Document the search's parameters again, from the facets registered now: the areas that
    register facets after the catalogue (governance's ``data_use``, ``purpose``/``fit``,
    ``requestable``) call it once they have, so that the OpenAPI document (and the contract
    fuzzing that reads it) knows their parameters too."""
    from core.api import api

    spec = getattr(api, "spec", None)
    operation = spec.to_dict()["paths"].get(f"{API_PREFIX}/search", {}).get("get") if spec else None
    if operation is not None:
        operation["parameters"] = parameters_doc()


@blp.route("/search/reindex")
class ReindexResource(MethodView):
    @permission_required(Permission.SEARCH_REINDEX)
    @blp.response(202, JobSchema, **ACCEPTED_DOC)
    def post(self) -> Any:
        """Rebuild the search index from the catalogue as a job (administrators), as
        ``harmony catalogue reindex`` does: after loading or reloading an ontology, or after
        restoring a database. Searches keep answering from the old index until it commits."""
        return accepted(jobs.submit_job(actor(), "search_reindex", "Rebuild of the search index"))


@jobs.handler("search_reindex")
def _reindex_job(job: jobs.JobContext) -> dict[str, Any]:
    from catalogue.search import engine
    from catalogue.search.indexer import rebuild_index, tidy_after_rebuild
    from core.policies import require

    require(job.actor, Permission.SEARCH_REINDEX)
    job.progress("indexing", 0, 1)
    count = rebuild_index(lambda done, total: job.progress(done=done, total=total))
    tidied = tidy_after_rebuild()
    job.progress("building the search engine", 0, 1)
    engine_documents = engine.rebuild(lambda done, total: job.progress(done=done, total=total))
    return {
        "documents": count,
        "engine_documents": engine_documents,
        "vacuumed": tidied,
        "summary": f"Indexed {count:,} dataset versions.",
    }
