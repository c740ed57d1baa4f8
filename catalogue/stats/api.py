"""JSON API of the alliance statistics (public), and their CSV export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.stats import export, services
from catalogue.stats.schemas import StatsSchema
from core.api import API_PREFIX, actor

blp = Blueprint("stats_api", __name__, url_prefix=API_PREFIX, description="Alliance statistics")

CSV_DOC = {"responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}}


def stats_body(stats: services.AllianceStats) -> dict[str, Any]:
    return {
        "generated_at": stats.generated_at,
        "small_cell_threshold": stats.threshold,
        "exact_counts": stats.exact,
        "datasets": stats.datasets,
        "patients": stats.patients,
        "datasets_without_patient_count": stats.undeclared,
        "custodians": stats.custodian_count,
        "countries": stats.country_count,
        "goal": {"patients": stats.goal, "share": stats.goal_share},
        "by_disease": stats.diseases,
        "by_country": stats.countries,
        "by_source_type": stats.source_types,
        "by_custodian": stats.custodians,
        "by_age_group": stats.age_groups,
        "growth": stats.growth,
        "variables": {
            "variables": stats.variables.variables,
            "mapped": stats.variables.mapped,
            "share": round(stats.variables.share, 4),
        },
    }


@blp.route("/stats")
class StatsResource(MethodView):
    @blp.response(200, StatsSchema)
    def get(self) -> dict[str, Any]:
        """What the alliance holds (public): published datasets and their patients per disease
        (rolled up the HAEM hierarchy), country, source type, custodian, age group and month of
        publication, against the alliance goal; the share of variables mapped. Drafts and
        retired datasets never count. Patient figures below the small-cell threshold are the
        string ``"<10"`` for everyone but administrators."""
        return stats_body(services.alliance_stats(actor()))


@blp.route("/stats.csv")
class StatsCsvResource(MethodView):
    @blp.doc(**CSV_DOC)
    def get(self) -> Response:
        """The same statistics as CSV (one row per cell; ``<10`` as in the JSON)."""
        body = export.to_csv(services.alliance_stats(actor()))
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="harmony-stats.csv"'},
        )
