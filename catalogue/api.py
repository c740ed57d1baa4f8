"""JSON API of the catalogue."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue import services
from catalogue.schemas import SummarySchema
from core.api import API_PREFIX

blp = Blueprint("catalogue_api", __name__, url_prefix=API_PREFIX, description="Catalogue")


@blp.route("/summary")
class SummaryResource(MethodView):
    @blp.response(200, SummarySchema)
    def get(self) -> services.CatalogueSummary:
        """What the alliance holds: organisations, datasets and patients (public)."""
        return services.catalogue_summary()
