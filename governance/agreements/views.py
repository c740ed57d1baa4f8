"""HTML pages of data-sharing agreements: the list, an agreement (with its actions, document,
versions and history), the form of a draft, and the document upload. Logged-in users only;
each sees what :mod:`governance.agreements.policies` lets them (the public view, or all)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core import audit
from core.api import actor
from core.errors import Conflict, InvalidInput, PreconditionFailed, ServiceError
from core.forms import form_action
from core.nav import NavEntry, logged_in, register
from core.permissions import Permission
from core.policies import require, require_login
from core.workflow import available_actions, refusal
from governance.agreements import documents, services
from governance.agreements.api import agreement_json, many_json
from governance.agreements.models import Agreement, AgreementStatus, SignatorySide
from governance.agreements.workflow import AGREEMENT, activation_problems

bp = Blueprint("agreements", __name__, template_folder="templates")
register(NavEntry("Agreements", "agreements.agreement_list", logged_in, "main", 45))

SIGNATORY_ROWS = 2  # empty rows the form offers beyond those filled
STALE = "Someone changed this agreement after you opened the page. Reload it and try again."
LABELS = {
    "reference": "Reference",
    "organisation_id": "Custodian organisation",
    "title": "Title",
    "datasets": "Datasets covered",
    "effective_on": "Effective from",
    "expires_on": "Expires on",
    "permitted_uses": "Permitted uses",
    "acknowledgement": "Acknowledgement",
    "publication_review_days": "Publication review period",
    "return_of_results": "Return of results",
    "return_of_results_text": "Return of results",
    "moratorium_until": "Moratorium until",
    "moratorium_months": "Moratorium (months)",
    "requires_custodian_signoff": "Custodian sign-off",
    "signatories": "Signatories",
    "document": "Signed document",
    "reason": "Reason",
    "file": "Signed document",
}


@bp.app_template_filter("agreement_date")
def agreement_date(value: dt.date | str | None) -> str:
    """A date (or its ISO text) as the agreement pages write it: "7 December 2026"."""
    day = _as_date(value)
    return f"{day.day} {day.strftime('%B %Y')}" if day else ""


@bp.app_template_filter("agreement_date_iso")
def agreement_date_iso(value: dt.date | str | None) -> str:
    day = _as_date(value)
    return day.isoformat() if day else ""


def _as_date(value: dt.date | str | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# --- list -----------------------------------------------------------------------------------


@bp.get("/agreements")
def agreement_list() -> str:
    who = actor()
    require_login(who)
    status = request.args.get("status") or None
    if status not in {None, *(s.value for s in AgreementStatus)}:
        status = None
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    page = services.list_agreements(
        who,
        status=AgreementStatus(status) if status else None,
        dataset=request.args.get("dataset") or None,
        page=page_number,
        per_page=25,
    )
    return render_template(
        "agreements/list.html",
        page=page,
        items=many_json(who, page.items),
        status=status,
        statuses=[s.value for s in AgreementStatus],
        can_create=services.can_manage(who),
    )


# --- one agreement --------------------------------------------------------------------------


@bp.get("/agreements/<agreement_id>")
def agreement_page(agreement_id: str) -> str:
    return _agreement_page(agreement_id)


def _agreement_page(
    agreement_id: str,
    *,
    upload_errors: dict[str, list[str]] | None = None,
    activation_errors: dict[str, list[str]] | None = None,
) -> str:
    """The agreement's page; after a refused upload or activation, with what is wrong: the
    file's error by the file field, the missing parts of the agreement as a list."""
    who = actor()
    require_login(who)
    agreement = services.get_agreement(who, agreement_id)
    full = services.can_read_full(who, agreement)
    return render_template(
        "agreements/agreement.html",
        a=agreement,
        data=agreement_json(who, agreement),
        full=full,
        actions=available_actions(AGREEMENT, who, agreement) if full else [],
        problems=(
            activation_problems(agreement, services.today())
            if full and agreement.status is AgreementStatus.DRAFT
            else {}
        ),
        versions=services.versions_of(who, agreement_id),
        history=audit.history_for_page(who, "agreement", agreement.id),
        etag=services.etag(agreement),
        labels=LABELS,
        max_mb=documents.max_bytes() // (1024 * 1024),
        upload_errors=upload_errors or {},
        activation_errors=activation_errors or {},
    )


def _action(agreement_id: str, call: Any, success: str, done: Any = None) -> WerkzeugResponse:
    page = url_for("agreements.agreement_page", agreement_id=agreement_id)
    return form_action(
        call,
        success=success,
        done=done or page,
        back=page,
        stale=STALE,
        invalid="The agreement is not ready:",
    )


class _Refused(Exception):
    """An action's 422, carried past :func:`core.forms.form_action` (which would flash it) to
    a page that shows it where it belongs."""

    def __init__(self, exc: ServiceError, what: str) -> None:
        super().__init__(what)
        self.exc = exc
        self.status = exc.status


def _revision() -> str | None:
    return request.form.get("revision") or None


