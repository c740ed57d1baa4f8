"""JSON API of the catalogue: the public summary and datasets.

Changes to a dataset carry its ETag in ``If-Match`` (428 without, 412 when stale); every
response that shows a dataset sends its current ETag.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.datasets import services as datasets
from catalogue.datasets.schemas import (
    ChangeSchema,
    DatasetInputSchema,
    DatasetPageSchema,
    DatasetQuerySchema,
    DatasetSchema,
    DatasetUpdateSchema,
    RetireSchema,
    SummarySchema,
)
from catalogue.models import Dataset, DatasetVersion
from core.api import API_PREFIX, actor, login_required

blp = Blueprint("catalogue_api", __name__, url_prefix=API_PREFIX, description="Catalogue")

IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string"},
            "description": "The dataset's current ETag (from a GET); 412 when it is stale",
        }
    ]
}


@blp.route("/summary")
class SummaryResource(MethodView):
    @blp.response(200, SummarySchema)
    def get(self) -> datasets.CatalogueSummary:
        """What the alliance holds: organisations, datasets and patients (public)."""
        return datasets.catalogue_summary()


def version_url(dataset: Dataset, number: int) -> str:
    return url_for(
        "catalogue_api.DatasetVersionResource",
        identifier=dataset.identifier,
        number=number,
        _external=True,
    )


def dataset_body(version: DatasetVersion, *, can_see_drafts: bool = False) -> dict[str, Any]:
    """A version as the API shows it (the contract's field names)."""
    dataset = version.dataset
    terms = datasets.disease_terms(version)
    organisation = dataset.organisation
    return {
        "identifier": dataset.identifier,
        "title": version.title,
        "description": version.description,
        "custodian": dataset.organisation_id,
        "custodian_organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "country": organisation.country,
        },
        "diseases": [d.term_curie for d in version.diseases],
        "disease_terms": [{"curie": t.curie, "label": t.label} for t in terms],
        "source_type": version.source_type.value if version.source_type else None,
        "trial_ids": version.trial_ids or [],
        "countries": version.countries or [],
        "patients": version.patients,
        "records": version.records,
        "time_coverage": {"first_year": version.first_year, "last_year": version.last_year},
        "age_groups": version.age_groups or [],
        "data_model": version.data_model.value if version.data_model else None,
        "keywords": version.keywords or [],
        "contact": {"name": version.contact_name, "email": version.contact_email},
        "landing_page": version.landing_page,
        "access_rights": version.access_rights,
        "provenance": version.provenance or [],
        "classification": version.classification.value if version.classification else None,
        "data_freeze": version.data_freeze,
        "version": version.version,
        "version_number": version.number,
        "version_status": version.status.value,
        "status": dataset.status.value,
        "retirement_note": dataset.retirement_note,
        "variables": datasets.count_variables(version),
        "created": dataset.created_at,
        "modified": version.modified_at,
        "published": version.published_at,
        "versions": [
            {
                "number": v.number,
                "version": v.version,
                "status": v.status.value,
                "published_at": v.published_at,
                "data_freeze": v.data_freeze,
                "url": version_url(dataset, v.number),
            }
            for v in dataset.versions
            if can_see_drafts or v.published_at is not None
        ],
        "url": url_for(
            "catalogue_api.DatasetResource", identifier=dataset.identifier, _external=True
        ),
    }


def _body_for(version: DatasetVersion) -> dict[str, Any]:
    return dataset_body(version, can_see_drafts=datasets.can_edit(actor(), version.dataset))


def _with_etag(body: dict[str, Any], dataset: Dataset, status: int = 200) -> Any:
    """The body with its ETag: for the dataset's editors the revision that If-Match quotes;
    for everyone else a digest of the body they see, which changes only when that does — the
    revision also counts edits of an unpublished draft, and would tell the public that a new
    version is being prepared."""
    if datasets.can_edit(actor(), dataset):
        return body, status, {"ETag": datasets.etag(dataset)}
    seen = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return body, status, {"ETag": f'"p-{hashlib.sha256(seen.encode()).hexdigest()[:32]}"'}


