"""``GET /api/v1/register``: the public register of approved data uses (anyone, no login)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import API_PREFIX
from governance.register import services
from governance.register.schemas import RegisterPageSchema, RegisterQuerySchema

blp = Blueprint(
    "register_api",
    __name__,
    url_prefix=API_PREFIX,
    description="The public register of approved data uses",
)


def _dataset(d: services.RegisterDataset) -> dict[str, Any]:
    return {
        "identifier": d.identifier,
        "title": d.title,
        "url": url_for("catalogue_api.DatasetResource", identifier=d.identifier, _external=True)
        if d.public
        else None,
        "page": url_for("datasets.dataset", identifier=d.identifier, _external=True)
        if d.public
        else None,
    }


def entry_json(entry: services.RegisterEntry) -> dict[str, Any]:
    body = asdict(entry)
    body["datasets"] = [_dataset(d) for d in entry.datasets]
    for amendment, source in zip(body["amendments"], entry.amendments, strict=True):
        amendment["datasets"] = [_dataset(d) for d in source.datasets]
    return body


@blp.route("/register")
class RegisterResource(MethodView):
    @blp.arguments(RegisterQuerySchema, location="query")
    @blp.response(200, RegisterPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Approved uses of the alliance's data, newest decision first: project title, lay
        summary, the applicant's institution, the datasets, the decision date and the
        publications, with approved amendments under their request. ``q`` searches titles
        and lay summaries. No names of people."""
        page = services.list_register(
            query.get("q"), page=query["page"], per_page=query["per_page"]
        )
        return {
            "items": [entry_json(e) for e in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }
