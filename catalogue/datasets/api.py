"""JSON API of the catalogue: the public summary and datasets.

Changes to a dataset carry its ETag in ``If-Match`` (428 without, 412 when stale); every
response that shows a dataset sends its current ETag.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue import extensions
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
from core.openapi import IF_MATCH_DOC
from core.policies import Actor
from core.workflow import available_actions
from ontologies.models import Term

blp = Blueprint("catalogue_api", __name__, url_prefix=API_PREFIX, description="Catalogue")


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


@dataclass
class DatasetView:
    """What :class:`DatasetSchema` dumps: a version, its dataset, and what is read for it in
    bulk for a whole page of results (:func:`views_of`) — the disease terms, the number of
    variables, the caller's actions."""

    version: DatasetVersion
    terms: list[Term]
    variables: int
    actions: list[str]
    can_see_drafts: bool
    facts: dict[str, Any]  # what other areas add (catalogue.extensions.dataset_facts)

    @property
    def dataset(self) -> Dataset:
        return self.version.dataset

    @property
    def diseases(self) -> list[str]:
        return [d.term_curie for d in self.version.diseases]

    @property
    def disease_terms(self) -> list[Term]:
        return self.terms

    @property
    def time_coverage(self) -> DatasetVersion:
        return self.version  # first_year, last_year

    @property
    def contact(self) -> DatasetVersion:
        return self.version  # contact_name, contact_email

    @property
    def versions(self) -> list[dict[str, Any]]:
        return [
            {
                "number": v.number,
                "version": v.version,
                "status": v.status,
                "published_at": v.published_at,
                "data_freeze": v.data_freeze,
                "url": version_url(self.dataset, v.number),
            }
            for v in self.dataset.versions
            if self.can_see_drafts or v.published_at is not None
        ]

    @property
    def data_use(self) -> dict[str, Any] | None:
        return self.facts.get("data_use")

    @property
    def requestable(self) -> bool:
        return bool(self.facts.get("requestable"))

    @property
    def requestable_until(self) -> dt.date | None:
        until = self.facts.get("requestable_until")
        return dt.date.fromisoformat(until) if isinstance(until, str) else until

    @property
    def url(self) -> str:
        return url_for(
            "catalogue_api.DatasetResource", identifier=self.dataset.identifier, _external=True
        )


def views_of(who: Actor, versions: Sequence[DatasetVersion]) -> list[DatasetView]:
    """The views of ``versions`` for ``who``, with one query for all their disease terms and
    one for all their variable counts (not two per item)."""
    curies = {d.term_curie for v in versions for d in v.diseases}
    terms = datasets.terms_by_curie(curies)
    counts = datasets.count_variables_of([v.id for v in versions])
    facts = extensions.dataset_facts(who, [v.dataset_id for v in versions])
    result = []
    for version in versions:
        dataset = version.dataset
        result.append(
            DatasetView(
                version=version,
                terms=[terms[d.term_curie] for d in version.diseases if d.term_curie in terms],
                variables=counts.get(version.id, 0),
                actions=available_actions(datasets.LIFECYCLE, who, dataset),
                can_see_drafts=datasets.can_edit(who, dataset),
                facts=facts[version.dataset_id],
            )
        )
    return result


def view_of(version: DatasetVersion) -> DatasetView:
    return views_of(actor(), [version])[0]


def _with_etag(view: DatasetView, status: int = 200) -> Any:
    """The view with its ETag: for the dataset's editors the revision that If-Match quotes;
    for everyone else a digest of the body they see, which changes only when that does — the
    revision also counts edits of an unpublished draft, and would tell the public that a new
    version is being prepared."""
    if view.can_see_drafts:
        return view, status, {"ETag": datasets.etag(view.dataset)}
    body = DatasetSchema().dump(view)
    seen = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return view, status, {"ETag": f'"p-{hashlib.sha256(seen.encode()).hexdigest()[:32]}"'}


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
        items = views_of(who, [datasets.visible_version(who, d) for d in page.items])
        return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page}

    @login_required
    @blp.arguments(DatasetInputSchema)
    @blp.response(201, DatasetSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a dataset (custodians, for their organisation; admins). It starts as a
        draft, visible to its organisation's custodians and admins only."""
        dataset = datasets.create_dataset(actor(), data)
        view = view_of(dataset.versions[-1])
        return view, 201, {"ETag": datasets.etag(dataset), "Location": view.url}


@blp.route("/datasets/<identifier>")
class DatasetResource(MethodView):
    @blp.response(200, DatasetSchema)
    def get(self, identifier: str) -> Any:
        """A dataset: for its editors the open draft when there is one, for everyone else
        the latest published version. Sends the ETag that edits must quote in If-Match."""
        return _with_etag(view_of(datasets.get_version(actor(), identifier)))

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
        return _with_etag(view_of(version))

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
        return _with_etag(view_of(version))


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
        return _with_etag(view_of(datasets.latest_published(dataset)))  # type: ignore[arg-type]


@blp.route("/datasets/<identifier>/versions")
class VersionsResource(MethodView):
    @blp.response(200, DatasetPageSchema)
    def get(self, identifier: str) -> dict[str, Any]:
        """Every version you may see, oldest first."""
        who = actor()
        dataset = datasets.get_dataset(who, identifier)
        editor = datasets.can_edit(who, dataset)
        items = views_of(who, [v for v in dataset.versions if editor or v.published_at is not None])
        return {"items": items, "total": len(items), "page": 1, "per_page": max(1, len(items))}

    @login_required
    @blp.response(201, DatasetSchema)
    @blp.doc(**IF_MATCH_DOC)
    def post(self, identifier: str) -> Any:
        """Open a new draft version (e.g. for a new data freeze): a copy of the latest one
        with its variables and mappings. Change it, then publish it."""
        version = datasets.new_version(actor(), identifier, request.headers.get("If-Match"))
        location = version_url(version.dataset, version.number)
        return view_of(version), 201, {"ETag": datasets.etag(version.dataset), "Location": location}


@blp.route("/datasets/<identifier>/versions/<int:number>")
class DatasetVersionResource(MethodView):
    @blp.response(200, DatasetSchema)
    def get(self, identifier: str, number: int) -> Any:
        """One version, as it was published (drafts: for the dataset's editors only)."""
        return _with_etag(view_of(datasets.get_version(actor(), identifier, number)))


@blp.route("/datasets/<identifier>/history")
class HistoryResource(MethodView):
    @blp.response(200, ChangeSchema(many=True))
    def get(self, identifier: str) -> list[Any]:
        """Who changed what, and when, newest first."""
        return datasets.history(actor(), identifier)