@bp.post("/agreements/<agreement_id>/activate")
def activate(agreement_id: str) -> Any:
    def call(who: Any) -> Agreement:
        try:
            return services.activate(who, agreement_id, _revision())
        except InvalidInput as exc:
            raise _Refused(exc, "activation") from exc

    try:
        return _action(
            agreement_id,
            call,
            "The agreement is active: its datasets can be requested (those with data-use "
            "conditions).",
        )
    except _Refused as refused:
        return _agreement_page(agreement_id, activation_errors=_errors_of(refused.exc)), 422


@bp.post("/agreements/<agreement_id>/terminate")
def terminate(agreement_id: str) -> WerkzeugResponse:
    return _action(
        agreement_id,
        lambda who: services.terminate(who, agreement_id, request.form.get("reason"), _revision()),
        "The agreement is terminated.",
    )


@bp.post("/agreements/<agreement_id>/amend")
def amend(agreement_id: str) -> WerkzeugResponse:
    return _action(
        agreement_id,
        lambda who: services.amend(who, agreement_id, _revision()),
        "A new version is open as a draft: change it, upload its signed document and "
        "activate it. The current version stays in effect until then.",
        done=lambda new: url_for("agreements.agreement_page", agreement_id=new.id),
    )


@bp.post("/agreements/<agreement_id>/delete")
def delete(agreement_id: str) -> WerkzeugResponse:
    return _action(
        agreement_id,
        lambda who: services.delete_draft(who, agreement_id, _revision()),
        "The draft is deleted.",
        done=url_for("agreements.agreement_list"),
    )


@bp.get("/agreements/<agreement_id>/document")
def download(agreement_id: str) -> Response:
    who = actor()
    require_login(who)
    agreement, content = services.document_of(who, agreement_id)
    name = agreement.document_filename or "agreement.pdf"
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": documents.content_disposition(name),
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/agreements/<agreement_id>/document")
def upload(agreement_id: str) -> Any:
    upload_file = request.files.get("file")

    def attach(who: Any) -> Agreement:
        if upload_file is None or not upload_file.filename:
            services.get_agreement(who, agreement_id)
            raise InvalidInput.field("file", "Choose the signed PDF to upload.")
        return services.attach_document(
            who, agreement_id, upload_file.stream, upload_file.filename, _revision()
        )

    def call(who: Any) -> Agreement:
        try:
            return attach(who)
        except (InvalidInput, documents.DocumentTooLarge) as exc:
            raise _Refused(exc, "upload") from exc

    try:
        return _action(agreement_id, call, "The signed document is uploaded.")
    except _Refused as refused:
        # whatever is wrong is the file's: say it by the file field
        messages = [m for ms in _errors_of(refused.exc).values() for m in ms]
        return _agreement_page(agreement_id, upload_errors={"file": messages}), refused.status


# --- the form -------------------------------------------------------------------------------


