"""HTML pages of mapping review: a draft's suggested, accepted and rejected mappings and its
unmapped variables, with a term picker per row, the mapping assistant and bulk acceptance.

Row actions answer JSON to the page's script (``static/mapping-review.js``) and redirect with a
message for a plain form, so the page works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
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
    variable_counts,
)
from catalogue.dictionary import services as variables
from catalogue.dictionary.services import VariableEntry
from catalogue.mappings import services as mapping_service
from catalogue.mappings import workflow as review
from catalogue.mappings.schemas import MappingEntrySchema
from catalogue.mappings.services import MappingEntry
from catalogue.models import Mapping, MappingStatus
from core.api import actor
from core.db import get_session
from core.errors import InvalidInput, wants_json
from core.forms import form_action
from core.pagination import Page
from core.policies import Actor, require_login
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
    unmapped: Page[VariableEntry] | None = None
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
    suggestions: dict[str, list[MappingEntry]] = {}
    for variable in unmapped.items if unmapped is not None else []:
        suggestions[variable.name] = sorted(
            (
                m
                for m in variable.mappings
                if m.status == MappingStatus.SUGGESTED and m.subject_value is None
            ),
            key=lambda m: -(m.confidence or 0),
        )
    return render_template(
        "mappings/mappings.html",
        suggestion_actions=review.actions_in(who, MappingStatus.SUGGESTED, draft, dataset),
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


def _back(identifier: str) -> str:
    """The review page the form was sent from (only that page, whatever ``back`` says)."""
    default = url_for("mappings.mappings", identifier=identifier)
    back = request.form.get("back") or ""
    if back.startswith(default) and "//" not in back and "\\" not in back:
        return back
    return default


def _picked_term(form: MultiDict[str, str]) -> str | None:
    """The term chosen in a row's picker: the CURIE the autocomplete wrote, or (without
    JavaScript) what was typed: a CURIE, or a label or synonym that names one term exactly."""
    chosen = (form.get("object") or "").strip()
    if chosen:
        return chosen
    typed = (form.get("term") or "").strip()
    if not typed:
        return None
    prefix = (form.get("ontology") or "").strip().upper() or None
    try:
        return ontology.resolve_term(actor(), typed, ontology=prefix, field="object_id")
    except InvalidInput:
        if ":" in typed:
            return typed  # a CURIE: the service says whether such a term is loaded
        raise


def _row_action(
    identifier: str, act: Callable[[Actor], Mapping], message: Callable[[Mapping], str]
) -> Any:
    """A row's button or picker: JSON for the page's script (the message, the dataset's new
    ETag and the mapping with the actions it allows now; a refusal is problem+json), else
    the shared form handler (a message, back to the review page)."""
    if not wants_json():
        back = _back(identifier)
        return form_action(
            act, success=message, done=lambda _mapping: back, back=back, stale=STALE_FORM
        )
    who = actor()
    require_login(who)
    mapping = act(who)
    entry = mapping_service.get_mapping(who, identifier, mapping.id)
    body = MappingEntrySchema().dump(entry)
    body["object_url"] = url_for("ontologies.term", curie=entry.object_id)
    dataset = datasets.get_dataset(who, identifier)
    return jsonify({"message": message(mapping), "etag": datasets.etag(dataset), "mapping": body})


def _subject(mapping: Mapping) -> str:
    code = mapping.value_code
    return mapping.variable.name + (f" = {code}" if code is not None else "")


ROW_MESSAGES = {
    "accept": "Accepted",
    "reject": "Rejected",
    "reopen": "Re-opened",
    "change_term": "Mapped",
    "edit": "Changed",
}


@bp.post("/datasets/<identifier>/mappings/<int:mapping_id>")
def review_mapping(identifier: str, mapping_id: int) -> Any:
    """One review action on a mapping (``review_action``: accept, reject, reopen, change_term with
    the picker's ``object``/``term``); a form that names the ``status`` it wants instead is
    taken as :func:`catalogue.mappings.services.review_action` says."""
    done: list[str] = []

    def act(who: Actor) -> Mapping:
        # 404 / 403 before the input is read
        datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
        action = (request.form.get("review_action") or "").strip() or None
        picked = _picked_term(request.form)
        if action is None:
            status = (request.form.get("status") or "").strip() or None
            if status is None and picked is None:
                raise InvalidInput.field("object_id", "Choose a term first.")
            current = get_session().get(Mapping, mapping_id)
            action = mapping_service.review_action(
                current.status if current else None, status, picked
            )
        if action not in ROW_MESSAGES:
            raise InvalidInput.field("review_action", "Use one of " + ", ".join(ROW_MESSAGES) + ".")
        if action == "change_term" and picked is None:
            raise InvalidInput.field("object_id", "Choose a term first.")
        done.append(action)
        outcome = mapping_service.apply_review(
            who, identifier, mapping_id, action, revision_field(), {"object_id": picked}
        )
        return outcome.obj.mapping

    def message(mapping: Mapping) -> str:
        return f"{ROW_MESSAGES[done[-1]]}: {_subject(mapping)} → {mapping.object_curie}."

    return _row_action(identifier, act, message)


@bp.post("/datasets/<identifier>/mappings/new")
def add_mapping(identifier: str) -> Any:
    """Map a variable (or one of its values) to a term chosen in the picker."""

    def act(who: Actor) -> Mapping:
        # 404 / 403 before the input is read
        datasets.editable_dataset(who, identifier, datasets.UNCHECKED)
        data = {
            "variable": request.form.get("variable"),
            "subject_value": (request.form.get("subject_value") or "").strip() or None,
            "object_id": _picked_term(request.form),
        }
        return mapping_service.create_mapping(who, identifier, data, revision_field())

    return _row_action(identifier, act, lambda m: f"Mapped: {m.variable.name} → {m.object_curie}.")


@bp.post("/datasets/<identifier>/mappings/suggest")
def suggest_mappings(identifier: str) -> WerkzeugResponse:
    def message(counts: dict[str, int]) -> str:
        return (
            f"The mapping assistant looked at {counts['variables']:,} unmapped variables and "
            f"{counts['values']:,} values and proposed {counts['suggested']:,} mappings for "
            f"{counts['subjects']:,} of them."
        )

    return form_action(
        lambda who: mapping_service.suggest(who, identifier, revision_field()),
        success=message,
        done=url_for("mappings.mappings", identifier=identifier, show="suggested"),
        back=_back(identifier),
        stale=STALE_FORM,
    )


@bp.post("/datasets/<identifier>/mappings/accept-all")
def accept_mappings(identifier: str) -> WerkzeugResponse:
    threshold = (request.form.get("min_confidence") or "").strip()

    def message(counts: dict[str, int]) -> str:
        return (
            f"Accepted {counts['accepted']:,} suggestions with a score of at least {threshold} "
            f"({counts['withdrawn']:,} alternatives withdrawn)."
        )

    # the service parses the threshold and names the field when it is not a number
    return form_action(
        lambda who: mapping_service.bulk_accept(who, identifier, threshold, revision_field()),  # type: ignore[arg-type]
        success=message,
        done=_back(identifier),
        back=_back(identifier),
        stale=STALE_FORM,
    )
