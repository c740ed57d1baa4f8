"""HTML pages of mapping review: a draft's suggested, accepted and rejected mappings and its
unmapped variables, with a term picker per row, the mapping assistant and bulk acceptance.

Row actions answer JSON to the page's script (``static/mapping-review.js``) and redirect with a
message for a plain form, so the page works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue.datasets import services as datasets
from catalogue.datasets.views import (
    STALE_FORM,
    VariableCounts,
    closed_page,
    open_draft_or_none,
    page_number,
    revision_field,
    terms_by_curie,
    variable_counts,
)
from catalogue.dictionary import services as variables
from catalogue.mappings import services as mapping_service
from catalogue.models import (
    Mapping,
    MappingStatus,
)
from core.api import actor
from core.errors import (
    Conflict,
    InvalidInput,
    PreconditionFailed,
    wants_json,
)
from core.pagination import Page
from core.policies import require_login
from ontologies import services as ontology

bp = Blueprint("mappings", __name__, template_folder="templates")


# --- mapping review -------------------------------------------------------------------------

MAPPING_VIEWS = {
    "suggested": "Suggestions",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "unmapped": "Unmapped variables",
}
MAPPINGS_PER_PAGE = 100
DEFAULT_THRESHOLD = 0.8
PICK_ONTOLOGIES = ("HV", "HAEM")


@bp.get("/datasets/<identifier>/mappings")
def mappings(identifier: str) -> Any:
    who = actor()
    require_login(who)
    dataset = datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
    draft = open_draft_or_none(dataset)
    if draft is None:
        return closed_page(dataset, "mappings")
    show = request.args.get("show", "suggested")
    if show not in MAPPING_VIEWS:
        show = "suggested"
    totals = {
        status.value: mapping_service.list_mappings(
            who, identifier, status=status, per_page=1
        ).total
        for status in MappingStatus
    }
    counts = variable_counts([draft.id]).get(draft.id, VariableCounts())
    totals["unmapped"] = counts.variables - counts.mapped
    entries: Page[Any] | None = None
    unmapped: Page[dict[str, Any]] | None = None
    if show == "unmapped":
        unmapped = variables.list_variables(
            who,
            identifier,
            draft.number,
            mapped=False,
            page=page_number(),
            per_page=MAPPINGS_PER_PAGE,
        )
    else:
        entries = mapping_service.list_mappings(
            who, identifier, status=show, page=page_number(), per_page=MAPPINGS_PER_PAGE
        )
    suggestions: dict[str, list[dict[str, Any]]] = {}
    for variable in unmapped.items if unmapped is not None else []:
        suggestions[variable["name"]] = sorted(
            (
                m
                for m in variable["mappings"]
                if m["status"] == MappingStatus.SUGGESTED.value and m["subject_value"] is None
            ),
            key=lambda m: -(m["confidence"] or 0),
        )
    return render_template(
        "mappings/mappings.html",
        dataset=dataset,
        version=draft,
        show=show,
        views=MAPPING_VIEWS,
        totals=totals,
        counts=counts,
        entries=entries,
        unmapped=unmapped,
        suggestions=suggestions,
        threshold=_threshold_arg(),
        etag=datasets.etag(dataset),
        ontologies=PICK_ONTOLOGIES,
        back=request.full_path.rstrip("?"),
    )


def _threshold_arg() -> str:
    value = request.args.get("threshold", "")
    try:
        number = float(value)
    except ValueError:
        return f"{DEFAULT_THRESHOLD:g}"
    return f"{number:g}" if 0 <= number <= 1 else f"{DEFAULT_THRESHOLD:g}"


def _mappings_back(identifier: str) -> WerkzeugResponse:
    """Back to the review page the form was sent from (only that page, whatever ``back`` says)."""
    default = url_for("mappings.mappings", identifier=identifier)
    back = request.form.get("back") or ""
    if back.startswith(default) and "//" not in back and "\\" not in back:
        return redirect(back)
    return redirect(default)


def _picked_term(form: MultiDict[str, str]) -> str | None:
    """The term chosen in a row's picker: the CURIE the autocomplete wrote, or (without
    JavaScript) what was typed: a CURIE, or a label or synonym that names one term exactly."""
    chosen = (form.get("object") or "").strip()
    if chosen:
        return chosen
    typed = (form.get("term") or "").strip()
    if not typed:
        return None
    ontology_prefix = (form.get("ontology") or "").strip().upper() or None
    hits = ontology.search_terms(actor(), typed, ontology=ontology_prefix, limit=1)
    if hits and hits[0].match in {"identifier", "exact_label", "exact_synonym"}:
        return hits[0].term.curie
    if ":" in typed:
        return typed  # let the service say whether such a term is loaded
    raise InvalidInput.field(
        "object_id",
        f"No term is called “{typed}”. Choose one from the suggestions, or give its CURIE.",
    )


def _row_result(identifier: str, mapping: Mapping, message: str) -> Any:
    """JSON for the review page's script, or a redirect with the message for a plain form."""
    dataset = datasets.get_dataset(actor(), identifier)
    if wants_json():
        label = terms_by_curie([mapping.object_curie]).get(mapping.object_curie)
        return jsonify(
            {
                "message": message,
                "etag": datasets.etag(dataset),
                "mapping": {
                    "id": mapping.id,
                    "status": mapping.status.value,
                    "object_id": mapping.object_curie,
                    "object_label": label.label if label else None,
                    "object_url": url_for("ontologies.term", curie=mapping.object_curie),
                    "variable": mapping.variable.name,
                    "subject_value": mapping.value_code,
                    "confidence": mapping.confidence,
                    "reason": mapping.reason,
                    "author": mapping.author_label,
                },
            }
        )
    flash(message, "success")
    return _mappings_back(dataset.identifier)


