"""HTML pages of standard variable sets, feasibility and the variable-level question.

Everything works without JavaScript: the question page is a plain GET form (a term typed into
the add field is resolved here: a CURIE, an IRI, or a name the autocomplete would match
exactly), and the set form takes its terms one per line. ``static/variable-question.js`` and
``static/standard-set-form.js`` only add the term autocomplete (the dataset form's widget).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from catalogue.standards import questions, services
from catalogue.standards.models import StandardSetStatus, StandardVariableSet
from catalogue.standards.schemas import StandardSetInputSchema, StandardSetUpdateSchema
from catalogue.stats import counts
from core import audit
from core.api import actor
from core.errors import Conflict, InvalidInput, PreconditionFailed, flatten_webargs_messages
from core.forms import form_action
from core.models import Role
from core.nav import NavEntry, everyone, has_role, register
from core.permissions import Permission
from core.policies import can, require, require_login
from ontologies import services as ontology
from ontologies.identifiers import UnknownIdentifier, normalise_curie

bp = Blueprint("standards", __name__, template_folder="templates")
register(NavEntry("Find variables", "standards.variable_question", everyone, "main", 22))
register(NavEntry("Standard sets", "standards.set_list", everyone, "main", 35))
register(NavEntry("Standard sets", "standards.manage_sets", has_role(Role.ADMIN), "admin", 60))

QUESTION_PER_PAGE = 25
FEASIBILITY_PER_PAGE = 25
FORM_LABELS = {
    "identifier": "Identifier",
    "name": "Name",
    "version": "Version",
    "description": "Description",
    "source": "Source",
    "source_url": "Source URL",
    "note": "Note",
    "diseases": "Diseases",
    "terms": "Terms",
    "_form": "Form",
}
STALE_SET = (
    "Someone changed this set after you opened this page, so nothing was saved. The form now "
    "shows what you typed; saving again replaces their change with it."
)


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _can_manage() -> bool:
    return can(actor(), Permission.STANDARD_SET_MANAGE)


# --- the variable-level question ------------------------------------------------------------


@bp.get("/search/variables")
def variable_question() -> Any:
    given = questions.split_terms(request.args.getlist("terms"))
    typed = (request.args.get("term_add") or "").strip()
    errors: dict[str, list[str]] = {}
    if typed:
        try:  # the HARMONY core variables first, then any vocabulary
            curie = ontology.resolve_term(
                actor(), typed, ontology=("HV", None), field="term_add", example="HV:0000124"
            )
        except InvalidInput as exc:
            errors.update(exc.errors or {})
        else:
            query = [("terms", t) for t in dict.fromkeys([*given, curie])]
            return redirect(url_for("standards.variable_question") + "?" + urlencode(query))
    terms = []
    answer = None
    if given:
        try:
            terms = questions.resolve_terms(given)
        except InvalidInput as exc:
            errors["terms"] = (exc.errors or {}).get("terms", [exc.detail])
            # keep the terms that are known, so that one typo does not empty the table
            known = services.terms_by_curie(_curies_of(given))
            terms = [known[c] for c in _curies_of(given) if c in known]
        if terms:
            answer = questions.variable_question(
                actor(), terms, page=_page_number(), per_page=QUESTION_PER_PAGE
            )
    status = 422 if errors else 200
    return render_template(
        "standards/variable_question.html",
        terms=terms,
        answer=answer,
        errors=errors,
        typed=typed if "term_add" in errors else "",
        term_args=[t.curie for t in terms],
    ), status


def _curies_of(given: list[str]) -> list[str]:
    curies = []
    for text in given:
        try:
            curies.append(normalise_curie(text))
        except UnknownIdentifier:
            continue
    return list(dict.fromkeys(curies))


# --- sets: reading --------------------------------------------------------------------------


@bp.get("/standard-sets")
def set_list() -> str:
    page = services.list_sets(actor(), status=StandardSetStatus.ACTIVE, per_page=200)
    return render_template(
        "standards/standard_sets.html",
        sets=page.items,
        labels=_labels_of(page.items),
        manage=False,
        can_manage=_can_manage(),
    )


@bp.get("/admin/standard-sets")
def manage_sets() -> str:
    who = actor()
    require_login(who)
    require(who, Permission.STANDARD_SET_MANAGE)
    page = services.list_sets(who, per_page=200)
    return render_template(
        "standards/standard_sets.html",
        sets=page.items,
        labels=_labels_of(page.items),
        manage=True,
        can_manage=True,
    )


def _labels_of(sets: Sequence[StandardVariableSet]) -> dict[str, str]:
    curies = [d.term_curie for s in sets for d in s.diseases]
    return {c: t.label for c, t in services.terms_by_curie(curies).items()}


@bp.get("/standard-sets/<identifier>")
def show_set(identifier: str) -> str:
    standard_set = services.get_set(actor(), identifier)
    curies = [t.term_curie for t in standard_set.terms] + [
        d.term_curie for d in standard_set.diseases
    ]
    return render_template(
        "standards/standard_set.html",
        standard_set=standard_set,
        terms=services.terms_by_curie(curies),
        can_manage=_can_manage(),
        etag=services.etag(standard_set),
        history=audit.history_for_page(actor(), "standard_set", standard_set.identifier),
    )


@bp.get("/standard-sets/<identifier>/feasibility")
def feasibility(identifier: str) -> str:
    who = actor()
    result = services.feasibility(
        who, identifier, page=_page_number(), per_page=FEASIBILITY_PER_PAGE
    )
    return render_template(
        "standards/feasibility.html",
        result=result,
        standard_set=result.standard_set,
        rule=counts.rule_for(who),
    )


# --- sets: managing -------------------------------------------------------------------------

TERM_LINE = re.compile(r"^\s*(?P<curie>[^|]+?)\s*(?:\|\s*(?P<note>.*?))?\s*$")


def parse_term_lines(text: str) -> list[dict[str, Any]]:
    """``CURIE | note`` per line (the note is optional; blank lines are skipped)."""
    items = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = TERM_LINE.match(line)
        if match is None:  # pragma: no cover - the pattern matches any non-blank line
            continue
        items.append({"curie": match.group("curie"), "note": match.group("note") or None})
    return items


def term_lines(standard_set: StandardVariableSet) -> str:
    return "\n".join(t.term_curie + (f" | {t.note}" if t.note else "") for t in standard_set.terms)


def _form_input(form: MultiDict[str, str], new: bool) -> dict[str, Any]:
    def text(name: str) -> str | None:
        value = (form.get(name) or "").strip()
        return value or None

    data: dict[str, Any] = {
        "name": (form.get("name") or "").strip(),
        "version": (form.get("version") or "").strip(),
        "description": text("description"),
        "source": text("source"),
        "source_url": text("source_url"),
        "note": text("note"),
        "diseases": [
            p.strip() for p in re.split(r"[,;\s]+", form.get("diseases") or "") if p.strip()
        ],
        "terms": parse_term_lines(form.get("terms") or ""),
    }
    if new and text("identifier"):
        data["identifier"] = text("identifier")
    return data


def _field_of(key: str) -> str:
    head = key.split(".")[0]
    return head if head in FORM_LABELS else "_form"


def _load(form: MultiDict[str, str], new: bool) -> dict[str, Any]:
    """:raises InvalidInput: with the form's field names."""
    raw = _form_input(form, new)
    schema = StandardSetInputSchema() if new else StandardSetUpdateSchema()
    try:
        data: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        flat = flatten_webargs_messages({"json": exc.messages})
        errors: dict[str, list[str]] = {}
        for key, messages in flat.items():
            prefix = ""
            parts = key.split(".")
            if parts[0] == "terms" and len(parts) > 1 and parts[1].isdigit():
                prefix = f"Line {int(parts[1]) + 1}: "
            if parts[0] == "diseases" and len(parts) > 1 and parts[1].isdigit():
                prefix = f"Disease {int(parts[1]) + 1}: "
            errors.setdefault(_field_of(key), []).extend(prefix + m for m in messages)
        raise InvalidInput(errors) from exc
    return data