def _date(values: MultiDict, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    text = (values.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.setdefault(name, []).append("Give a date as YYYY-MM-DD.")
        return None


def _int(values: MultiDict, name: str, errors: dict[str, list[str]]) -> int | None:
    text = (values.get(name) or "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        errors.setdefault(name, []).append("Give a whole number.")
        return None
    if not 0 <= number <= 3650:
        errors.setdefault(name, []).append("Between 0 and 3650.")
        return None
    return number


def parse_form(values: MultiDict, *, new: bool) -> dict[str, Any]:
    """The form's fields as the service takes them.

    :raises InvalidInput: for dates and numbers that are not.
    """
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "title": (values.get("title") or "").strip() or None,
        "datasets": [d for d in values.getlist("datasets") if d],
        "effective_on": _date(values, "effective_on", errors),
        "expires_on": _date(values, "expires_on", errors),
        "permitted_uses": [u for u in values.getlist("permitted_uses") if u],
        "acknowledgement": (values.get("acknowledgement") or "").strip() or None,
        "publication_review_days": _int(values, "publication_review_days", errors),
        "return_of_results": values.get("return_of_results") == "on",
        "return_of_results_text": (values.get("return_of_results_text") or "").strip() or None,
        "moratorium_until": _date(values, "moratorium_until", errors),
        "moratorium_months": _int(values, "moratorium_months", errors),
        "requires_custodian_signoff": values.get("requires_custodian_signoff") == "on",
    }
    signatories = []
    names = values.getlist("signatory_name")
    roles = values.getlist("signatory_role")
    sides = values.getlist("signatory_side")
    dates = values.getlist("signatory_signed_on")
    for n, name in enumerate(names):
        if not name.strip():
            continue
        signed = dates[n].strip() if n < len(dates) else ""
        signatories.append(
            {
                "name": name.strip(),
                "role": roles[n].strip() if n < len(roles) else None,
                "side": sides[n] if n < len(sides) else "",
                "signed_on": signed or None,
            }
        )
    data["signatories"] = signatories
    if new:
        data["reference"] = (values.get("reference") or "").strip()
        data["organisation_id"] = values.get("organisation_id") or None
    if errors:
        raise InvalidInput(errors)
    return data


def _values_of(agreement: Agreement) -> MultiDict:
    values: MultiDict = MultiDict()
    for key in (
        "title",
        "acknowledgement",
        "return_of_results_text",
        "publication_review_days",
        "moratorium_months",
    ):
        value = getattr(agreement, key)
        values[key] = "" if value is None else str(value)
    for key in ("effective_on", "expires_on", "moratorium_until"):
        value = getattr(agreement, key)
        values[key] = value.isoformat() if value else ""
    if agreement.return_of_results:
        values["return_of_results"] = "on"
    if agreement.requires_custodian_signoff:
        values["requires_custodian_signoff"] = "on"
    covered = services.covered_datasets([agreement])
    for i in agreement.dataset_ids:
        if i in covered:
            values.add("datasets", covered[i].identifier)
    for use in agreement.permitted_uses or []:
        values.add("permitted_uses", use)
    for s in agreement.signatories or []:
        values.add("signatory_name", s.get("name") or "")
        values.add("signatory_role", s.get("role") or "")
        values.add("signatory_side", s.get("side") or "")
        values.add("signatory_signed_on", s.get("signed_on") or "")
    return values


def _organisations(who: Any) -> list[Any]:
    from core.db import get_session
    from core.models import Organisation

    own = services.policies_managed(who)
    query = get_session().query(Organisation).order_by(Organisation.name)
    rows = list(query)
    return rows if own is None else [o for o in rows if o.id in own]


def _form_page(
    *,
    values: MultiDict,
    errors: dict[str, list[str]],
    agreement: Agreement | None,
    organisation_id: str | None,
    etag: str | None,
    organisations: list[Any],
    status: int = 200,
) -> Any:
    signatories = list(
        zip(
            values.getlist("signatory_name"),
            values.getlist("signatory_role"),
            values.getlist("signatory_side"),
            values.getlist("signatory_signed_on"),
            strict=False,
        )
    )
    signatories += [("", "", "", "")] * SIGNATORY_ROWS
    body = render_template(
        "agreements/form.html",
        values=values,
        errors=errors,
        agreement=agreement,
        organisations=organisations,
        organisation_id=organisation_id,
        dataset_choices=services.organisation_datasets(organisation_id) if organisation_id else [],
        duo_choices=services.duo_terms(),
        signatories=signatories,
        sides=[s.value for s in SignatorySide],
        etag=etag,
        labels=LABELS,
    )
    return body, status


def _errors_of(exc: ServiceError) -> dict[str, list[str]]:
    return dict(exc.errors or {"_form": [exc.detail]})


@bp.route("/agreements/new", methods=["GET", "POST"])
def new_agreement() -> Any:
    who = actor()
    require_login(who)
    require(who, Permission.AGREEMENT_MANAGE)
    organisations = _organisations(who)
    values = request.form.copy() if request.method == "POST" else MultiDict(request.args)
    organisation_id = values.get("organisation_id") or (
        organisations[0].id if len(organisations) == 1 else None
    )
    if organisation_id and organisation_id not in {o.id for o in organisations}:
        organisation_id = None
    page: dict[str, Any] = {
        "agreement": None,
        "organisation_id": organisation_id,
        "etag": None,
        "organisations": organisations,
    }
    if request.method == "GET" or values.get("choose") == "1":
        return _form_page(values=values, errors={}, **page)
    try:
        created = services.create_agreement(who, parse_form(values, new=True))
    except InvalidInput as exc:
        return _form_page(values=values, errors=_errors_of(exc), status=422, **page)
    flash(
        f"The draft agreement {created.reference} is saved. Upload its signed document, then "
        "activate it.",
        "success",
    )
    return redirect(url_for("agreements.agreement_page", agreement_id=created.id))


@bp.route("/agreements/<agreement_id>/edit", methods=["GET", "POST"])
def edit_agreement(agreement_id: str) -> Any:
    who = actor()
    require_login(who)
    agreement = services.get_agreement(who, agreement_id)
    require(who, Permission.AGREEMENT_MANAGE, agreement)
    if AGREEMENT.row(AGREEMENT.state_of(agreement), "edit") is None:
        raise Conflict(refusal(AGREEMENT, who, agreement, "edit"))
    page: dict[str, Any] = {
        "agreement": agreement,
        "organisation_id": agreement.organisation_id,
        "organisations": [agreement.organisation],
    }
    if request.method == "GET":
        return _form_page(
            values=_values_of(agreement), errors={}, etag=services.etag(agreement), **page
        )
    values = request.form.copy()
    sent = _revision()
    try:
        services.update_agreement(who, agreement_id, parse_form(values, new=False), sent)
    except InvalidInput as exc:
        return _form_page(values=values, errors=_errors_of(exc), etag=sent, status=422, **page)
    except PreconditionFailed:
        current = services.get_agreement(who, agreement_id)
        return _form_page(
            values=values,
            errors={"_form": [STALE]},
            etag=services.etag(current),
            status=412,
            **{**page, "agreement": current},
        )
    flash("The draft is saved.", "success")
    return redirect(url_for("agreements.agreement_page", agreement_id=agreement_id))
