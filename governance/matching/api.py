"""JSON API of the compatibility check: ``POST /api/v1/data-use/check``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import API_PREFIX, actor, permission_required
from core.permissions import Permission
from governance.matching import services
from governance.matching.schemas import CheckRequestSchema, CheckResultSchema

blp = Blueprint(
    "matching_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Data-use compatibility check (GA4GH DUO)",
)

REQUEST_EXAMPLE = {
    "purpose": {
        "terms": ["DUO:0000007"],
        "diseases": ["NCIT:C3171"],
        "commercial": False,
        "ethics_approval": True,
        "country": "NL",
        "publication_not_before": "2027-01-01",
        "duration_months": 24,
    },
    "conditions": {
        "permission": "DUO:0000007",
        "diseases": ["NCIT:C9290"],
        "modifiers": [{"term": "DUO:0000024", "date": "2026-06-01"}, {"term": "DUO:0000019"}],
    },
}
RESULT_EXAMPLE = {
    "outcome": "compatible",
    "obligations": [
        {"term": "DUO:0000024", "text": "Do not publish results before 2026-06-01."},
        {
            "term": "DUO:0000019",
            "text": "Make the results of your research available to the scientific community "
            "(publication required).",
        },
    ],
    "reasons": [],
    "ontology_versions": {"DUO": "2021-02-23", "NCIT": "2025.1"},
    "dataset": None,
    "conditions_revision": None,
    "conditions": REQUEST_EXAMPLE["conditions"],
}


@blp.route("/data-use/check")
class CheckResource(MethodView):
    @permission_required(Permission.DATA_USE_CHECK)
    @blp.arguments(CheckRequestSchema, example=REQUEST_EXAMPLE)
    @blp.response(200, CheckResultSchema, example=RESULT_EXAMPLE)
    @blp.alt_response(404, response="Problem404")  # `dataset` names one the caller cannot see
    def post(self, data: dict[str, Any]) -> Any:
        """May this research purpose use data under these conditions (any logged-in user)?

        Send the purpose with either `conditions` (the dataset JSON shape) or `dataset` (a
        dataset's identifier: its current conditions and its active agreements' obligations
        are used, and `conditions_revision` says which revision). The outcome is `incompatible`
        if any rule says so, else `needs_review` if any does, else `compatible`; every reason
        names the rule, the DUO codes and the terms. Unknown purpose or disease terms are a 422
        naming the field; a dataset the caller may not see is a 404; a dataset without
        conditions is a 422 naming `dataset`.
        """
        return services.check_purpose(
            actor(), data["purpose"], conditions=data["conditions"], dataset=data["dataset"]
        )