def _row_failed(identifier: str, exc: InvalidInput | PreconditionFailed | Conflict) -> Any:
    if wants_json():
        raise exc
    if isinstance(exc, PreconditionFailed):
        flash(STALE_FORM, "error")
    else:
        messages = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.detail]
        flash(" ".join(messages), "error")
    return _mappings_back(identifier)


@bp.post("/datasets/<identifier>/mappings/<int:mapping_id>")
def review_mapping(identifier: str, mapping_id: int) -> Any:
    """Accept or reject a mapping, or replace its term (``object``/``term``)."""
    who = actor()
    require_login(who)
    # 404 / 403 before the input is read
    datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
    status = (request.form.get("status") or "").strip() or None
    try:
        picked = _picked_term(request.form)
        if status is None and picked is None:
            raise InvalidInput.field("object_id", "Choose a term first.")
        mapping = mapping_service.review_mapping(
            who, identifier, mapping_id, status, picked, revision_field()
        )
    except (InvalidInput, PreconditionFailed, Conflict) as exc:
        return _row_failed(identifier, exc)
    term = f"{mapping.object_curie}"
    subject = mapping.variable.name + (
        f" = {mapping.value_code}" if mapping.value_code is not None else ""
    )
    verb = "Accepted" if mapping.status is MappingStatus.ACCEPTED else "Rejected"
    if picked and mapping.status is MappingStatus.ACCEPTED:
        verb = "Mapped"
    return _row_result(identifier, mapping, f"{verb}: {subject} → {term}.")


@bp.post("/datasets/<identifier>/mappings/new")
def add_mapping(identifier: str) -> Any:
    """Map a variable (or one of its values) to a term chosen in the picker."""
    who = actor()
    require_login(who)
    # 404 / 403 before the input is read
    datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
    try:
        picked = _picked_term(request.form)
        data = {
            "variable": request.form.get("variable"),
            "subject_value": (request.form.get("subject_value") or "").strip() or None,
            "object_id": picked,
        }
        mapping = mapping_service.create_mapping(who, identifier, data, revision_field())
    except (InvalidInput, PreconditionFailed, Conflict) as exc:
        return _row_failed(identifier, exc)
    return _row_result(
        identifier, mapping, f"Mapped: {mapping.variable.name} → {mapping.object_curie}."
    )


@bp.post("/datasets/<identifier>/mappings/suggest")
def suggest_mappings(identifier: str) -> WerkzeugResponse:
    who = actor()
    require_login(who)
    try:
        counts = mapping_service.suggest(who, identifier, revision_field())
    except (PreconditionFailed, Conflict) as exc:
        flash(STALE_FORM if isinstance(exc, PreconditionFailed) else exc.detail, "error")
        return _mappings_back(identifier)
    flash(
        f"The mapping assistant looked at {counts['variables']:,} unmapped variables and "
        f"{counts['values']:,} values and proposed {counts['suggested']:,} mappings for "
        f"{counts['subjects']:,} of them.",
        "success",
    )
    return redirect(url_for("mappings.mappings", identifier=identifier, show="suggested"))


@bp.post("/datasets/<identifier>/mappings/accept-all")
def accept_mappings(identifier: str) -> WerkzeugResponse:
    who = actor()
    require_login(who)
    threshold = (request.form.get("min_confidence") or "").strip()
    try:
        # the service parses the threshold and names the field when it is not a number
        counts = mapping_service.bulk_accept(who, identifier, threshold, revision_field())  # type: ignore[arg-type]
    except (InvalidInput, PreconditionFailed, Conflict) as exc:
        return _row_failed(identifier, exc)
    flash(
        f"Accepted {counts['accepted']:,} suggestions with a score of at least {threshold} "
        f"({counts['withdrawn']:,} alternatives withdrawn).",
        "success",
    )
    return _mappings_back(identifier)
