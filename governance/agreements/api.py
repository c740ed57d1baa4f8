"""``/api/v1/agreements``: data-sharing agreements.

Logged-in callers only (401 otherwise). Each agreement comes in the view its caller may see:
the full view for its organisation's custodians and administrators, the public view (no
document, no signatories) for everyone else; drafts only to their managers (404 otherwise).
Changes quote the agreement's ETag in ``If-Match`` (428 without, 412 when stale).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from catalogue.models import Dataset
from core.api import API_PREFIX, actor, login_required
from core.errors import InvalidInput
from core.openapi import if_match_doc
from core.policies import Actor
from core.security import accept_uploads
from core.workflow import available_actions
from governance.agreements import documents, services
from governance.agreements.models import Agreement, AgreementStatus
from governance.agreements.schemas import (
    AgreementDocumentUploadSchema,
    AgreementInputSchema,
    AgreementPageSchema,
    AgreementQuerySchema,
    AgreementSchema,
    AgreementTerminateSchema,
    AgreementUpdateSchema,
    flatten,
)

blp = Blueprint(
    "agreements_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Data-sharing agreements between custodians and the alliance",
)
IF_MATCH = if_match_doc("agreement")


def agreement_json(
    who: Actor, agreement: Agreement, covered: dict[str, Dataset] | None = None
) -> dict[str, Any]:
    """The agreement as ``who`` may see it (see the module), as the API and pages use it."""
    if covered is None:
        covered = services.covered_datasets([agreement])
    data: dict[str, Any] = {
        "id": agreement.id,
        "reference": agreement.reference,
        "version": agreement.version,
        "title": agreement.title,
        "custodian": agreement.organisation,
        "counterparty": agreement.counterparty,
        "status": agreement.status.value,
        "effective_on": agreement.effective_on,
        "expires_on": agreement.expires_on,
        "datasets": [
            {
                "id": d.id,
                "identifier": d.identifier,
                "title": services.dataset_title(who, d),
                "url": url_for(
                    "catalogue_api.DatasetResource", identifier=d.identifier, _external=True
                ),
            }
            for d in (covered[i] for i in agreement.dataset_ids if i in covered)
        ],
        "permitted_uses": list(agreement.permitted_uses or []),
        "obligations": {
            "acknowledgement": agreement.acknowledgement,
            "publication_review_days": agreement.publication_review_days,
            "return_of_results": agreement.return_of_results,
            "return_of_results_text": agreement.return_of_results_text,
            "moratorium_until": agreement.moratorium_until,
            "moratorium_months": agreement.moratorium_months,
            "summary": [
                {"term": t, "text": text} for t, text in services.obligations_of(agreement)
            ],
        },
        "requires_custodian_signoff": agreement.requires_custodian_signoff,
        "supersedes": agreement.supersedes_id,
        "full": False,
        "url": url_for(
            "agreements_api.AgreementResource", agreement_id=agreement.id, _external=True
        ),
    }
    if not services.can_read_full(who, agreement):
        return data
    document = None
    if agreement.document_sha256:
        document = {
            "filename": agreement.document_filename,
            "size": agreement.document_size,
            "sha256": agreement.document_sha256,
            "uploaded_at": agreement.document_uploaded_at,
            "download_url": url_for(
                "agreements_api.DocumentResource", agreement_id=agreement.id, _external=True
            ),
        }
    data.update(
        full=True,
        signatories=list(agreement.signatories or []),
        document=document,
        termination_reason=agreement.termination_reason,
        activated_at=agreement.activated_at,
        ended_at=agreement.ended_at,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
        revision=agreement.revision,
        actions=available_actions(services.WORKFLOW, who, agreement),
    )
    return data


def many_json(who: Actor, agreements: Iterable[Agreement]) -> list[dict[str, Any]]:
    items = list(agreements)
    covered = services.covered_datasets(items)
    return [agreement_json(who, a, covered) for a in items]


def _answer(agreement: Agreement, status: int = 200) -> Any:
    who = actor()
    return agreement_json(who, agreement), status, {"ETag": services.etag(agreement)}


@blp.route("/agreements")
class AgreementsResource(MethodView):
    @login_required
    @blp.arguments(AgreementQuerySchema, location="query")
    @blp.response(200, AgreementPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Agreements you may see (drafts only of your organisations), by reference; without
        superseded versions unless ``all_versions``. Filters: ``organisation``, ``status``,
        ``dataset`` (a dataset's identifier)."""
        who = actor()
        status = query.get("status")
        page = services.list_agreements(
            who,
            organisation=query.get("organisation"),
            status=AgreementStatus(status) if status else None,
            dataset=query.get("dataset"),
            all_versions=query["all_versions"],
            sort=query.get("sort"),
            page=query["page"],
            per_page=query["per_page"],
        )
        return {
            "items": many_json(who, page.items),
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }

    @login_required
    @blp.arguments(AgreementInputSchema)
    @blp.response(201, AgreementSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Make an agreement (custodians, for their organisation; administrators): version 1,
        a draft. Complete it, upload the signed PDF, then activate it."""
        agreement = services.create_agreement(actor(), flatten(data))
        body, status, headers = _answer(agreement, 201)
        headers["Location"] = body["url"]
        return body, status, headers


@blp.route("/agreements/<agreement_id>")
class AgreementResource(MethodView):
    @login_required
    @blp.response(200, AgreementSchema)
    def get(self, agreement_id: str) -> Any:
        """One version of an agreement, in the view you may see, with its ETag."""
        return _answer(services.get_agreement(actor(), agreement_id))

    @login_required
    @blp.arguments(AgreementUpdateSchema)
    @blp.response(200, AgreementSchema)
    @blp.doc(**IF_MATCH)
    def patch(self, data: dict[str, Any], agreement_id: str) -> Any:
        """Change a draft (only the fields sent). An active agreement changes by amendment
        (409 otherwise)."""
        agreement = services.update_agreement(
            actor(), agreement_id, flatten(data), request.headers.get("If-Match")
        )
        return _answer(agreement)

    @login_required
    @blp.response(204)
    @blp.doc(**IF_MATCH)
    def delete(self, agreement_id: str) -> Response:
        """Delete a draft."""
        services.delete_draft(actor(), agreement_id, request.headers.get("If-Match"))
        return Response(status=204)


@blp.route("/agreements/<agreement_id>/activate")
class ActivateResource(MethodView):
    @login_required
    @blp.response(200, AgreementSchema)
    @blp.doc(**IF_MATCH)
    def post(self, agreement_id: str) -> Any:
        """Activate a complete draft (422 names every field missing: datasets, dates,
        permitted uses, the signed document, a signatory of each side). Activating an
        amendment supersedes the version it amends."""
        return _answer(services.activate(actor(), agreement_id, request.headers.get("If-Match")))


@blp.route("/agreements/<agreement_id>/terminate")
class TerminateResource(MethodView):
    @login_required
    @blp.arguments(AgreementTerminateSchema)
    @blp.response(200, AgreementSchema)
    @blp.doc(**IF_MATCH)
    def post(self, data: dict[str, Any], agreement_id: str) -> Any:
        """End an active agreement early, with the reason."""
        return _answer(
            services.terminate(
                actor(), agreement_id, data["reason"], request.headers.get("If-Match")
            )
        )


@blp.route("/agreements/<agreement_id>/amend")
class AmendResource(MethodView):
    @login_required
    @blp.response(201, AgreementSchema)
    @blp.doc(**IF_MATCH)
    def post(self, agreement_id: str) -> Any:
        """Open the next version of an active agreement as a draft (a copy, to be signed
        anew); the active version stays in effect until the amendment is activated."""
        amendment = services.amend(actor(), agreement_id, request.headers.get("If-Match"))
        body, status, headers = _answer(amendment, 201)
        headers["Location"] = body["url"]
        return body, status, headers


@blp.route("/agreements/<agreement_id>/versions")
class VersionsResource(MethodView):
    @login_required
    @blp.response(200, AgreementPageSchema)
    def get(self, agreement_id: str) -> dict[str, Any]:
        """Every version of the agreement you may see, oldest first."""
        who = actor()
        items = many_json(who, services.versions_of(who, agreement_id))
        return {"items": items, "total": len(items), "page": 1, "per_page": max(1, len(items))}


@blp.route("/agreements/<agreement_id>/document")
class DocumentResource(MethodView):
    @login_required
    @blp.response(200, content_type="application/pdf")
    def get(self, agreement_id: str) -> Response:
        """The signed PDF (the organisation's custodians, administrators), verified against
        its recorded SHA-256 first: 409 when the stored file no longer matches (the refusal
        is recorded in the audit trail)."""
        agreement, content = services.document_of(actor(), agreement_id)
        filename = agreement.document_filename or "agreement.pdf"
        return Response(
            content,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": documents.content_disposition(filename),
                "X-Content-SHA256": agreement.document_sha256 or "",
                "Cache-Control": "private, no-store",
            },
        )

    @login_required
    @blp.arguments(AgreementDocumentUploadSchema, location="files")
    @blp.response(200, AgreementSchema)
    @blp.doc(**IF_MATCH)
    def post(self, files: dict[str, Any], agreement_id: str) -> Any:
        """Upload the signed agreement of a draft (multipart ``file``, a PDF; its type is
        checked by content): 413 beyond the size limit, 422 when it is not a PDF."""
        who = actor()
        upload = files.get("file")
        if upload is None:
            services.get_agreement(who, agreement_id)  # 404 first
            raise InvalidInput.field("file", "Send the signed PDF as a multipart file “file”.")
        agreement = services.attach_document(
            who, agreement_id, upload.stream, upload.filename, request.headers.get("If-Match")
        )
        return _answer(agreement)


accept_uploads("agreements_api.DocumentResource")