@blp.route("/datasets")
class DatasetsResource(MethodView):
    @blp.arguments(DatasetQuerySchema, location="query")
    @blp.response(200, DatasetPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Datasets you may see, most recently changed first: published and retired ones for
        everyone, drafts for their custodians. ``mine``: your organisations' datasets."""
        who = actor()
        page = datasets.list_datasets(
            who,
            mine=query["mine"],
            organisation=query.get("custodian"),
            status=query.get("status"),
            sort=query.get("sort"),
            page=query["page"],
            per_page=query["per_page"],
        )
        items = [_body_for(datasets.visible_version(who, d)) for d in page.items]
        return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}

    @login_required
    @blp.arguments(DatasetInputSchema)
    @blp.response(201, DatasetSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a dataset (custodians, for their organisation; admins). It starts as a
        draft, visible to its organisation's custodians and admins only."""
        dataset = datasets.create_dataset(actor(), data)
        body = _body_for(dataset.versions[-1])
        return body, 201, {"ETag": datasets.etag(dataset), "Location": body["url"]}


@blp.route("/datasets/<identifier>")
class DatasetResource(MethodView):
    @blp.response(200, DatasetSchema)
    def get(self, identifier: str) -> Any:
        """A dataset: for its editors the open draft when there is one, for everyone else
        the latest published version. Sends the ETag that edits must quote in If-Match."""
        version = datasets.get_version(actor(), identifier)
        return _with_etag(_body_for(version), version.dataset)

    @login_required
    @blp.arguments(DatasetUpdateSchema)
    @blp.response(200, DatasetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def patch(self, data: dict[str, Any], identifier: str) -> Any:
        """Change the open draft (only the fields sent). A published dataset changes through
        a new version (``POST …/versions``): 409 otherwise."""
        version = datasets.update_dataset(
            actor(), identifier, data, request.headers.get("If-Match")
        )
        return _with_etag(_body_for(version), version.dataset)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH_DOC)
    def delete(self, identifier: str) -> Response:
        """Delete a dataset that was never published (its identifier is never reused)."""
        datasets.delete_draft(actor(), identifier, request.headers.get("If-Match"))
        return Response(status=204)


@blp.route("/datasets/<identifier>/publish")
class PublishResource(MethodView):
    @login_required
    @blp.response(200, DatasetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, identifier: str) -> Any:
        """Publish the open draft; a previously published version is superseded but stays
        readable at its own URL. 422 lists what the draft still lacks."""
        version = datasets.publish(actor(), identifier, request.headers.get("If-Match"))
        return _with_etag(_body_for(version), version.dataset)


@blp.route("/datasets/<identifier>/retire")
class RetireResource(MethodView):
    @login_required
    @blp.arguments(RetireSchema)
    @blp.response(200, DatasetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, data: dict[str, Any], identifier: str) -> Any:
        """Retire a published dataset: it stays resolvable with a notice and changes no more."""
        dataset = datasets.retire(
            actor(), identifier, data.get("note"), request.headers.get("If-Match")
        )
        return _with_etag(_body_for(datasets.latest_published(dataset)), dataset)  # type: ignore[arg-type]


@blp.route("/datasets/<identifier>/versions")
class VersionsResource(MethodView):
    @blp.response(200, DatasetPageSchema)
    def get(self, identifier: str) -> dict[str, Any]:
        """Every version you may see, oldest first."""
        who = actor()
        dataset = datasets.get_dataset(who, identifier)
        editor = datasets.can_edit(who, dataset)
        items = [
            dataset_body(v, can_see_drafts=editor)
            for v in dataset.versions
            if editor or v.published_at is not None
        ]
        return {"items": items, "total": len(items), "page": 1, "per_page": max(1, len(items))}

    @login_required
    @blp.response(201, DatasetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, identifier: str) -> Any:
        """Open a new draft version (e.g. for a new data freeze): a copy of the latest one
        with its variables and mappings. Change it, then publish it."""
        version = datasets.new_version(actor(), identifier, request.headers.get("If-Match"))
        body = _body_for(version)
        location = version_url(version.dataset, version.number)
        return body, 201, {"ETag": datasets.etag(version.dataset), "Location": location}


@blp.route("/datasets/<identifier>/versions/<int:number>")
class DatasetVersionResource(MethodView):
    @blp.response(200, DatasetSchema)
    def get(self, identifier: str, number: int) -> Any:
        """One version, as it was published (drafts: for the dataset's editors only)."""
        version = datasets.get_version(actor(), identifier, number)
        return _with_etag(_body_for(version), version.dataset)


@blp.route("/datasets/<identifier>/history")
class HistoryResource(MethodView):
    @blp.response(200, ChangeSchema(many=True))
    def get(self, identifier: str) -> list[Any]:
        """Who changed what, and when, newest first."""
        return datasets.history(actor(), identifier)
