"""JSON API of search: ``GET /api/v1/search``."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.search import services
from catalogue.search.schemas import SearchResponseSchema, parameters_doc, result_body
from core.api import API_PREFIX, actor

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
        # the body is built in the shape the schema documents; dumping it through marshmallow
        # again would cost more than the search on a page of hits with every facet
        return jsonify(result_body(services.search(actor(), query)))
