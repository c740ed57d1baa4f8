"""JSON API of a dataset's data-use conditions: ``GET/PUT /api/v1/datasets/{identifier}/data-use``.

The PUT quotes the conditions' ETag in ``If-Match`` (the GET sends it; a dataset without
conditions has one too): 428 without, 412 when stale.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.datasets import services as datasets
from core.api import API_PREFIX, actor, login_required
from core.openapi import if_match_doc
from governance.data_use import services, vocabulary
from governance.data_use.schemas import DataUseInputSchema, DataUseSchema

blp = Blueprint(
    "data_use_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Data-use conditions of datasets (GA4GH DUO)",
)


def body(data_use: services.DataUse) -> dict[str, Any]:
    """The conditions with each term's shorthand and label and the diseases' labels."""
    shape = vocabulary.labelled(data_use.shape)
    terms = datasets.terms_by_curie(shape["diseases"])
    shape["disease_terms"] = [
        {"curie": c, "label": terms[c].label if c in terms else c} for c in shape["diseases"]
    ]
    return shape


@blp.route("/datasets/<identifier>/data-use")
class DataUseResource(MethodView):
    @blp.response(200, DataUseSchema)
    def get(self, identifier: str) -> Any:
        """A dataset's data-use conditions (whoever may see the dataset), with the ETag a PUT
        quotes. A dataset without conditions answers ``{"permission": null, "diseases": [],
        "modifiers": [], "revision": 0}``."""
        data_use = services.get_conditions(actor(), identifier)
        return body(data_use), 200, {"ETag": data_use.etag}

    @login_required
    @blp.arguments(DataUseInputSchema)
    @blp.response(200, DataUseSchema)
    @blp.doc(**if_match_doc("data-use conditions"))
    def put(self, data: dict[str, Any], identifier: str) -> Any:
        """Set the dataset's conditions (custodians of its organisation, admins): exactly one
        permission, the diseases of DS, modifiers with their parameters. The revision moves on
        when the content changes; the same content again changes nothing. 409 for a retired
        dataset; 422 names each wrong field (``modifiers[2].date``)."""
        data_use = services.set_conditions(
            actor(), identifier, data, request.headers.get("If-Match")
        )
        return body(data_use), 200, {"ETag": data_use.etag}