def _values_of(standard_set: StandardVariableSet) -> MultiDict[str, str]:
    return MultiDict(
        {
            "name": standard_set.name,
            "version": standard_set.version,
            "description": standard_set.description or "",
            "source": standard_set.source or "",
            "source_url": standard_set.source_url or "",
            "note": standard_set.note or "",
            "diseases": ", ".join(d.term_curie for d in standard_set.diseases),
            "terms": term_lines(standard_set),
        }
    )


def _form_page(
    *,
    values: MultiDict[str, str],
    errors: dict[str, list[str]],
    standard_set: StandardVariableSet | None,
    etag: str | None,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    return render_template(
        "standards/standard_set_form.html",
        values=values,
        errors=errors,
        standard_set=standard_set,
        etag=etag,
        notice=notice,
        field_labels=FORM_LABELS,
    ), status


@bp.route("/standard-sets/new", methods=["GET", "POST"])
def new_set() -> Any:
    who = actor()
    require_login(who)
    require(who, Permission.STANDARD_SET_MANAGE)
    if request.method == "GET":
        return _form_page(values=MultiDict(), errors={}, standard_set=None, etag=None)
    values = request.form.copy()
    try:
        created = services.create_set(who, _load(values, new=True))
    except InvalidInput as exc:
        errors = {_field_of(k): v for k, v in (exc.errors or {"_form": [exc.detail]}).items()}
        return _form_page(values=values, errors=errors, standard_set=None, etag=None, status=422)
    flash(f"“{created.name}” is saved. Every dataset page now shows its coverage.", "success")
    return redirect(url_for("standards.show_set", identifier=created.identifier))


@bp.route("/standard-sets/<identifier>/edit", methods=["GET", "POST"])
def edit_set(identifier: str) -> Any:
    who = actor()
    require_login(who)
    require(who, Permission.STANDARD_SET_MANAGE)
    standard_set = services.get_set(who, identifier)
    if standard_set.status is StandardSetStatus.RETIRED:
        raise Conflict("This set is retired; it no longer changes.")
    if request.method == "GET":
        return _form_page(
            values=_values_of(standard_set),
            errors={},
            standard_set=standard_set,
            etag=services.etag(standard_set),
        )
    values = request.form.copy()
    sent = request.form.get("revision") or None
    try:
        services.update_set(who, identifier, _load(values, new=False), sent)
    except InvalidInput as exc:
        errors = {_field_of(k): v for k, v in (exc.errors or {"_form": [exc.detail]}).items()}
        return _form_page(
            values=values, errors=errors, standard_set=standard_set, etag=sent, status=422
        )
    except PreconditionFailed:
        current = services.get_set(who, identifier)
        return _form_page(
            values=values,
            errors={},
            standard_set=current,
            etag=services.etag(current),
            status=412,
            notice=STALE_SET,
        )
    flash("Saved.", "success")
    return redirect(url_for("standards.show_set", identifier=identifier))


@bp.post("/standard-sets/<identifier>/retire")
def retire_set(identifier: str) -> WerkzeugResponse:
    page = url_for("standards.show_set", identifier=identifier)
    return form_action(
        lambda who: services.retire_set(who, identifier, request.form.get("revision") or None),
        success="The set is retired: it stays readable here, and dataset pages no longer show it.",
        done=page,
        back=page,
        stale=STALE_SET.split(". The form")[0] + ".",
    )


# --- the dataset page's coverage bars -------------------------------------------------------


@bp.app_template_global("standard_set_coverage")
def standard_set_coverage(version: Any) -> list[services.SetCoverage]:
    """For ``standards/_set_coverage.html`` on the dataset page: the version shown there was
    read through the dataset service, so the caller may see it."""
    return services.coverage_of_version(version)
